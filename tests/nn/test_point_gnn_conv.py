"""PointGNNConv against a loop over edges written from the Point-GNN update."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import PointGNNConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager


def nets():
    return (torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh()),
            torch.nn.Sequential(torch.nn.Linear(7, 4), torch.nn.ReLU()),
            torch.nn.Linear(4, 4))


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12), st.sampled_from(["max", "add"]))
def test_point_gnn_conv_matches_formula(graph, aggr):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = PointGNNConv(*nets(), aggr=aggr).double()
    x = torch.randn(n, 4, dtype=torch.float64)
    pos = torch.randn(n, 3, dtype=torch.float64)
    agg = torch.zeros(n, 4, dtype=torch.float64)
    with torch.no_grad():
        for i, nbrs in enumerate(neighbour_lists(edge_index, n)):
            if nbrs:
                e = torch.stack([conv.mlp_f(torch.cat([pos[j] - pos[i] + conv.mlp_h(x[i]), x[j]]))
                                 for _, j in nbrs])
                agg[i] = e.max(0).values if aggr == "max" else e.sum(0)
        expected = conv.mlp_g(agg) + x
    torch.testing.assert_close(conv(x, pos, edge_index), expected)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = PointGNNConv(*nets())

    def forward(self, x, pos, edge_index):
        return self.conv(x, pos, edge_index)


@settings(max_examples=5, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12))
def test_point_gnn_conv_lowered_equals_eager(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Model().double(), torch.randn(n, 4).double(),
                                 torch.randn(n, 3).double(), edge_index)


def test_point_gnn_conv_repr_and_bad_input():
    h, f, g = torch.nn.Linear(4, 3), torch.nn.Linear(7, 4), torch.nn.Linear(4, 4)
    conv = PointGNNConv(h, f, g)
    assert str(conv) == f"PointGNNConv(\n  mlp_h={h},\n  mlp_f={f},\n  mlp_g={g},\n)"
    with pytest.raises(ValueError, match="'x' has 3 rows but 'pos' has 2"):
        conv(torch.randn(3, 4), torch.randn(2, 3), torch.tensor([[0], [1]]))
