"""ClusterPooling against scipy's connected components and a loop over edges."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gfx.nn import ClusterPooling
from gfx.nn.pool.cluster_pool import connected_clusters
from tests.graphs import edge_lists


@st.composite
def graphs(draw):
    edge_index, n, _ = draw(edge_lists(max_nodes=9, max_edges=16))
    cut = draw(st.integers(0, n))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    return (torch.randn(n, 3, generator=g, dtype=torch.float64), edge_index,
            (torch.arange(n) >= cut).long())


def components(edges, n):
    rows = [s for s, _ in edges]
    cols = [t for _, t in edges]
    _, comp = connected_components(coo_matrix(([1] * len(edges), (rows, cols)),
                                              shape=(n, n)), directed=True,
                                   connection="weak")
    return comp.tolist()   # scipy numbers components by their smallest node


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=12, max_edges=20))
def test_connected_clusters(graph):
    edge_index, n, _ = graph
    assert connected_clusters(edge_index, n).tolist() == \
        components(edge_index.t().tolist(), n)


@pytest.mark.parametrize("method,threshold", [("tanh", None), ("sigmoid", None),
                                              ("tanh", -0.3), ("log_softmax", -2.5)])
@settings(max_examples=10, deadline=None)
@given(graph=graphs())
def test_cluster_pooling_formula(method, threshold, graph):
    x, edge_index, batch = graph
    pool = ClusterPooling(3, edge_score_method=method, threshold=threshold).double()
    thr = {"tanh": 0.0, "sigmoid": 0.5}.get(method) if threshold is None else threshold
    edges = [(s, t) for s, t in edge_index.t().tolist() if s != t]
    w, b = pool.lin.weight.detach().view(-1), float(pool.lin.bias.detach())
    raw = torch.tensor([float(torch.cat([x[s], x[t]]) @ w) + b for s, t in edges],
                       dtype=x.dtype)
    score = {"tanh": torch.tanh, "sigmoid": torch.sigmoid,
             "log_softmax": lambda r: torch.log_softmax(r, 0)}[method](raw)
    cluster = components([e for e, s in zip(edges, score) if s > thr], len(x))
    k = max(cluster) + 1 if cluster else 0
    new_x = torch.zeros(k, 3, dtype=x.dtype)
    for (s, t), sc in zip(edges, score):
        new_x[cluster[t]] += sc * x[s]
    for u in range(len(x)):
        if cluster.count(cluster[u]) == 1:
            new_x[cluster[u]] += x[u]
    new_edges = sorted({(cluster[s], cluster[t]) for s, t in edges
                        if cluster[s] != cluster[t]})
    out_x, out_ei, out_batch, info = pool(x, edge_index, batch)
    assert info.cluster.tolist() == cluster
    torch.testing.assert_close(out_x, new_x)
    assert [tuple(e) for e in out_ei.t().tolist()] == new_edges
    for c in range(k):   # edges may join graphs here: any member's graph will do
        assert int(out_batch[c]) in {int(batch[u]) for u in range(len(x))
                                     if cluster[u] == c}
    assert info.edge_index.t().tolist() == [list(e) for e in edges]


def test_cluster_pooling_grad_str_and_errors():
    torch.manual_seed(0)
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 4], [1, 2, 0, 4, 3, 4]])
    batch = torch.zeros(5, dtype=torch.long)
    pool = ClusterPooling(3, threshold=-0.5).double()
    torch.autograd.gradcheck(lambda v: pool(v, edge_index, batch)[0], (x,))
    assert str(pool) == "ClusterPooling(3)"
    assert ClusterPooling(3, "sigmoid").threshold == 0.5
    with pytest.raises(ValueError, match="edge_score_method"):
        ClusterPooling(3, "softmax")
    with pytest.raises(ValueError, match="dropout"):
        ClusterPooling(3, dropout=2.0)
    with pytest.raises(IndexError, match="edge_index"):
        pool(x, torch.tensor([[0], [7]]), batch)
