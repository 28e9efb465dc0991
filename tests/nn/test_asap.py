"""ASAPooling against a dense computation written from the formula."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import ASAPooling, GraphConv
from tests.graphs import edge_lists


@st.composite
def graphs(draw):
    edge_index, n, _ = draw(edge_lists(max_nodes=8, max_edges=14))
    cut = draw(st.integers(0, n))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    return (torch.randn(n, 3, generator=g, dtype=torch.float64), edge_index,
            (torch.arange(n) >= cut).long(),
            torch.rand(edge_index.shape[1], generator=g, dtype=torch.float64) + 0.1)


def lin(layer, v):
    out = v @ layer.weight.detach().t()
    return out + layer.bias.detach() if layer.bias is not None else out


def dense_expected(pool, x, edge_index, batch, weight):
    n = len(x)
    # Remaining self-loops: one loop per node, weighted like the node's last existing
    # loop, else 1; the other edges stay.
    edges = [(s, t, float(w)) for (s, t), w in zip(edge_index.t().tolist(), weight)]
    loop_w = {s: w for s, t, w in edges if s == t}
    edges = [e for e in edges if e[0] != e[1]]
    edges += [(i, i, loop_w.get(i, 1.0)) for i in range(n)]
    into = [[(s, w, e) for e, (s, t, w) in enumerate(edges) if t == i] for i in range(n)]
    m = [lin(pool.lin, torch.stack([x[s] for s, _, _ in into[i]]).max(0).values)
         for i in range(n)]
    raw = torch.zeros(len(edges), dtype=x.dtype)
    for i in range(n):
        for s, _, e in into[i]:
            r = float(lin(pool.att, torch.cat([m[i], x[s]])))
            raw[e] = r if r > 0 else pool.negative_slope * r
    alpha = torch.zeros(len(edges), dtype=x.dtype)
    for i in range(n):
        ids = [e for _, _, e in into[i]]
        alpha[ids] = torch.softmax(raw[ids], 0)
    xc = torch.zeros_like(x)
    for e, (s, t, _) in enumerate(edges):
        xc[t] += alpha[e] * x[s]
    # LEConv (gnn_score) on the looped, unweighted graph, then the sigmoid.
    le = pool.gnn_score
    phi = lin(le.lin3, xc).view(-1)
    for s, t, _ in edges:
        phi[t] += (lin(le.lin1, xc[s]) - lin(le.lin2, xc[t])).view(-1)[0]
    phi = torch.sigmoid(phi)
    sign = math.copysign(1.0, float(pool.select.weight.detach()))
    rank = torch.tanh(sign * phi)
    perm = []
    for b in sorted(set(batch.tolist())):
        nodes = [i for i in range(n) if batch[i] == b]
        k = math.ceil(pool.ratio * len(nodes))
        perm += sorted(nodes, key=lambda i: -float(rank[i]))[:k]
    S = torch.zeros(n, len(perm), dtype=x.dtype)
    A = torch.zeros(n, n, dtype=x.dtype)
    for e, (s, t, w) in enumerate(edges):
        A[s, t] += w
        if t in perm:
            S[s, perm.index(t)] += alpha[e]
    return xc[perm] * phi[perm].view(-1, 1), S.t() @ A @ S, perm


@pytest.mark.parametrize("add_self_loops", [False, True])
@settings(max_examples=10, deadline=None)
@given(graph=graphs())
def test_asap_formula(add_self_loops, graph):
    x, edge_index, batch, weight = graph
    pool = ASAPooling(3, ratio=0.5, add_self_loops=add_self_loops).double()
    out_x, out_ei, out_w, out_batch, perm = pool(x, edge_index, weight, batch)
    ex, adj, eperm = dense_expected(pool, x, edge_index, batch, weight)
    assert perm.tolist() == eperm
    torch.testing.assert_close(out_x, ex)
    assert out_batch.tolist() == batch[eperm].tolist()
    k = len(eperm)
    got = torch.zeros(k, k, dtype=x.dtype)
    got[out_ei[0], out_ei[1]] = out_w
    want = adj.clone()
    diag = torch.arange(k)
    if add_self_loops:
        want[diag, diag] = torch.where(adj[diag, diag] != 0, adj[diag, diag], 1.0)
    else:
        want[diag, diag] = 0.0
    torch.testing.assert_close(got, want)
    keys = (out_ei[0] * (k + 1) + out_ei[1]).tolist()
    assert keys == sorted(set(keys))   # sorted, no duplicates


def test_asap_unweighted_returns_none_and_grads():
    torch.manual_seed(0)
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 5, 0], [1, 2, 3, 4, 5, 0, 3]])
    weight = torch.rand(7, dtype=torch.float64, requires_grad=True)
    pool = ASAPooling(3, ratio=3, GNN=GraphConv).double()
    assert pool(x, edge_index)[2] is None
    torch.autograd.gradcheck(lambda v, w: pool(v, edge_index, w)[2], (x, weight))
    torch.autograd.gradcheck(lambda v: pool(v, edge_index)[0], (x,))


def test_asap_str_and_errors():
    pool = ASAPooling(16, ratio=0.25)
    assert str(pool) == "ASAPooling(16, ratio=0.25)"
    assert "gnn_intra_cluster.lin_rel.weight" in ASAPooling(4, GNN=GraphConv).state_dict()
    with pytest.raises(ValueError, match="ratio"):
        ASAPooling(4, ratio=0)
    with pytest.raises(ValueError, match="dropout"):
        ASAPooling(4, dropout=-0.1)
    with pytest.raises(ValueError, match="batch"):
        pool(torch.randn(3, 16), torch.zeros(2, 0, dtype=torch.long),
             batch=torch.zeros(2, dtype=torch.long))
