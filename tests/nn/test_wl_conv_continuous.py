import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import WLConvContinuous
from gfx.utils import edge_index_to_adj_t
from tests.graphs import dense_adjacency, edge_lists


def dense_wl(x_src, x_dst, edge_index, weight=None):
    a = dense_adjacency(edge_index, x_src.shape[0], x_dst.shape[0], weight)
    deg = a.sum(1, keepdim=True)
    mean = torch.where(deg == 0, torch.zeros_like(deg), 1.0 / deg) * (a @ x_src)
    return 0.5 * (x_dst + mean)


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14, bipartite=True), st.booleans(), st.integers(0, 2**16))
def test_matches_dense_formula(graph, weighted, seed):
    edge_index, ns, nd = graph
    g = torch.Generator().manual_seed(seed)
    xs = torch.randn(ns, 3, generator=g, dtype=torch.float64)
    xd = torch.randn(nd, 3, generator=g, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], generator=g, dtype=torch.float64) + 0.1 \
        if weighted else None
    conv = WLConvContinuous()
    torch.testing.assert_close(conv((xs, xd), edge_index, w), dense_wl(xs, xd, edge_index, w))
    if ns == nd:
        torch.testing.assert_close(conv(xs, edge_index, w), dense_wl(xs, xs, edge_index, w))


def test_missing_targets_sparse_and_repr():
    conv = WLConvContinuous()
    x = torch.tensor([[2.0], [4.0]])
    ei = torch.tensor([[0, 1], [2, 2]])
    torch.testing.assert_close(conv((x, None), ei, size=(2, 3)), torch.tensor([[0.0], [0.0], [3.0]]))
    sq = torch.tensor([[0, 1, 1], [1, 0, 0]])
    adj = edge_index_to_adj_t(sq, size=(2, 2))
    torch.testing.assert_close(conv(x, adj), conv(x, sq))
    assert str(conv) == "WLConvContinuous()"


def test_wl_continuous_errors():
    conv = WLConvContinuous()
    with pytest.raises(ValueError, match="edge_weight"):
        conv(torch.randn(3, 2), torch.tensor([[0], [1]]), torch.ones(2))
    with pytest.raises(IndexError, match="edge_index"):
        conv(torch.randn(3, 2), torch.tensor([[0], [7]]))


def test_target_to_source_averages_at_the_aggregating_node():
    conv = WLConvContinuous(flow="target_to_source")
    x = torch.tensor([[1.0], [2.0], [6.0]])
    ei = torch.tensor([[0, 0, 1], [1, 2, 2]])  # node 0 reads 1 and 2, node 1 reads 2
    expected = 0.5 * (x + torch.tensor([[4.0], [6.0], [0.0]]))
    torch.testing.assert_close(conv(x, ei), expected)
