"""DiffGroupNorm against the formula written with explicit per-cluster batch norms, and
group_distance_ratio against a loop over pairs of rows (class against all other rows)."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn.norm import DiffGroupNorm


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 9), st.integers(1, 3), st.integers(0, 2**16))
def test_diff_group_norm_formula(n, groups, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    norm = DiffGroupNorm(3, groups, lamda=0.3).double()
    with torch.no_grad():
        norm.norm.weight.copy_(torch.randn(groups * 3, generator=g))
        norm.norm.bias.copy_(torch.randn(groups * 3, generator=g))
    s = torch.softmax(x @ norm.lin.weight.t(), dim=1)
    total = torch.zeros_like(x)
    for k in range(groups):
        part = s[:, k:k + 1] * x
        mean = part.mean(0)
        var = ((part - mean) ** 2).mean(0)
        cols = slice(k * 3, (k + 1) * 3)
        total += ((part - mean) / (var + 1e-5).sqrt() * norm.norm.weight[cols]
                  + norm.norm.bias[cols])
    torch.testing.assert_close(norm(x), x + 0.3 * total)


def test_diff_group_norm_repr_keys_and_errors():
    norm = DiffGroupNorm(4, 3)
    assert str(norm) == "DiffGroupNorm(4, groups=3)"
    assert {"lin.weight", "norm.weight", "norm.running_var"} <= set(norm.state_dict())
    with pytest.raises(ValueError, match="in_channels=4"):
        norm(torch.randn(5, 3))
    with pytest.raises(ValueError, match="'groups'"):
        DiffGroupNorm(4, 0)


def pair_ratio(x, y, eps=1e-5):
    """Class i against all other rows (numerator) and against itself (denominator)."""
    classes = int(y.max()) + 1
    rows = [[x[i] for i in range(len(y)) if y[i] == c] for c in range(classes)]
    others = [[x[i] for i in range(len(y)) if y[i] != c] for c in range(classes)]

    def mean_dist(a, b):
        return sum(float((u - v).norm()) for u in a for v in b) / (len(a) * len(b))

    between = sum(mean_dist(rows[i], others[i]) for i in range(classes)
                  if rows[i] and others[i])
    within = sum(mean_dist(r, r) for r in rows if r)
    return (between / (classes - 1) ** 2) / (within / classes + eps)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=2, max_size=10), st.integers(0, 2**16))
def test_group_distance_ratio_formula(labels, seed):
    y = torch.tensor(labels)
    if int(y.max()) == 0:
        y[0] = 1
    x = torch.randn(len(y), 3, generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)
    assert math.isclose(DiffGroupNorm.group_distance_ratio(x, y), pair_ratio(x, y),
                        rel_tol=1e-9)
