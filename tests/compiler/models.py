"""Models shared by the compiler tests."""
import torch
import torch.nn.functional as F

import gfx.nn as gnn


class EdgeGate(gnn.MessagePassing):
    """A user layer: gated messages from both endpoints and an edge attribute."""

    def __init__(self, channels: int, aggr: str = "sum"):
        super().__init__(aggr=aggr)
        self.lin = gnn.Linear(channels, channels)

    def forward(self, x, edge_index, edge_attr):
        return self.propagate(edge_index, x=self.lin(x), edge_attr=edge_attr)

    def message(self, x_i, x_j, edge_attr):
        gate = torch.sigmoid(x_i + x_j)
        return gate * x_j * edge_attr.view(-1, 1)

    def update(self, aggr_out, x):
        return aggr_out + x


class GCN(torch.nn.Module):
    def __init__(self, cin=4, hidden=8, cout=3):
        super().__init__()
        self.conv1 = gnn.GCNConv(cin, hidden)
        self.conv2 = gnn.GCNConv(hidden, cout)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.5, training=self.training)
        x = F.relu(self.conv1(x, edge_index))
        return self.conv2(x, edge_index)


class SAGE(torch.nn.Module):
    def __init__(self, cin=4, hidden=8, cout=3, aggr="mean"):
        super().__init__()
        self.conv1 = gnn.SAGEConv(cin, hidden, aggr=aggr)
        self.conv2 = gnn.SAGEConv(hidden, cout, aggr=aggr)

    def forward(self, x, edge_index):
        return self.conv2(F.relu(self.conv1(x, edge_index)), edge_index)


class Bipartite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = gnn.SAGEConv((4, 2), 3, aggr="max")

    def forward(self, x_src, x_dst, edge_index):
        return self.conv((x_src, x_dst), edge_index)


class ReverseFlow(gnn.MessagePassing):
    def __init__(self):
        super().__init__(aggr="mean", flow="target_to_source")

    def forward(self, x, edge_index):
        return self.propagate(edge_index, x=x)

    def message(self, x_i, x_j):
        return x_j - x_i
