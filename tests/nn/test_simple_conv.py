import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gfx
from gfx.nn import SimpleConv
from gfx.utils import edge_index_to_adj_t
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager

REDUCE = {"sum": lambda t: t.sum(0), "mean": lambda t: t.mean(0),
          "max": lambda t: t.max(0).values, "min": lambda t: t.min(0).values}


def propagate_reference(x_src, n_dst, edge_index, weight, aggr):
    out = torch.zeros(n_dst, x_src.shape[1], dtype=x_src.dtype)
    for i, nbrs in enumerate(neighbour_lists(edge_index, n_dst)):
        if nbrs:
            out[i] = REDUCE[aggr](torch.stack([
                x_src[j] * (1.0 if weight is None else weight[e]) for e, j in nbrs]))
    return out


@given(edge_lists(bipartite=True), st.sampled_from(list(REDUCE)),
       st.sampled_from([None, "sum", "cat"]), st.booleans())
def test_simple_conv_bipartite_matches_formula(graph, aggr, combine_root, weighted):
    edge_index, n_src, n_dst = graph
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 3, dtype=torch.float64)
    w = torch.randn(edge_index.shape[1], dtype=torch.float64) if weighted else None
    expected = propagate_reference(x_src, n_dst, edge_index, w, aggr)
    if combine_root == "sum":
        expected = expected + x_dst
    elif combine_root == "cat":
        expected = torch.cat([x_dst, expected], dim=1)
    conv = SimpleConv(aggr=aggr, combine_root=combine_root)
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, w), expected)


@given(edge_lists(), st.booleans())
def test_simple_conv_self_loop_keeps_existing_loops(graph, weighted):
    edge_index, n, _ = graph
    x = torch.randn(n, 2, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) if weighted else None
    expected = propagate_reference(x, n, edge_index, w, "sum") + x  # one loop of weight 1
    torch.testing.assert_close(SimpleConv(combine_root="self_loop")(x, edge_index, w), expected)


def test_simple_conv_sparse_values_are_weights_and_multi_aggr():
    ei, w = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]]), torch.tensor([1.0, 2.0, 3.0, 4.0])
    x = torch.randn(3, 2)
    conv = SimpleConv()
    torch.testing.assert_close(conv(x, edge_index_to_adj_t(ei, w, (3, 3))), conv(x, ei, w))
    out = SimpleConv(aggr=["sum", "max"])(x, ei)
    torch.testing.assert_close(out, torch.cat([SimpleConv()(x, ei),
                                               SimpleConv(aggr="max")(x, ei)], dim=1))


class Bipartite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(1.5, dtype=torch.float64))
        self.conv = SimpleConv(aggr="mean", combine_root="cat")

    def forward(self, x_src, x_dst, edge_index, edge_weight):
        return self.conv((self.scale * x_src, x_dst), edge_index, edge_weight)


@settings(max_examples=15)  # each example captures and lowers anew
@given(edge_lists(bipartite=True))
def test_simple_conv_lowered_equals_eager(graph):
    edge_index, n_src, n_dst = graph
    assert_lowered_matches_eager(Bipartite(), torch.randn(n_src, 3).double(),
                                 torch.randn(n_dst, 3).double(), edge_index,
                                 torch.rand(edge_index.shape[1]).double())


def test_simple_conv_self_loops_lower_to_one_structure_node():
    conv = SimpleConv(combine_root="self_loop")
    low = gfx.lower(gfx.capture(conv))
    names = [getattr(n.target, "__name__", "") for n in low.graph.nodes
             if n.op == "call_function"]
    assert names.count("simple_self_loops") == 1
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 3], [1, 1, 2]])
    torch.testing.assert_close(low(x, ei), conv(x, ei))


def test_simple_conv_errors():
    with pytest.raises(ValueError, match="SimpleConv.*combine_root"):
        SimpleConv(combine_root="max")
    x, ei = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="SimpleConv.*self_loop.*bipartite"):
        SimpleConv(combine_root="self_loop")((x, x), ei)
    with pytest.raises(ValueError, match="SimpleConv.*'edge_weight' must be 1-D"):
        SimpleConv()(x, ei, torch.ones(2, 1))
