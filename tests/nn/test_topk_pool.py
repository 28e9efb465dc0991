"""TopKPooling and SAGPooling against per-graph loops written from the formulas."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import GCNConv, GraphConv, SAGPooling, TopKPooling
from tests.graphs import dense_adjacency, edge_lists


@st.composite
def batched_graphs(draw, channels=3):
    """A graph split into 1-3 graphs by a sorted batch vector (edges may cross graphs:
    pooling does not care), with features, edge attributes and a seed."""
    edge_index, n, _ = draw(edge_lists(max_nodes=9, max_edges=16))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=2)))
    batch = torch.tensor([sum(i >= c for c in cuts) for i in range(n)])
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(n, channels, generator=g, dtype=torch.float64)
    edge_attr = torch.randn(edge_index.shape[1], 2, generator=g, dtype=torch.float64)
    return x, edge_index, edge_attr, batch


def expected_pool(x, edge_index, edge_attr, batch, y, ratio, min_score, multiplier):
    """Per-graph loop: sort each graph's nodes by score, keep k (or those over the
    threshold), gate the features by y, keep the edges between kept nodes."""
    perm = []
    for b in sorted(set(batch.tolist())):
        nodes = [i for i in range(len(batch)) if batch[i] == b]
        if min_score is None:
            k = math.ceil(ratio * len(nodes)) if isinstance(ratio, float) else \
                min(ratio, len(nodes))
            perm += sorted(nodes, key=lambda i: -float(y[i]))[:k]
        else:
            best = max(float(y[i]) for i in nodes)
            perm += [i for i in nodes if float(y[i]) > min(min_score, best - 1e-7)]
    new = {old: m for m, old in enumerate(perm)}
    xs = torch.stack([x[i] * y[i] * multiplier for i in perm]) if perm else x[:0]
    kept = [e for e, (s, t) in enumerate(edge_index.t().tolist()) if s in new and t in new]
    ei = torch.tensor([[new[int(edge_index[0, e])] for e in kept],
                       [new[int(edge_index[1, e])] for e in kept]], dtype=torch.long)
    return xs, ei.view(2, -1), edge_attr[kept], batch[perm], torch.tensor(perm,
                                                                          dtype=torch.long)


def group_softmax(v, batch):
    out = torch.empty_like(v)
    for b in set(batch.tolist()):
        m = batch == b
        out[m] = torch.exp(v[m]) / torch.exp(v[m]).sum()
    return out


def check(out, exp, y):
    x, ei, ea, batch, perm, score = out
    ex, eei, eea, ebatch, eperm = exp
    assert perm.tolist() == eperm.tolist()
    torch.testing.assert_close(x, ex)
    assert ei.tolist() == eei.tolist()
    torch.testing.assert_close(ea, eea)
    assert batch.tolist() == ebatch.tolist()
    torch.testing.assert_close(score, y[eperm])


@pytest.mark.parametrize("kw", [dict(), dict(ratio=2), dict(ratio=0.3, multiplier=2.0),
                                dict(min_score=0.2), dict(nonlinearity=torch.sigmoid)])
@settings(max_examples=10, deadline=None)
@given(graph=batched_graphs())
def test_topk_pooling_formula(kw, graph):
    x, edge_index, edge_attr, batch = graph
    pool = TopKPooling(3, **kw).double()
    p = pool.select.weight.detach().view(-1)
    if "min_score" in kw:
        y = group_softmax(x @ p, batch)
    else:
        y = kw.get("nonlinearity", torch.tanh)(x @ p / p.norm())
    exp = expected_pool(x, edge_index, edge_attr, batch, y, kw.get("ratio", 0.5),
                        kw.get("min_score"), kw.get("multiplier", 1.0))
    check(pool(x, edge_index, edge_attr, batch), exp, y)


@pytest.mark.parametrize("kw", [dict(), dict(min_score=0.3), dict(ratio=3)])
@settings(max_examples=10, deadline=None)
@given(graph=batched_graphs())
def test_sag_pooling_formula(kw, graph):
    x, edge_index, edge_attr, batch = graph
    pool = SAGPooling(3, **kw).double()
    lin_rel, lin_root = pool.gnn.lin_rel, pool.gnn.lin_root
    a = dense_adjacency(edge_index, len(x), len(x))
    gnn = (a @ x) @ lin_rel.weight.t().detach() + lin_rel.bias.detach() + \
        x @ lin_root.weight.t().detach()
    w = float(pool.select.weight.detach())
    if "min_score" in kw:
        y = group_softmax(gnn.view(-1) * w, batch)
    else:
        y = torch.tanh(gnn.view(-1) * math.copysign(1.0, w))
    exp = expected_pool(x, edge_index, edge_attr, batch, y, kw.get("ratio", 0.5),
                        kw.get("min_score"), 1.0)
    check(pool(x, edge_index, edge_attr, batch), exp, y)


def test_topk_defaults_str_and_keys():
    pool = TopKPooling(16)
    assert str(pool) == "TopKPooling(16, ratio=0.5, multiplier=1.0)"
    assert str(TopKPooling(16, min_score=0.1, multiplier=2.0)) == \
        "TopKPooling(16, min_score=0.1, multiplier=2.0)"
    assert list(pool.state_dict()) == ["select.weight"]
    sag = SAGPooling(16, GNN=GCNConv)
    assert str(sag) == "SAGPooling(GCNConv, 16, ratio=0.5, multiplier=1.0)"
    assert isinstance(SAGPooling(16).gnn, GraphConv)
    assert set(sag.state_dict()) >= {"select.weight", "gnn.bias"}


def test_no_batch_attn_and_gradients():
    torch.manual_seed(0)
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    pool = TopKPooling(2, ratio=0.5).double()
    attn = torch.randn(6, 2, dtype=torch.float64)
    out = pool(x, edge_index, attn=attn)
    p = pool.select.weight.detach().view(-1)
    y = torch.tanh(attn @ p / p.norm())
    assert out[4].tolist() == y.argsort(descending=True)[:3].tolist()
    assert out[3].tolist() == [0, 0, 0]
    out[0].sum().backward()
    assert pool.select.weight.grad is not None and x.grad.abs().sum() > 0
    torch.autograd.gradcheck(lambda v: TopKPooling.forward(pool, v, edge_index,
                                                           attn=attn)[0],
                             (x.detach().requires_grad_(),))


def test_empty_graph():
    pool = TopKPooling(3)
    out = pool(torch.randn(0, 3), torch.zeros(2, 0, dtype=torch.long))
    assert out[0].shape == (0, 3) and out[1].shape == (2, 0) and out[4].numel() == 0


def test_bad_input():
    with pytest.raises(ValueError, match="ratio"):
        TopKPooling(3, ratio=1.5)
    with pytest.raises(ValueError, match="ratio"):
        SAGPooling(3, ratio=0)
    with pytest.raises(ValueError, match="nonlinearity"):
        TopKPooling(3, nonlinearity="no_such_function")
    pool = TopKPooling(3)
    with pytest.raises(ValueError, match="'x'"):
        pool(torch.randn(4), torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(ValueError, match="edge_index"):
        pool(torch.randn(4, 3), torch.zeros(3, 1, dtype=torch.long))
    with pytest.raises(IndexError, match="edge_index"):
        pool(torch.randn(4, 3), torch.tensor([[0], [4]]))
    with pytest.raises(ValueError, match="batch"):
        pool(torch.randn(4, 3), torch.tensor([[0], [1]]), batch=torch.zeros(3,
                                                                             dtype=torch.long))
