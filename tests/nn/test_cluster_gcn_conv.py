import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import ClusterGCNConv
from gfx.structure import cache_clear, cache_info
from tests.graphs import dense_adjacency, edge_lists
from tests.nn.test_lg_conv import assert_lowers


def dense_cluster(conv, x, edge_index, n, loops, lam):
    a = dense_adjacency(edge_index, n, n)
    if loops:  # input loops are replaced by one loop per node: A + I
        a.fill_diagonal_(0.0)
        a = a + torch.eye(n, dtype=torch.float64)
    deg = a.sum(1)
    dinv = torch.where(deg > 0, 1.0 / deg, torch.zeros_like(deg))
    a_hat = dinv.view(-1, 1) * a
    p = a_hat + lam * torch.diag(torch.diagonal(a_hat))
    out = p @ x @ conv.lin_out.weight.t() + x @ conv.lin_root.weight.t()
    return out if conv.lin_out.bias is None else out + conv.lin_out.bias


@given(edge_lists(), st.booleans(), st.sampled_from([0.0, 0.5, 2.0]), st.booleans())
def test_cluster_gcn_matches_dense_formula(graph, loops, lam, bias):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = ClusterGCNConv(3, 2, diag_lambda=lam, add_self_loops=loops, bias=bias).double()
    if bias:
        torch.nn.init.normal_(conv.lin_out.bias)
    x = torch.randn(n, 3, dtype=torch.float64)
    torch.testing.assert_close(conv(x, edge_index),
                               dense_cluster(conv, x, edge_index, n, loops, lam))


def test_cluster_gcn_structure_cached_and_lowers():
    cache_clear()
    conv = ClusterGCNConv(3, 3, diag_lambda=0.5)
    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    conv(conv(x, ei), ei)
    assert (cache_info().misses, cache_info().hits) == (1, 1)
    low = assert_lowers(conv, x, ei)
    assert "cluster_gcn_norm" in low.code
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "lin_out.weight": (3, 3), "lin_out.bias": (3,), "lin_root.weight": (3, 3)}
    assert repr(conv) == "ClusterGCNConv(3, 3, diag_lambda=0.5)"


def test_cluster_gcn_errors():
    conv = ClusterGCNConv(3, 2)
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="ClusterGCNConv.*'x'.*in_channels=3"):
        conv(torch.randn(3, 4), ei)
    with pytest.raises(ValueError, match="ClusterGCNConv.*bipartite"):
        conv((torch.randn(3, 3), torch.randn(2, 3)), ei)
