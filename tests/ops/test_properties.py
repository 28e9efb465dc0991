"""Property tests: the primitives agree with the loop references in ``loop_reference``.

Hypothesis draws the rank (1 to 3), the reduced axis (0, 1 or -1), sizes including 0,
bucket ids with duplicates and empty buckets, ``dim_size``/``num_segments`` larger than
the largest id (or omitted), float32/float64 values (sometimes small integers, so that
max/min see ties) and int32/int64 indices.
"""
from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx.ops as ops

from .loop_reference import (gather_loop, ptr_to_ids, scatter_loop, segment_loop,
                             segment_softmax_loop)

REDUCES = ("sum", "add", "mean", "max", "min", "mul")
FLOATS = st.sampled_from([torch.float32, torch.float64])
INDEX_DTYPES = st.sampled_from([torch.int32, torch.int64])


@st.composite
def layouts(draw, length):
    """A shape of rank 1-3 whose size along the drawn ``dim`` is ``length``."""
    rank = draw(st.integers(1, 3))
    dim = draw(st.sampled_from([d for d in (0, 1, -1) if -rank <= d < rank]))
    shape = draw(st.lists(st.integers(0, 3), min_size=rank, max_size=rank))
    shape[dim] = length
    return shape, dim


@st.composite
def values(draw, shape):
    """Random values of ``shape``: normal, or small integers so that max/min see ties."""
    dtype = draw(FLOATS)
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    if draw(st.booleans()):
        return torch.randint(-2, 3, shape, generator=gen).to(dtype)
    return torch.randn(shape, generator=gen, dtype=dtype)


@st.composite
def bucket_cases(draw):
    """(src, index, dim, dim_size or None, buckets) for scatter-like primitives."""
    ids = draw(st.lists(st.integers(0, 4), max_size=8))
    shape, dim = draw(layouts(len(ids)))
    src = draw(values(shape))
    index = torch.tensor(ids, dtype=draw(INDEX_DTYPES))
    smallest = max(ids) + 1 if ids else 0
    dim_size = draw(st.one_of(st.none(), st.integers(smallest, smallest + 3)))
    return src, index, dim, dim_size, smallest if dim_size is None else dim_size


@st.composite
def segment_cases(draw):
    """(src, ptr, dim) with segment lengths 0-3, so that empty segments occur."""
    counts = draw(st.lists(st.integers(0, 3), max_size=5))
    bounds = [0]
    for count in counts:
        bounds.append(bounds[-1] + count)
    shape, dim = draw(layouts(bounds[-1]))
    return draw(values(shape)), torch.tensor(bounds, dtype=draw(INDEX_DTYPES)), dim


def assert_empty_buckets_zero(out, index, dim, buckets):
    """Buckets that no index entry names are exactly 0 (never inf or nan)."""
    used = set(index.tolist())
    moved = out.movedim(dim, 0)
    for bucket in range(buckets):
        if bucket not in used:
            assert bool((moved[bucket] == 0).all()), f"bucket {bucket} is {moved[bucket]}"


@given(data=st.data())
def test_gather_matches_loop(data):
    length = data.draw(st.integers(0, 5))
    shape, dim = data.draw(layouts(length))
    src = data.draw(values(shape))
    picks = data.draw(st.lists(st.integers(0, max(length - 1, 0)), max_size=8)) if length else []
    index = torch.tensor(picks, dtype=data.draw(INDEX_DTYPES))
    out = ops.gather(src, index, dim)
    assert out.dtype == src.dtype
    torch.testing.assert_close(out, gather_loop(src, index, dim), rtol=0, atol=0)


@pytest.mark.parametrize("reduce", REDUCES)
@given(case=bucket_cases())
def test_scatter_matches_loop(reduce, case):
    src, index, dim, dim_size, buckets = case
    out = ops.scatter(src, index, dim, dim_size, reduce)
    expected = scatter_loop(src, index, dim, buckets, reduce)
    assert out.shape == expected.shape and out.dtype == src.dtype
    torch.testing.assert_close(out, expected)
    assert bool(torch.isfinite(out).all())
    assert_empty_buckets_zero(out, index, dim, buckets)


@pytest.mark.parametrize("reduce", REDUCES)
@given(case=segment_cases())
def test_segment_matches_loop(reduce, case):
    src, ptr, dim = case
    out = ops.segment(src, ptr, dim, reduce)
    expected = segment_loop(src, ptr, dim, reduce)
    assert out.shape == expected.shape and out.dtype == src.dtype
    torch.testing.assert_close(out, expected)
    assert bool(torch.isfinite(out).all())
    assert_empty_buckets_zero(out, ptr_to_ids(ptr), dim, ptr.numel() - 1)


@given(case=bucket_cases())
def test_segment_softmax_index_matches_loop(case):
    src, index, dim, num_segments, _ = case
    out = ops.segment_softmax(src, index, dim=dim, num_segments=num_segments)
    assert out.shape == src.shape and out.dtype == src.dtype
    torch.testing.assert_close(out, segment_softmax_loop(src, index, dim))


@given(case=segment_cases())
def test_segment_softmax_ptr_matches_loop(case):
    src, ptr, dim = case
    out = ops.segment_softmax(src, ptr=ptr, dim=dim)
    assert out.shape == src.shape and out.dtype == src.dtype
    torch.testing.assert_close(out, segment_softmax_loop(src, ptr_to_ids(ptr), dim))


@given(case=bucket_cases())
def test_segment_softmax_groups_sum_to_one(case):
    """Within every non-empty group the weights are positive and add up to 1."""
    src, index, dim, num_segments, buckets = case
    out = ops.segment_softmax(src, index, dim=dim, num_segments=num_segments)
    totals = scatter_loop(out, index, dim, buckets, "sum").movedim(dim, 0)
    assert bool((out >= 0).all())
    for group in set(index.tolist()):
        torch.testing.assert_close(totals[group], torch.ones_like(totals[group]))


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "mul"])
def test_only_empty_buckets_give_zeros(reduce):
    """An index naming no bucket at all still yields a zero output of size ``dim_size``."""
    src = torch.empty(0, 3)
    out = ops.scatter(src, torch.empty(0, dtype=torch.long), 0, 4, reduce)
    assert out.shape == (4, 3) and bool((out == 0).all())
    seg = ops.segment(src, torch.zeros(5, dtype=torch.long), 0, reduce)
    assert seg.shape == (4, 3) and bool((seg == 0).all())
