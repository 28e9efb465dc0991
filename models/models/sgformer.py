"""``SGFormer``: a one-layer-per-block global attention branch plus a GCN branch."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.aggr._dense import from_dense_groups, to_dense_groups
from gfx.nn.attention.sgformer import SGFormerAttention
from gfx.nn.conv.gcn_conv import GCNConv

torch.fx.wrap("to_dense_groups")  # see NOTE [dense groups while tracing]
torch.fx.wrap("from_dense_groups")


class SGModule(torch.nn.Module):
    """The global branch: input map, then ``num_layers`` simple-attention layers over
    the nodes of each graph, each averaged with its input (a residual of weight 1/2).

    .. math::
        \\mathbf{H}^{(0)} = \\mathrm{Dropout}(\\mathrm{ReLU}(\\mathrm{LN}_0(\\mathbf{X}
        \\mathbf{W} + \\mathbf{b}))), \\quad
        \\mathbf{H}^{(l)} = \\mathrm{Dropout}\\left(\\mathrm{ReLU}\\left(\\mathrm{LN}_l
        \\left(\\tfrac{1}{2}(\\mathrm{Attn}_l(\\mathbf{H}^{(l-1)}) + \\mathbf{H}^{(l-1)})
        \\right)\\right)\\right)

    The graphs of a batch are zero-padded to the largest one; as in the reference, the
    padding rows pass through the layers and act as keys (only their values are masked,
    see :class:`SGFormerAttention`), so a graph's result depends on the size of the
    largest graph in its batch.

    Args:
        in_channels (int): input features per node.
        hidden_channels (int): the width of the branch.
        num_layers (int, optional): attention layers. (default: ``2``)
        num_heads (int, optional): heads per attention layer. (default: ``1``)
        dropout (float, optional): dropout probability. (default: ``0.5``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int = 2,
                 num_heads: int = 1, dropout: float = 0.5):
        super().__init__()
        self.attns = torch.nn.ModuleList([
            SGFormerAttention(hidden_channels, num_heads, hidden_channels)
            for _ in range(num_layers)])
        self.fcs = torch.nn.ModuleList([torch.nn.Linear(in_channels, hidden_channels)])
        self.bns = torch.nn.ModuleList([torch.nn.LayerNorm(hidden_channels)
                                        for _ in range(num_layers + 1)])
        self.dropout = dropout

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        for module in list(self.attns) + list(self.fcs) + list(self.bns):
            module.reset_parameters()

    def forward(self, x: Tensor, batch: Optional[Tensor]) -> Tensor:
        """Node features ``[N, in_channels]`` -> ``[N, hidden_channels]``; attention runs
        within each graph of ``batch`` (all nodes form one graph when ``None``)."""
        dense, mask = to_dense_groups(x, batch, None, None)
        h = F.relu(self.bns[0](self.fcs[0](dense)))
        h = F.dropout(h, p=self.dropout, training=self.training)
        for attn, norm in zip(self.attns, self.bns[1:]):
            h = F.relu(norm(0.5 * (attn(h, mask) + h)))
            h = F.dropout(h, p=self.dropout, training=self.training)
        return from_dense_groups(h, batch, x.size(0))


class GraphModule(torch.nn.Module):
    """The local branch: input map, then ``num_layers`` GCN layers with batch norm,
    ReLU, dropout and a residual connection to the input map's output.

    .. math::
        \\mathbf{H}^{(0)} = \\mathrm{Dropout}(\\mathrm{ReLU}(\\mathrm{BN}_0(\\mathbf{X}
        \\mathbf{W} + \\mathbf{b}))), \\quad
        \\mathbf{H}^{(l)} = \\mathrm{Dropout}(\\mathrm{ReLU}(\\mathrm{BN}_l(
        \\mathrm{GCN}_l(\\mathbf{H}^{(l-1)})))) + \\mathbf{H}^{(0)}

    Args:
        in_channels (int): input features per node.
        hidden_channels (int): the width of the branch.
        num_layers (int, optional): GCN layers. (default: ``2``)
        dropout (float, optional): dropout probability. (default: ``0.5``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int = 2,
                 dropout: float = 0.5):
        super().__init__()
        self.convs = torch.nn.ModuleList([GCNConv(hidden_channels, hidden_channels)
                                          for _ in range(num_layers)])
        self.fcs = torch.nn.ModuleList([torch.nn.Linear(in_channels, hidden_channels)])
        self.bns = torch.nn.ModuleList([torch.nn.BatchNorm1d(hidden_channels)
                                        for _ in range(num_layers + 1)])
        self.dropout = dropout

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        for module in list(self.convs) + list(self.fcs) + list(self.bns):
            module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Node features ``[N, in_channels]`` -> ``[N, hidden_channels]``."""
        h = F.relu(self.bns[0](self.fcs[0](x)))
        h = first = F.dropout(h, p=self.dropout, training=self.training)
        for conv, norm in zip(self.convs, self.bns[1:]):
            out = F.relu(norm(conv(h, edge_index)))
            h = F.dropout(out, p=self.dropout, training=self.training) + first
        return h


class SGFormer(torch.nn.Module):
    """SGFormer (Wu et al., "SGFormer: Simplifying and Empowering Transformers for
    Large-Graph Representations"): a global simple-attention branch :math:`\\mathbf{Z}_T`
    (:class:`SGModule`) and a GCN branch :math:`\\mathbf{Z}_G` (:class:`GraphModule`),
    combined, mapped to the output and turned into log-probabilities:

    .. math::
        \\mathbf{Y} = \\log\\mathrm{softmax}\\left(\\left(w\\,\\mathbf{Z}_G +
        (1 - w)\\,\\mathbf{Z}_T\\right)\\mathbf{W}_{\\mathrm{fc}} +
        \\mathbf{b}_{\\mathrm{fc}}\\right)

    for ``aggregate="add"`` (:math:`w` = ``graph_weight``), or with
    :math:`[\\mathbf{Z}_T \\Vert \\mathbf{Z}_G]` in place of the weighted sum for
    ``aggregate="cat"``.

    Args:
        in_channels (int): input features per node.
        hidden_channels (int): the width of both branches.
        out_channels (int): output features per node.
        trans_num_layers (int, optional): attention layers. (default: ``2``)
        trans_num_heads (int, optional): attention heads. (default: ``1``)
        trans_dropout (float, optional): dropout of the global branch. (default: ``0.5``)
        gnn_num_layers (int, optional): GCN layers. (default: ``3``)
        gnn_dropout (float, optional): dropout of the GCN branch. (default: ``0.5``)
        graph_weight (float, optional): the weight :math:`w` of the GCN branch.
            (default: ``0.5``)
        aggregate (str, optional): ``"add"`` or ``"cat"``. (default: ``"add"``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 trans_num_layers: int = 2, trans_num_heads: int = 1,
                 trans_dropout: float = 0.5, gnn_num_layers: int = 3,
                 gnn_dropout: float = 0.5, graph_weight: float = 0.5,
                 aggregate: str = "add"):
        super().__init__()
        if aggregate not in ("add", "cat"):
            raise ValueError(f"SGFormer: 'aggregate' must be 'add' or 'cat', got "
                             f"{aggregate!r}")
        self.trans_conv = SGModule(in_channels, hidden_channels, trans_num_layers,
                                   trans_num_heads, trans_dropout)
        self.graph_conv = GraphModule(in_channels, hidden_channels, gnn_num_layers,
                                      gnn_dropout)
        self.graph_weight = graph_weight
        self.aggregate = aggregate
        width = hidden_channels if aggregate == "add" else 2 * hidden_channels
        self.fc = torch.nn.Linear(width, out_channels)

    def reset_parameters(self) -> None:
        """Re-initialise both branches and the output map."""
        self.trans_conv.reset_parameters()
        self.graph_conv.reset_parameters()
        self.fc.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, batch: Optional[Tensor]) -> Tensor:
        """Node features ``[N, in_channels]``, ``edge_index`` ``[2, E]`` and the graph of
        each node ``batch`` ``[N]`` (``None``: one graph) -> ``[N, out_channels]``."""
        z_trans = self.trans_conv(x, batch)
        z_graph = self.graph_conv(x, edge_index)
        if self.aggregate == "add":
            z = self.graph_weight * z_graph + (1 - self.graph_weight) * z_trans
        else:
            z = torch.cat([z_trans, z_graph], dim=1)
        return F.log_softmax(self.fc(z), dim=-1)


__all__ = ["SGFormer"]
