"""knn_interpolate against a per-point loop written from the formula."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import knn_interpolate

D = torch.float64


@st.composite
def clouds(draw):
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    n, m = draw(st.integers(0, 10)), draw(st.integers(0, 8))
    groups = draw(st.integers(1, 3))
    pos_x = torch.randn(n, 3, generator=g, dtype=D)
    if n and draw(st.booleans()):
        pos_x[-1] = pos_x[0]  # a duplicate point
    pos_y = torch.randn(m, 3, generator=g, dtype=D)
    if n and m and draw(st.booleans()):
        pos_y[0] = pos_x[0]  # a target on a source: weight 1 / 1e-16
    bx = torch.randint(0, groups, (n,), generator=g)
    by = torch.randint(0, groups, (m,), generator=g)
    return torch.randn(n, 2, generator=g, dtype=D), pos_x, pos_y, bx, by


def loop_interpolate(x, pos_x, pos_y, bx, by, k):
    out = torch.zeros(pos_y.shape[0], x.shape[1], dtype=D)
    for i in range(pos_y.shape[0]):
        cands = [j for j in range(pos_x.shape[0]) if bx[j] == by[i]]
        d = sorted((float(((pos_y[i] - pos_x[j]) ** 2).sum()), j) for j in cands)[:k]
        if not d:
            continue  # no source point in the example: zeros
        w = [1.0 / max(s, 1e-16) for s, _ in d]
        out[i] = sum(wi * x[j] for wi, (_, j) in zip(w, d)) / sum(w)
    return out


@settings(max_examples=10, deadline=None)
@given(clouds(), st.integers(1, 4))
def test_matches_formula(cloud, k):
    x, pos_x, pos_y, bx, by = cloud
    got = knn_interpolate(x, pos_x, pos_y, bx, by, k=k)
    torch.testing.assert_close(got, loop_interpolate(x, pos_x, pos_y, bx, by, k))
    assert not torch.isnan(got).any()


def test_no_batch_and_k_default():
    g = torch.Generator().manual_seed(0)
    x, pos_x, pos_y = (torch.randn(6, 2, generator=g, dtype=D),
                       torch.randn(6, 3, generator=g, dtype=D),
                       torch.randn(4, 3, generator=g, dtype=D))
    zeros_x, zeros_y = torch.zeros(6, dtype=torch.long), torch.zeros(4, dtype=torch.long)
    torch.testing.assert_close(knn_interpolate(x, pos_x, pos_y),
                               loop_interpolate(x, pos_x, pos_y, zeros_x, zeros_y, 3))


def test_gradcheck():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 2, generator=g, dtype=D, requires_grad=True)
    pos_x = torch.randn(6, 3, generator=g, dtype=D, requires_grad=True)
    pos_y = torch.randn(4, 3, generator=g, dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: knn_interpolate(a, b, c, k=2),
                                    (x, pos_x, pos_y))


def test_bad_inputs():
    with pytest.raises(ValueError, match="'pos_x'"):
        knn_interpolate(torch.randn(3, 2), torch.randn(4, 3), torch.randn(2, 3))
    with pytest.raises(ValueError, match="'k'"):
        knn_interpolate(torch.randn(3, 2), torch.randn(3, 3), torch.randn(2, 3), k=0)
    with pytest.raises(ValueError, match="same number of features"):
        knn_interpolate(torch.randn(3, 2), torch.randn(3, 3), torch.randn(2, 2))
