"""Gradients of the primitives: ``gradcheck`` in float64, ties and zeros by hand.

``gradcheck`` compares the analytic backward with central finite differences, which is
only meaningful where the function is differentiable: max/min inputs are drawn distinct
(gaps of 0.25 against a step of 1e-6), so no perturbation changes the winner.  Ties are
checked separately against hand-computed splits.  The product is multilinear in each
input, so finite differences are exact for it even at zeros; inputs with one and with two
zeros in a bucket are gradchecked as well as compared with hand-derived values.
"""
from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

import gfx.ops as ops

REDUCES = ("sum", "mean", "max", "min", "mul")
SHAPES_AND_DIMS = [((7,), 0), ((7, 3), 0), ((2, 7), 1), ((2, 3, 7), -1), ((3, 7, 2), 1)]


def _values(shape, reduce, seed=0):
    """float64 leaf suited to ``reduce``: distinct for max/min, away from 0 for mul."""
    gen = torch.Generator().manual_seed(seed)
    numel = 1
    for size in shape:
        numel *= size
    if reduce in ("max", "min"):
        values = torch.randperm(numel, generator=gen).double() / 4
    elif reduce == "mul":
        signs = torch.randint(0, 2, (numel,), generator=gen).double() * 2 - 1
        values = signs * (0.5 + torch.rand(numel, generator=gen, dtype=torch.float64))
    else:
        values = torch.randn(numel, generator=gen, dtype=torch.float64)
    return values.reshape(shape).requires_grad_()


# Seven slices into six buckets: duplicates (0, 2), singletons (1, 4) and empty (3, 5).
INDEX = torch.tensor([2, 0, 2, 1, 0, 2, 4])
PTR = torch.tensor([0, 2, 2, 5, 6, 6, 7])  # segments of length 2, 0, 3, 1, 0, 1


@pytest.mark.parametrize("shape,dim", SHAPES_AND_DIMS)
def test_gather_gradcheck(shape, dim):
    sizes = list(shape)
    sizes[dim] = 4  # gather picks 7 rows out of 4, so several are picked twice
    src = _values(tuple(sizes), "sum")
    index = torch.tensor([3, 0, 3, 3, 1, 0, 3])
    assert gradcheck(lambda s: ops.gather(s, index, dim), (src,))
    assert gradgradcheck(lambda s: ops.gather(s, index, dim), (src,))


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("shape,dim", SHAPES_AND_DIMS)
@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32])
def test_scatter_gradcheck(reduce, shape, dim, index_dtype):
    src = _values(shape, reduce)
    index = INDEX.to(index_dtype)
    assert gradcheck(lambda s: ops.scatter(s, index, dim, 6, reduce), (src,))


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("shape,dim", SHAPES_AND_DIMS)
def test_segment_gradcheck(reduce, shape, dim):
    src = _values(shape, reduce, seed=1)
    assert gradcheck(lambda s: ops.segment(s, PTR, dim, reduce), (src,))


@pytest.mark.parametrize("shape,dim", SHAPES_AND_DIMS)
def test_segment_softmax_gradcheck(shape, dim):
    src = _values(shape, "sum", seed=2)
    assert gradcheck(lambda s: ops.segment_softmax(s, INDEX, dim=dim, num_segments=6), (src,))
    assert gradcheck(lambda s: ops.segment_softmax(s, ptr=PTR, dim=dim), (src,))


@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize("shape,dim", SHAPES_AND_DIMS[1:3])
def test_sum_and_mean_gradgradcheck(reduce, shape, dim):
    """The sum/mean backward is made of primitives, so it is differentiable again."""
    src = _values(shape, reduce, seed=3)
    assert gradgradcheck(lambda s: ops.scatter(s, INDEX, dim, 6, reduce), (src,))
    assert gradgradcheck(lambda s: ops.segment(s, PTR, dim, reduce), (src,))


@pytest.mark.parametrize("reduce", ["max", "min", "mul"])
def test_value_dependent_reductions_gradgradcheck(reduce):
    src = _values((7, 2), reduce, seed=5)
    assert gradgradcheck(lambda s: ops.scatter(s, INDEX, 0, 6, reduce), (src,))
    assert gradgradcheck(lambda s: ops.segment(s, PTR, 0, reduce), (src,))


def test_segment_softmax_gradgradcheck():
    src = _values((7, 2), "sum", seed=4)
    assert gradgradcheck(lambda s: ops.segment_softmax(s, INDEX, num_segments=6), (src,))


def test_empty_source_has_empty_gradient():
    for reduce in REDUCES:
        src = torch.empty(0, 3, dtype=torch.float64, requires_grad=True)
        empty = torch.empty(0, dtype=torch.long)
        ops.scatter(src, empty, 0, 4, reduce).sum().backward()
        assert src.grad.shape == (0, 3)


def _grad(fn, src, grad_out):
    src = src.clone().requires_grad_()
    fn(src).backward(grad_out)
    return src.grad


@pytest.mark.parametrize("form", ["scatter", "segment"])
def test_max_min_ties_split_the_gradient_evenly(form):
    # One bucket of three rows; column 0 ties at the top, column 1 ties at the bottom.
    src = torch.tensor([[3.0, 1.0], [3.0, 2.0], [1.0, 1.0]], dtype=torch.float64)
    grad_out = torch.tensor([[2.0, 4.0]], dtype=torch.float64)

    def run(reduce):
        if form == "scatter":
            return lambda s: ops.scatter(s, torch.zeros(3, dtype=torch.long), 0, 1, reduce)
        return lambda s: ops.segment(s, torch.tensor([0, 3]), 0, reduce)

    # max: column 0 has two winners (rows 0, 1) sharing 2.0; column 1 has one (row 1).
    expected_max = torch.tensor([[1.0, 0.0], [1.0, 4.0], [0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(_grad(run("max"), src, grad_out), expected_max)
    # min: column 0 has one winner (row 2); column 1 has two (rows 0, 2) sharing 4.0.
    expected_min = torch.tensor([[0.0, 2.0], [0.0, 0.0], [2.0, 2.0]], dtype=torch.float64)
    torch.testing.assert_close(_grad(run("min"), src, grad_out), expected_min)


def test_max_ties_in_several_buckets_along_dim_1():
    src = torch.tensor([[5.0, 5.0, 5.0, 0.0, 7.0]], dtype=torch.float64)
    index = torch.tensor([0, 0, 0, 1, 1])
    grad_out = torch.tensor([[3.0, 6.0, 9.0]], dtype=torch.float64)  # bucket 2 is empty
    expected = torch.tensor([[1.0, 1.0, 1.0, 0.0, 6.0]], dtype=torch.float64)
    got = _grad(lambda s: ops.scatter(s, index, 1, 3, "max"), src, grad_out)
    torch.testing.assert_close(got, expected)


# Buckets: {2, 0, 3} (one zero), {0, 5, 0} (two zeros), {4, -2} (no zero).
MUL_SRC = torch.tensor([2.0, 0.0, 3.0, 0.0, 5.0, 0.0, 4.0, -2.0], dtype=torch.float64)
MUL_INDEX = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2])
MUL_PTR = torch.tensor([0, 3, 6, 8])
MUL_GRAD_OUT = torch.tensor([10.0, 20.0, 30.0], dtype=torch.float64)
# d prod / d x_e = product of the other members of e's bucket, times the bucket's grad.
MUL_EXPECTED = torch.tensor([0.0, 60.0, 0.0, 0.0, 0.0, 0.0, -60.0, 120.0], dtype=torch.float64)


@pytest.mark.parametrize("form", ["scatter", "segment"])
def test_mul_gradient_with_zeros(form):
    if form == "scatter":
        def fn(s):
            return ops.scatter(s, MUL_INDEX, 0, 3, "mul")
    else:
        def fn(s):
            return ops.segment(s, MUL_PTR, 0, "mul")
    torch.testing.assert_close(_grad(fn, MUL_SRC, MUL_GRAD_OUT), MUL_EXPECTED)
    # Finite differences are exact for a multilinear function, zeros included; the second
    # derivative at a zero is the product of the remaining members (or 0 past two zeros).
    assert gradcheck(fn, (MUL_SRC.clone().requires_grad_(),))
    assert gradgradcheck(fn, (MUL_SRC.clone().requires_grad_(),))


def test_mul_gradient_with_zeros_in_2d_columns():
    """Zeros sit in different rows per column, so every column has its own case."""
    src = torch.tensor([[0.0, 2.0], [3.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    index = torch.zeros(3, dtype=torch.long)
    # Column 0 is (0, 3, 0) and column 1 is (2, 0, 0): two zeros each, so all gradients are 0.
    expected = torch.zeros(3, 2, dtype=torch.float64)
    got = _grad(lambda s: ops.scatter(s, index, 0, 1, "mul"), src, torch.ones(1, 2).double())
    torch.testing.assert_close(got, expected)
    src[2, 1] = 4.0  # column 1 becomes (2, 0, 4): one zero, its gradient is 2 * 4
    expected[1, 1] = 8.0
    got = _grad(lambda s: ops.scatter(s, index, 0, 1, "mul"), src, torch.ones(1, 2).double())
    torch.testing.assert_close(got, expected)
