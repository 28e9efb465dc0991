import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import DNAConv
from tests.graphs import edge_lists


def grouped(lin, x):
    """x @ blockdiag(weight[0], ..., weight[g-1]) + bias."""
    blocks = torch.block_diag(*lin.weight)
    out = x @ blocks
    return out if lin.bias is None else out + lin.bias


def attend(mh, query, keys):
    """One query row against a history: per head softmax with an extra zero logit."""
    h, d = mh.heads, mh.out_channels // mh.heads
    q = grouped(mh.lin_q, query).view(h, d)
    k = grouped(mh.lin_k, keys).view(-1, h, d)
    v = grouped(mh.lin_v, keys).view(-1, h, d)
    out = []
    for head in range(h):
        s = k[:, head] @ q[head] / math.sqrt(d)
        a = s.exp() / (1.0 + s.exp().sum())
        out.append(a @ v[:, head])
    return torch.cat(out)


def loop_dna(conv, x, edge_index, weight=None, normalize=True):
    n = x.shape[0]
    edges = edge_index.t().tolist()
    w = [1.0] * len(edges) if weight is None else [float(v) for v in weight]
    if normalize:
        loop_w = {i: 1.0 for i in range(n)}
        for (j, i), we in zip(edges, w):
            if i == j:
                loop_w[i] = we
        pairs = [((j, i), we) for (j, i), we in zip(edges, w) if i != j]
        pairs += [((i, i), loop_w[i]) for i in range(n)]
        deg = [sum(we for (_, t), we in pairs if t == i) for i in range(n)]
        pairs = [((j, i), we / math.sqrt(deg[i] * deg[j])) for (j, i), we in pairs]
    else:
        pairs = list(zip(edges, w))
    out = torch.zeros(n, x.shape[-1], dtype=x.dtype)
    for (j, i), we in pairs:
        out[i] += we * attend(conv.multi_head, x[i, -1], x[j])
    return out


@settings(max_examples=10, deadline=None)
@given(edge_lists(5, 10), st.sampled_from([(1, 1), (2, 1), (2, 2), (1, 2)]), st.booleans(),
       st.booleans(), st.integers(0, 2**16))
def test_matches_loop_formula(graph, heads_groups, normalize, weighted, seed):
    edge_index, n, _ = graph
    torch.manual_seed(seed)
    heads, groups = heads_groups
    conv = DNAConv(4, heads, groups, normalize=normalize).double()
    x = torch.randn(n, 3, 4, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    torch.testing.assert_close(conv(x, edge_index, w),
                               loop_dna(conv, x, edge_index, w, normalize))


def test_layout_repr_cache_and_gradcheck():
    conv = DNAConv(8, heads=2, groups=2, cached=True).double()
    assert str(conv) == "DNAConv(8, heads=2, groups=2)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        f"multi_head.lin_{p}.{n}": s for p in "qkv"
        for n, s in (("weight", (2, 4, 4)), ("bias", (8,)))}
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    x = torch.randn(3, 2, 8, dtype=torch.float64, requires_grad=True)
    first = conv(x, ei)
    torch.testing.assert_close(conv(x, torch.tensor([[0], [1]])), first)
    assert torch.autograd.gradcheck(lambda a: conv(a, ei), (x,))
    assert set(DNAConv(4, bias=False).state_dict()) == {
        "multi_head.lin_q.weight", "multi_head.lin_k.weight", "multi_head.lin_v.weight"}


def test_dna_errors():
    with pytest.raises(ValueError, match="heads"):
        DNAConv(6, heads=4)
    with pytest.raises(ValueError, match="groups"):
        DNAConv(6, groups=4)
    with pytest.raises(ValueError, match="divide"):
        DNAConv(12, heads=2, groups=3)
    with pytest.raises(ValueError, match="num_layers"):
        DNAConv(4)(torch.randn(3, 4), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="edge_weight"):
        DNAConv(4)(torch.randn(3, 2, 4), torch.tensor([[0], [1]]), torch.ones(3))
