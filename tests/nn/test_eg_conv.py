import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import EGConv
from tests.graphs import edge_lists

ALL = ["sum", "mean", "symnorm", "max", "min", "std", "var"]


def loop_eg(conv, x, edge_index, loops=True):
    """Each aggregator over N(i) (+ one loop per node), then the per-node head mixture."""
    n = x.shape[0]
    edges = [(j, i) for j, i in edge_index.t().tolist() if not (loops and i == j)]
    edges += [(i, i) for i in range(n)] if loops else []
    deg = [sum(1 for _, t in edges if t == i) for i in range(n)]
    bases = x @ conv.bases_lin.weight.t()
    results = []
    for aggr in conv.aggregators:
        out = torch.zeros_like(bases)
        for i in range(n):
            rows = [(j, bases[j]) for j, t in edges if t == i]
            if not rows:
                if aggr == "std":
                    out[i] = math.sqrt(1e-5)
                continue
            vals = torch.stack([v for _, v in rows])
            if aggr == "symnorm":
                out[i] = sum(v / math.sqrt(deg[i] * deg[j]) for j, v in rows)
            elif aggr in ("var", "std"):
                var = vals.var(0, unbiased=False)
                out[i] = var if aggr == "var" else var.clamp(min=1e-5).sqrt()
            else:
                out[i] = {"sum": vals.sum(0), "mean": vals.mean(0), "max": vals.max(0).values,
                          "min": vals.min(0).values}[aggr]
        results.append(out)
    h, b, c = conv.num_heads, conv.num_bases, conv.out_channels // conv.num_heads
    w = (x @ conv.comb_lin.weight.t() + conv.comb_lin.bias).view(n, h, len(results), b)
    out = torch.zeros(n, h, c, dtype=x.dtype)
    for a, res in enumerate(results):
        res = res.view(n, b, c)
        for k in range(b):
            out += w[:, :, a, k:k + 1] * res[:, k:k + 1, :]
    return out.reshape(n, -1) + conv.bias


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14), st.lists(st.sampled_from(ALL), min_size=1, max_size=3, unique=True),
       st.booleans(), st.integers(0, 2**16))
def test_matches_loop_formula(graph, aggregators, loops, seed):
    edge_index, n, _ = graph
    torch.manual_seed(seed)
    conv = EGConv(3, 4, aggregators, num_heads=2, num_bases=3, add_self_loops=loops).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    torch.testing.assert_close(conv(x, edge_index), loop_eg(conv, x, edge_index, loops))


def test_defaults_repr_cache_and_gradcheck():
    conv = EGConv(4, 8)
    assert conv.aggregators == ["symnorm"] and (conv.num_heads, conv.num_bases) == (8, 4)
    assert str(conv) == "EGConv(4, 8, aggregators=['symnorm'])"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "bases_lin.weight": (4, 4), "comb_lin.weight": (32, 4), "comb_lin.bias": (32,),
        "bias": (8,)}
    cached = EGConv(2, 4, ["mean", "std"], num_heads=2, num_bases=2, cached=True).double()
    ei = torch.tensor([[0, 1, 2, 0], [1, 2, 0, 2]])
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    first = cached(x, ei)
    torch.testing.assert_close(cached(x, torch.tensor([[0], [1]])), first)
    assert torch.autograd.gradcheck(lambda a: cached(a, ei), (x,))


def test_eg_errors():
    with pytest.raises(ValueError, match="aggregators"):
        EGConv(2, 4, ["median"])
    with pytest.raises(ValueError, match="num_heads"):
        EGConv(2, 6, num_heads=4)
    with pytest.raises(ValueError, match="x"):
        EGConv(2, 8)(torch.randn(3, 5), torch.tensor([[0], [1]]))
