import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import EdgeConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4))


@given(edge_lists(bipartite=True), st.sampled_from(["max", "mean", "sum"]))
def test_edge_conv_matches_formula(graph, aggr):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = EdgeConv(mlp(), aggr=aggr).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 3, dtype=torch.float64)
    expected = torch.zeros(n_dst, 4, dtype=torch.float64)
    for i, nbrs in enumerate(neighbour_lists(edge_index, n_dst)):
        if not nbrs:  # no incoming edge: 0 for every aggregation
            continue
        h = torch.stack([conv.nn(torch.cat([x_dst[i], x_src[j] - x_dst[i]])) for _, j in nbrs])
        expected[i] = {"max": lambda t: t.max(0).values, "mean": lambda t: t.mean(0),
                       "sum": lambda t: t.sum(0)}[aggr](h)
    torch.testing.assert_close(conv((x_src, x_dst), edge_index), expected)


class Bipartite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = EdgeConv(mlp())

    def forward(self, x_src, x_dst, edge_index):
        return self.conv((x_src, x_dst), edge_index)


@settings(max_examples=15)  # each example captures and lowers anew
@given(edge_lists(bipartite=True))
def test_edge_conv_lowered_equals_eager(graph):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Bipartite().double(), torch.randn(n_src, 3).double(),
                                 torch.randn(n_dst, 3).double(), edge_index)


def test_edge_conv_state_dict_and_reset():
    conv = EdgeConv(torch.nn.Linear(6, 4))
    assert set(conv.state_dict()) == {"nn.weight", "nn.bias"}
    before = conv.nn.weight.clone()
    conv.reset_parameters()
    assert not torch.equal(before, conv.nn.weight)


def test_edge_conv_needs_target_features():
    with pytest.raises(ValueError, match="EdgeConv.*target node features"):
        EdgeConv(mlp())((torch.randn(3, 3), None), torch.tensor([[0], [1]]))
