"""EdgePooling against a loop over edges written from the formula; unpool round trip."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import EdgePooling
from tests.graphs import edge_lists


@st.composite
def graphs(draw):
    edge_index, n, _ = draw(edge_lists(max_nodes=8, max_edges=14))
    cut = draw(st.integers(0, n))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    return (torch.randn(n, 3, generator=g, dtype=torch.float64), edge_index,
            (torch.arange(n) >= cut).long())


def expected(pool, x, edge_index, batch, method):
    w = pool.lin.weight.detach().view(-1).double()
    b = float(pool.lin.bias.detach())
    src, dst = edge_index.tolist()
    raw = [float(torch.cat([x[s], x[t]]) @ w) + b for s, t in zip(src, dst)]
    if method == "softmax":
        score = []
        for e, t in enumerate(dst):
            group = [raw[f] for f in range(len(dst)) if dst[f] == t]
            score.append(torch.tensor(raw[e], dtype=torch.float64).exp()
                         / torch.tensor(group, dtype=torch.float64).exp().sum())
        score = [float(s) for s in score]
    else:
        score = [float(torch.tanh(torch.tensor(r, dtype=torch.float64))) for r in raw]
    score = [s + pool.add_to_edge_score for s in score]
    cluster, new_score = [-1] * len(x), []
    for e in sorted(range(len(src)), key=lambda f: (-score[f], f)):
        if cluster[src[e]] < 0 and cluster[dst[e]] < 0:
            cluster[src[e]] = cluster[dst[e]] = len(new_score)
            new_score.append(score[e])
    for u in range(len(x)):
        if cluster[u] < 0:
            cluster[u] = len(new_score)
            new_score.append(1.0)
    k = len(new_score)
    new_x = torch.zeros(k, x.shape[1], dtype=x.dtype)
    new_batch = [0] * k
    for u in range(len(x)):
        new_x[cluster[u]] += x[u]
        new_batch[cluster[u]] = int(batch[u])
    new_x = new_x * torch.tensor(new_score, dtype=x.dtype).view(-1, 1)
    edges = sorted({(cluster[s], cluster[t]) for s, t in zip(src, dst)})
    return new_x, edges, new_batch, cluster, new_score


@pytest.mark.parametrize("method", ["softmax", "tanh"])
@settings(max_examples=10, deadline=None)
@given(graph=graphs())
def test_edge_pooling_formula(method, graph):
    x, edge_index, batch = graph
    fn = None if method == "softmax" else EdgePooling.compute_edge_score_tanh
    torch.manual_seed(0)
    pool = EdgePooling(3, edge_score_method=fn, add_to_edge_score=0.25).double()
    out_x, out_ei, out_batch, info = pool(x, edge_index, batch)
    new_x, edges, new_batch, cluster, new_score = expected(pool, x, edge_index, batch,
                                                           method)
    assert info.cluster.tolist() == cluster
    torch.testing.assert_close(out_x, new_x)
    assert [tuple(e) for e in out_ei.t().tolist()] == edges
    assert out_batch.tolist() == new_batch
    torch.testing.assert_close(info.new_edge_score.detach(),
                               torch.tensor(new_score, dtype=x.dtype))
    back, back_ei, back_batch = pool.unpool(out_x, info)
    torch.testing.assert_close(back, torch.stack([out_x[c] / new_score[c]
                                                  for c in cluster]).view(len(x), -1))
    assert back_ei is edge_index and back_batch is batch


def test_edge_pooling_python_fallback_and_grad(monkeypatch):
    import importlib
    module = importlib.import_module("gfx.nn.pool.edge_pool")
    torch.manual_seed(1)
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 5, 0], [1, 0, 3, 2, 5, 4, 2]])
    batch = torch.zeros(6, dtype=torch.long)
    pool = EdgePooling(3).double()
    compiled = pool(x, edge_index, batch)
    monkeypatch.setattr(module, "_kernel", lambda: None)
    fallback = pool(x, edge_index, batch)
    assert compiled[3].cluster.tolist() == fallback[3].cluster.tolist()
    torch.testing.assert_close(compiled[0], fallback[0])
    torch.autograd.gradcheck(lambda v: pool(v, edge_index, batch)[0], (x,))


def test_edge_pooling_str_keys_and_errors():
    pool = EdgePooling(16)
    assert str(pool) == "EdgePooling(16)"
    assert {k: tuple(v.shape) for k, v in pool.state_dict().items()} == \
        {"lin.weight": (1, 32), "lin.bias": (1,)}
    assert EdgePooling.unpool_description._fields == ("edge_index", "cluster", "batch",
                                                      "new_edge_score")
    with pytest.raises(ValueError, match="dropout"):
        EdgePooling(4, dropout=1.5)
    with pytest.raises(TypeError, match="edge_score_method"):
        EdgePooling(4, edge_score_method="softmax")
    with pytest.raises(ValueError, match="edge_index"):
        pool(torch.randn(3, 16), torch.zeros(3, 2, dtype=torch.long),
             torch.zeros(3, dtype=torch.long))
    out = pool(torch.randn(3, 16), torch.zeros(2, 0, dtype=torch.long),
               torch.zeros(3, dtype=torch.long))
    assert out[0].shape == (3, 16) and out[1].shape == (2, 0)
    with pytest.raises(ValueError, match="'x'"):
        pool.unpool(torch.randn(2, 16), out[3])
