"""dropout_edge / dropout_node statistics and structure; get_laplacian against dense maths."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.utils import dropout_edge, dropout_node, get_laplacian, to_dense_adj
from tests.graphs import edge_lists


def test_dropout_edge_mask_and_rate():
    torch.manual_seed(0)
    ei = torch.randint(0, 50, (2, 4000))
    out, mask = dropout_edge(ei, p=0.3)
    assert torch.equal(out, ei[:, mask])
    assert abs(mask.float().mean().item() - 0.7) < 0.03
    out, mask = dropout_edge(ei, p=0.3, training=False)
    assert torch.equal(out, ei) and bool(mask.all())
    with pytest.raises(ValueError, match="'p'"):
        dropout_edge(ei, p=1.5)


def test_dropout_edge_force_undirected():
    torch.manual_seed(1)
    ei = torch.tensor([[0, 1, 1, 2, 0, 3], [1, 0, 2, 1, 3, 0]])
    out, ids = dropout_edge(ei, p=0.5, force_undirected=True)
    pairs = {tuple(p) for p in out.t().tolist()}
    assert pairs == {(v, u) for u, v in pairs}
    k = ids.numel() // 2
    assert torch.equal(out[:, :k], ei[:, ids[:k]]) and bool((ei[0, ids] <= ei[1, ids]).all())


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.integers(0, 999))
def test_dropout_node_removes_touching_edges(graph, seed):
    edge_index, n, _ = graph
    torch.manual_seed(seed)
    out, edge_mask, node_mask = dropout_node(edge_index, 0.4, n)
    assert node_mask.shape == (n,)
    expected = node_mask[edge_index[0]] & node_mask[edge_index[1]]
    assert torch.equal(edge_mask, expected) and torch.equal(out, edge_index[:, expected])


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.sampled_from([None, "sym", "rw"]), st.booleans())
def test_get_laplacian_dense(graph, normalization, weighted):
    edge_index, n, _ = graph
    w = torch.rand(edge_index.size(1), dtype=torch.float64) + 0.1 if weighted else None
    index, value = get_laplacian(edge_index, w, normalization, torch.float64, n)
    L = to_dense_adj(index, edge_attr=value, max_num_nodes=n)[0]
    A = torch.zeros(n, n, dtype=torch.float64)
    for e, (u, v) in enumerate(edge_index.t().tolist()):
        if u != v:
            A[u, v] += 1.0 if w is None else float(w[e])
    d = A.sum(1)
    inv = torch.where(d > 0, 1 / d, torch.zeros_like(d))
    eye = torch.eye(n, dtype=torch.float64)
    if normalization is None:
        expected = torch.diag(d) - A
    elif normalization == "sym":
        expected = eye - inv.sqrt()[:, None] * A * inv.sqrt()[None, :]
    else:
        expected = eye - inv[:, None] * A
    assert torch.allclose(L, expected)


def test_get_laplacian_errors():
    ei = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="normalization"):
        get_laplacian(ei, normalization="abs")
    with pytest.raises(ValueError, match="edge_weight"):
        get_laplacian(ei, torch.ones(2))
