"""NNConv / ECConv against a loop over edges: x_j times the matrix nn(e) makes."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import ECConv, NNConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager

REDUCE = {"mean": lambda t: t.mean(0), "add": lambda t: t.sum(0),
          "max": lambda t: t.max(0).values}


def edge_net():
    return torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.Tanh(), torch.nn.Linear(5, 12))


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12, bipartite=True),
       st.sampled_from(["mean", "add", "max"]), st.booleans(), st.booleans())
def test_nn_conv_matches_formula(graph, aggr, root, bias):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = NNConv((3, 2), 4, edge_net(), aggr=aggr, root_weight=root, bias=bias).double()
    if bias:
        torch.nn.init.normal_(conv.bias)
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    e = torch.randn(edge_index.shape[1], 2, dtype=torch.float64)
    with torch.no_grad():
        expected = torch.zeros(n_dst, 4, dtype=torch.float64)
        if root:
            expected += x_dst @ conv.lin.weight.t()
        if bias:
            expected += conv.bias
        for i, nbrs in enumerate(neighbour_lists(edge_index, n_dst)):
            if nbrs:
                msgs = torch.stack([x_src[j] @ conv.nn(e[k]).view(3, 4) for k, j in nbrs])
                expected[i] += REDUCE[aggr](msgs)
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, e), expected)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = NNConv(3, 4, edge_net(), aggr="mean")

    def forward(self, x, edge_index, e):
        return self.conv(x, edge_index, e)


@settings(max_examples=5, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12))
def test_nn_conv_lowered_equals_eager(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Model().double(), torch.randn(n, 3).double(), edge_index,
                                 torch.randn(edge_index.shape[1], 2).double())


def test_nn_conv_repr_state_dict_alias():
    assert ECConv is NNConv
    conv = NNConv(4, 8, torch.nn.Sequential(torch.nn.Linear(3, 32)), aggr="mean")
    assert str(conv) == ("NNConv(4, 8, aggr=mean, nn=Sequential(\n  (0): Linear(in_features=3,"
                         " out_features=32, bias=True)\n))")
    assert set(conv.state_dict()) == {"bias", "nn.0.weight", "nn.0.bias", "lin.weight"}
    assert not conv.bias.any()


def test_nn_conv_bad_input():
    conv = NNConv(3, 4, edge_net())
    x, ei = torch.randn(3, 3), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="'edge_attr' is required"):
        conv(x, ei)
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(3, 5), ei, torch.randn(2, 2))
    with pytest.raises(ValueError, match="'in_channels'"):
        NNConv(-1, 4, edge_net())
