"""bro and gini against loops written from the formulas."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn.functional import bro, gini


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=10), st.sampled_from([2, 1, "fro", "nuc"]),
       st.integers(0, 2**16))
def test_bro_is_the_mean_per_graph_norm(graph_of_node, p, seed):
    batch = torch.tensor(graph_of_node)
    x = torch.randn(len(batch), 3, generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)
    norms = []
    for g in sorted(set(graph_of_node)):
        h = x[batch == g]
        gram = h @ h.t() - torch.eye(h.size(0), dtype=x.dtype)
        if p == "nuc":
            norms.append(torch.linalg.svdvals(gram).sum())
        elif p in (2, "fro"):
            norms.append(gram.pow(2).sum().sqrt())
        else:
            norms.append(gram.abs().sum())
    torch.testing.assert_close(bro(x, batch, p), torch.stack(norms).mean())


def test_bro_gradient_and_errors():
    x = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    batch = torch.tensor([0, 0, 1, 1, 1])
    torch.autograd.gradcheck(lambda t: bro(t, batch), (x,))
    with pytest.raises(ValueError, match="'p'"):
        bro(x, batch, p="inf")
    with pytest.raises(ValueError, match="'batch'"):
        bro(x, batch[:3])


EPS32 = torch.finfo(torch.float32).eps


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(2, 6), st.integers(0, 2**16))
def test_gini_formula(rows, n, seed):
    w = torch.randn(rows, n, generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)
    total = 0.0
    for i in range(rows):
        s = sum(abs(float(w[i, j] - w[i, k])) for j in range(n) for k in range(n))
        mean_abs = sum(abs(float(v)) for v in w[i]) / n
        total += s / (2 * (n * n - n) * mean_abs + EPS32)
    assert abs(float(gini(w)) - total / rows) < 1e-9


def test_gini_extremes_and_errors():
    assert float(gini(torch.ones(2, 5))) == 0.0
    one_hot = torch.zeros(1, 4, dtype=torch.float64)
    one_hot[0, 2] = 1.0
    # one non-zero entry of n = 4: 2(n - 1) ordered pairs differ by 1, mean |w| = 1/n,
    # so 6 / (2 * 12 / 4) = 1 (up to the epsilon)
    assert abs(float(gini(one_hot)) - 1.0) < 1e-6
    with pytest.raises(ValueError, match="'w'"):
        gini(torch.ones(3))
