"""PANPooling against the formula, with a hand-built MET matrix (gfx has no PANConv)."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import PANPooling
from tests.graphs import edge_lists


@st.composite
def met_graphs(draw):
    edge_index, n, _ = draw(edge_lists(max_nodes=8, max_edges=14))
    index = torch.unique(edge_index, dim=1) if edge_index.numel() else edge_index
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    M = torch.sparse_coo_tensor(index, torch.rand(index.shape[1], generator=g,
                                                  dtype=torch.float64), (n, n))
    cut = draw(st.integers(0, n))
    return torch.randn(n, 3, generator=g, dtype=torch.float64), M, \
        (torch.arange(n) >= cut).long()


@pytest.mark.parametrize("kw", [dict(), dict(ratio=2), dict(min_score=0.3)])
@settings(max_examples=10, deadline=None)
@given(graph=met_graphs())
def test_pan_pooling_formula(kw, graph):
    x, M, batch = graph
    pool = PANPooling(3, **kw).double()
    with torch.no_grad():
        pool.p.copy_(torch.tensor([0.5, -1.0, 2.0]))
        pool.beta.copy_(torch.tensor([0.7, -0.4]))
    dense = M.to_dense()
    score = 0.7 * (x @ pool.p.detach()) - 0.4 * dense.sum(0)
    w = float(pool.select.weight.detach())
    if "min_score" in kw:
        y = torch.empty_like(score)
        for b in set(batch.tolist()):
            y[batch == b] = torch.softmax(w * score[batch == b], 0)
    else:
        y = torch.tanh(math.copysign(1.0, w) * score)
    perm = []
    for b in sorted(set(batch.tolist())):
        nodes = [i for i in range(len(x)) if batch[i] == b]
        if "min_score" in kw:
            best = max(float(y[i]) for i in nodes)
            perm += [i for i in nodes if float(y[i]) > min(kw["min_score"], best - 1e-7)]
        else:
            k = math.ceil(0.5 * len(nodes)) if "ratio" not in kw else min(2, len(nodes))
            perm += sorted(nodes, key=lambda i: -float(y[i]))[:k]
    out_x, ei, attr, out_batch, out_perm, out_score = pool(x, M, batch)
    assert out_perm.tolist() == perm
    torch.testing.assert_close(out_x, x[perm] * y[perm].view(-1, 1))
    torch.testing.assert_close(out_score, y[perm])
    assert out_batch.tolist() == batch[perm].tolist()
    # Entry M[i, j] between kept nodes -> edge (j, i) with attribute M[i, j].
    got = torch.zeros(len(perm), len(perm), dtype=x.dtype)
    got[ei[1], ei[0]] = attr
    torch.testing.assert_close(got, dense[perm][:, perm])


def test_pan_pooling_defaults_and_errors():
    pool = PANPooling(8)
    assert str(pool) == "PANPooling(8, ratio=0.5, multiplier=1.0)"
    assert pool.p.tolist() == [1.0] * 8 and pool.beta.tolist() == [0.5, 0.5]
    assert set(pool.state_dict()) == {"p", "beta", "select.weight"}
    with pytest.raises(TypeError, match="'M'"):
        pool(torch.randn(3, 8), torch.eye(3))
    with pytest.raises(ValueError, match="'M'"):
        pool(torch.randn(3, 8), torch.eye(4).to_sparse())
    out = pool(torch.randn(4, 8), torch.eye(4).to_sparse_csr())
    assert out[0].shape == (2, 8)
