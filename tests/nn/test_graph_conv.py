import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import GraphConv
from gfx.utils import edge_index_to_adj_t
from tests.graphs import dense_adjacency, edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager


@given(edge_lists(bipartite=True), st.booleans())
def test_graph_conv_bipartite_matches_formula(graph, weighted):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = GraphConv((3, 2), 4).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    w = torch.randn(edge_index.shape[1], dtype=torch.float64) if weighted else None
    a = dense_adjacency(edge_index, n_src, n_dst, w)
    expected = (a @ x_src @ conv.lin_rel.weight.t() + conv.lin_rel.bias
                + x_dst @ conv.lin_root.weight.t())
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, w), expected)


@given(edge_lists())
def test_graph_conv_max_aggregates_before_the_map(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = GraphConv(3, 2, aggr="max", bias=False).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    agg = torch.zeros(n, 3, dtype=torch.float64)
    for i, nbrs in enumerate(neighbour_lists(edge_index, n)):
        if nbrs:
            agg[i] = torch.stack([x[j] for _, j in nbrs]).max(0).values
    expected = agg @ conv.lin_rel.weight.t() + x @ conv.lin_root.weight.t()
    torch.testing.assert_close(conv(x, edge_index), expected)


def test_graph_conv_sparse_lazy_and_state_dict():
    torch.manual_seed(0)
    conv = GraphConv(-1, 3)
    ei, w = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]]), torch.tensor([1.0, 2.0, 3.0, 4.0])
    x = torch.randn(3, 5)
    torch.testing.assert_close(conv(x, edge_index_to_adj_t(ei, w, (3, 3))), conv(x, ei, w))
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "lin_rel.weight": (3, 5), "lin_rel.bias": (3,), "lin_root.weight": (3, 5)}
    assert set(GraphConv((2, 4), 3, bias=False).state_dict()) == {"lin_rel.weight",
                                                                  "lin_root.weight"}


class Bipartite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GraphConv((3, 2), 4, aggr="mean")

    def forward(self, x_src, x_dst, edge_index, edge_weight):
        return self.conv((x_src, x_dst), edge_index, edge_weight)


@settings(max_examples=15)  # each example captures and lowers anew
@given(edge_lists(bipartite=True))
def test_graph_conv_lowered_equals_eager(graph):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Bipartite().double(), torch.randn(n_src, 3).double(),
                                 torch.randn(n_dst, 2).double(), edge_index,
                                 torch.rand(edge_index.shape[1]).double())


def test_graph_conv_errors():
    conv = GraphConv((3, 2), 4)
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="GraphConv.*source.*'x' have 5 channels"):
        conv((torch.randn(2, 5), torch.randn(2, 2)), ei)
    with pytest.raises(ValueError, match="GraphConv.*target.*'x' have 3 channels"):
        conv((torch.randn(2, 3), torch.randn(2, 3)), ei)
    with pytest.raises(ValueError, match="GraphConv.*'edge_weight' must be 1-D"):
        GraphConv(3, 4)(torch.randn(2, 3), ei, torch.ones(2, 2))
