import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import FAConv
from tests.graphs import edge_lists


def loop_fa(conv, x, x0, edge_index, weight=None, loops=True):
    """The formula edge by edge; without ``weight``, 1/sqrt(d_i d_j) with self-loops."""
    n = x.shape[0]
    edges = [(j, i) for j, i in edge_index.t().tolist() if not (loops and i == j)]
    if weight is None:
        edges += [(i, i) for i in range(n)] if loops else []
        deg = torch.zeros(n, dtype=torch.float64)
        for _, i in edges:
            deg[i] += 1
        coef = [deg[i].pow(-0.5) * deg[j].pow(-0.5) for j, i in edges]
    else:
        coef = list(weight)
    al, ar = x @ conv.att_l.weight.t(), x @ conv.att_r.weight.t()
    out = conv.eps * x0.clone()
    for (j, i), c in zip(edges, coef):
        out[i] += torch.tanh(al[j] + ar[i]) * c * x[j]
    return out


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14), st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_matches_loop_formula(graph, eps, seed):
    edge_index, n, _ = graph
    g = torch.Generator().manual_seed(seed)
    conv = FAConv(3, eps=eps).double()
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    x0 = torch.randn(n, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(conv(x, x0, edge_index), loop_fa(conv, x, x0, edge_index))


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14), st.integers(0, 2**16))
def test_given_weights_without_normalisation(graph, seed):
    edge_index, n, _ = graph
    g = torch.Generator().manual_seed(seed)
    conv = FAConv(3, normalize=False).double()
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], generator=g, dtype=torch.float64)
    out, (ei, alpha) = conv(x, x, edge_index, w, return_attention_weights=True)
    edges = edge_index.t().tolist()
    out_loop = x * conv.eps
    for e, (j, i) in enumerate(edges):
        out_loop[i] += torch.tanh(x[j] @ conv.att_l.weight[0] + x[i] @ conv.att_r.weight[0]) * w[e] * x[j]
    torch.testing.assert_close(out, out_loop)
    assert torch.equal(ei, edge_index) and alpha.shape == (len(edges),)
    assert bool((alpha.abs() < 1).all())


def test_cache_gradcheck_and_repr():
    conv = FAConv(2, cached=True).double()
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    first = conv(x, x, ei)
    torch.testing.assert_close(conv(x, x, torch.tensor([[0], [2]])), first)
    assert torch.autograd.gradcheck(lambda a: conv(a, a, ei), (x,))
    assert str(conv) == "FAConv(2, eps=0.1)"
    assert set(conv.state_dict()) == {"att_l.weight", "att_r.weight"}


def test_fa_errors():
    x, ei = torch.randn(3, 2), torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="edge_weight"):
        FAConv(2)(x, x, ei, torch.ones(1))
    with pytest.raises(ValueError, match="edge_weight"):
        FAConv(2, normalize=False)(x, x, ei)
    with pytest.raises(ValueError, match="edge_weight"):
        FAConv(2, normalize=False)(x, x, ei, torch.ones(3))
