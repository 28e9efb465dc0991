import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import GCNConv
from gfx.structure import cache_clear, cache_info
from gfx.utils import edge_index_to_adj_t
from tests.graphs import dense_adjacency, edge_lists


def dense_gcn(conv, x, edge_index, edge_weight=None, improved=False):
    """The documented formula with dense matrices: D^-1/2 (A + I) D^-1/2 X W^T + b."""
    n = x.shape[0]
    a = dense_adjacency(edge_index, n, n, edge_weight)
    fill = 2.0 if improved else 1.0
    diag = torch.full((n,), fill, dtype=torch.float64)
    for e, (j, i) in enumerate(edge_index.t().tolist()):
        if i == j:  # an existing loop keeps its (last) weight
            diag[i] = 1.0 if edge_weight is None else float(edge_weight[e])
    a.fill_diagonal_(0.0)
    a = a + torch.diag(diag)
    deg = a.sum(1)
    dinv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
    norm = dinv.view(-1, 1) * a * dinv.view(1, -1)
    out = norm @ (x.double() @ conv.lin.weight.double().t())
    return out + conv.bias.double() if conv.bias is not None else out


@given(edge_lists(), st.booleans())
def test_gcn_matches_dense_formula(graph, improved):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = GCNConv(3, 4, improved=improved).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    # Unweighted graphs keep loops of weight 1 even with improved=True (the reference's
    # semantics); an explicit all-ones weight applies improved.
    torch.testing.assert_close(conv(x, edge_index), dense_gcn(conv, x, edge_index))
    ones = torch.ones(edge_index.shape[1], dtype=torch.float64)
    torch.testing.assert_close(conv(x, edge_index, ones),
                               dense_gcn(conv, x, edge_index, ones, improved=improved))


@given(edge_lists())
def test_gcn_weighted_and_improved(graph):
    edge_index, n, _ = graph
    torch.manual_seed(1)
    conv = GCNConv(3, 2, improved=True).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1
    torch.testing.assert_close(conv(x, edge_index, w),
                               dense_gcn(conv, x, edge_index, w, improved=True))


def test_gcn_without_normalisation_sums_neighbours():
    conv = GCNConv(2, 2, normalize=False, bias=False).double()
    edge_index = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])
    x = torch.randn(3, 2, dtype=torch.float64)
    expected = dense_adjacency(edge_index, 3, 3) @ x @ conv.lin.weight.t()
    torch.testing.assert_close(conv(x, edge_index), expected)


def test_gcn_sparse_adjacency_equals_edge_index():
    torch.manual_seed(0)
    conv = GCNConv(4, 3)
    edge_index = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 3, 0]])
    x = torch.randn(4, 4)
    expected = conv(x, edge_index)
    adj_t = edge_index_to_adj_t(edge_index, size=(4, 4))
    for layout_adj in (adj_t, adj_t.to_sparse_csr(), adj_t.to_sparse_csc()):
        torch.testing.assert_close(conv(x, layout_adj), expected)


def test_gcn_cached_reuses_the_first_graph():
    conv = GCNConv(2, 2, cached=True)
    x = torch.randn(3, 2)
    first = conv(x, torch.tensor([[0, 1], [1, 2]]))
    again = conv(x, torch.tensor([[2], [0]]))  # ignored: the cached graph is used
    torch.testing.assert_close(first, again)
    conv.reset_parameters()
    assert conv._cached_graph is None


def test_gcn_normalisation_is_computed_once_per_graph():
    cache_clear()
    conv1, conv2 = GCNConv(3, 3), GCNConv(3, 3)
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])
    x = torch.randn(3, 3)
    for _ in range(3):
        conv2(conv1(x, edge_index), edge_index)
    info = cache_info()
    assert (info.misses, info.hits) == (1, 5)
    edge_index[0, 0] = 2  # an in-place edit invalidates the entry
    conv1(x, edge_index)
    assert cache_info().misses == 2


def test_gcn_state_dict_layout_and_lazy():
    conv = GCNConv(-1, 8)
    assert set(conv.state_dict()) == {"lin.weight", "bias"}
    out = conv(torch.randn(5, 3), torch.tensor([[0, 1], [1, 2]]))
    assert out.shape == (5, 8) and conv.lin.weight.shape == (8, 3)


def test_gcn_errors():
    conv = GCNConv(3, 2)
    with pytest.raises(ValueError, match="in the last dimension"):
        conv(torch.randn(4, 5), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="bipartite"):
        conv((torch.randn(4, 3), torch.randn(2, 3)), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="edge_weight"):
        conv(torch.randn(4, 3), torch.tensor([[0], [1]]), torch.ones(1, 2))
    with pytest.raises(IndexError, match="index"):
        conv(torch.randn(4, 3), torch.tensor([[0], [9]]))
