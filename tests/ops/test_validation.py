"""Bad input gets an error that names the primitive, the argument and the problem.

Mixed devices are simulated with the ``meta`` device against ``cpu``: both directions
must be refused, since a meta tensor carries a device, a dtype and a shape but no data.
"""
from __future__ import annotations

import re

import pytest
import torch

import gfx.ops as ops

SRC = torch.randn(4, 3)
INDEX = torch.tensor([0, 2, 2, 1])
PTR = torch.tensor([0, 1, 3, 4])


def _scatter(src=SRC, index=INDEX, **kw):
    return ops.scatter(src, index, **kw)


def _softmax(src=SRC, index=INDEX, **kw):
    return ops.segment_softmax(src, index, **kw)


# (call, error type, words that must all appear in the message)
CASES = {
    # index values out of range
    "scatter index too large": (
        lambda: _scatter(dim_size=2), IndexError, ["gfx.scatter", "'index'", "2", "dim_size=2"]),
    "scatter index negative": (
        lambda: _scatter(index=torch.tensor([0, -1, 2, 1])), IndexError,
        ["gfx.scatter", "'index'", "negative", "-1"]),
    "gather index too large": (
        lambda: ops.gather(SRC, torch.tensor([0, 4])), IndexError,
        ["gfx.gather", "'index'", "4", "src.size(0)=4"]),
    "gather index negative": (
        lambda: ops.gather(SRC, torch.tensor([-2]), dim=1), IndexError,
        ["gfx.gather", "'index'", "negative"]),
    "softmax index too large": (
        lambda: _softmax(num_segments=2), IndexError,
        ["gfx.segment_softmax", "'index'", "2"]),
    "softmax index negative": (
        lambda: _softmax(index=torch.tensor([0, -3, 1, 1])), IndexError,
        ["gfx.segment_softmax", "'index'", "negative"]),
    # index dtype and rank
    "scatter float index": (
        lambda: _scatter(index=INDEX.float()), TypeError,
        ["gfx.scatter", "'index'", "int64", "torch.float32"]),
    "gather float index": (
        lambda: ops.gather(SRC, INDEX.double()), TypeError, ["gfx.gather", "'index'", "float64"]),
    "softmax float index": (
        lambda: _softmax(index=INDEX.float()), TypeError, ["gfx.segment_softmax", "'index'"]),
    "scatter 2-D index": (
        lambda: _scatter(index=INDEX.view(2, 2)), ValueError,
        ["gfx.scatter", "'index'", "1-D", "(2, 2)"]),
    "gather 2-D index": (
        lambda: ops.gather(SRC, INDEX.view(1, 4)), ValueError, ["gfx.gather", "'index'", "1-D"]),
    "softmax 2-D index": (
        lambda: _softmax(index=INDEX.view(4, 1)), ValueError,
        ["gfx.segment_softmax", "'index'", "1-D"]),
    # index length against src along dim
    "scatter size mismatch": (
        lambda: _scatter(index=INDEX[:3]), ValueError,
        ["gfx.scatter", "'index'", "3 entries", "'src'", "4"]),
    "scatter size mismatch dim 1": (
        lambda: _scatter(dim=1), ValueError, ["gfx.scatter", "'index'", "4 entries", "dim 1"]),
    "softmax size mismatch": (
        lambda: _softmax(index=INDEX[:2]), ValueError, ["gfx.segment_softmax", "'index'"]),
    # mixed devices (meta stands in for a second device)
    "scatter meta src": (
        lambda: _scatter(src=SRC.to("meta"), dim_size=3), ValueError,
        ["gfx.scatter", "'index'", "cpu", "meta"]),
    "scatter meta index": (
        lambda: _scatter(index=INDEX.to("meta"), dim_size=3), ValueError,
        ["gfx.scatter", "'index'", "cpu", "meta"]),
    "gather meta index": (
        lambda: ops.gather(SRC, INDEX.to("meta")), ValueError, ["gfx.gather", "'index'", "meta"]),
    "gather meta src": (
        lambda: ops.gather(SRC.to("meta"), INDEX), ValueError, ["gfx.gather", "'index'", "meta"]),
    "segment meta ptr": (
        lambda: ops.segment(SRC, PTR.to("meta")), ValueError, ["gfx.segment", "'ptr'", "meta"]),
    "segment meta src": (
        lambda: ops.segment(SRC.to("meta"), PTR), ValueError, ["gfx.segment", "'ptr'", "meta"]),
    "softmax meta index": (
        lambda: _softmax(index=INDEX.to("meta"), num_segments=3), ValueError,
        ["gfx.segment_softmax", "'index'", "meta"]),
    "softmax meta ptr": (
        lambda: ops.segment_softmax(SRC, ptr=PTR.to("meta")), ValueError,
        ["gfx.segment_softmax", "'ptr'", "meta"]),
    # reduce names
    "scatter bad reduce": (
        lambda: _scatter(reduce="avg"), ValueError,
        ["gfx.scatter", "'avg'", "sum", "mean", "max", "min", "mul"]),
    "segment bad reduce": (
        lambda: ops.segment(SRC, PTR, reduce="prod"), ValueError,
        ["gfx.segment", "'prod'", "sum", "mean", "max", "min", "mul"]),
    "scatter reduce not a string": (
        lambda: _scatter(reduce=None), TypeError, ["gfx.scatter", "'reduce'", "NoneType"]),
    # CSR pointers
    "segment ptr not starting at 0": (
        lambda: ops.segment(SRC, torch.tensor([1, 3, 4])), ValueError,
        ["gfx.segment", "'ptr'", "start at 0", "1"]),
    "segment ptr not ending at length": (
        lambda: ops.segment(SRC, torch.tensor([0, 1, 3])), ValueError,
        ["gfx.segment", "'ptr'", "src.size(dim)=4", "3"]),
    "segment ptr decreasing": (
        lambda: ops.segment(SRC, torch.tensor([0, 3, 1, 4])), ValueError,
        ["gfx.segment", "'ptr'", "non-decreasing"]),
    "segment ptr float": (
        lambda: ops.segment(SRC, PTR.float()), TypeError, ["gfx.segment", "'ptr'", "float32"]),
    "segment ptr 2-D": (
        lambda: ops.segment(SRC, PTR.view(1, 4)), ValueError, ["gfx.segment", "'ptr'", "1-D"]),
    "segment ptr empty": (
        lambda: ops.segment(SRC, torch.empty(0, dtype=torch.long)), ValueError,
        ["gfx.segment", "'ptr'", "at least one entry"]),
    "softmax ptr not starting at 0": (
        lambda: ops.segment_softmax(SRC, ptr=torch.tensor([2, 4])), ValueError,
        ["gfx.segment_softmax", "'ptr'", "start at 0"]),
    "softmax ptr not ending at length": (
        lambda: ops.segment_softmax(SRC, ptr=torch.tensor([0, 2, 5])), ValueError,
        ["gfx.segment_softmax", "'ptr'", "end at"]),
    "softmax ptr decreasing": (
        lambda: ops.segment_softmax(SRC, ptr=torch.tensor([0, 2, 1, 4])), ValueError,
        ["gfx.segment_softmax", "'ptr'", "non-decreasing"]),
    # dim
    "scatter dim too large": (
        lambda: _scatter(dim=2), IndexError, ["gfx.scatter", "dim=2", "rank 2"]),
    "scatter dim too negative": (
        lambda: _scatter(dim=-3), IndexError, ["gfx.scatter", "dim=-3"]),
    "gather dim too large": (
        lambda: ops.gather(SRC, INDEX, dim=5), IndexError, ["gfx.gather", "dim=5"]),
    "segment dim too large": (
        lambda: ops.segment(SRC, PTR, dim=2), IndexError, ["gfx.segment", "dim=2"]),
    "softmax dim too large": (
        lambda: _softmax(dim=3), IndexError, ["gfx.segment_softmax", "dim=3"]),
    "scatter scalar src": (
        lambda: ops.scatter(torch.tensor(1.0), INDEX[:1]), ValueError,
        ["gfx.scatter", "'src'", "scalar"]),
    # other arguments
    "scatter negative dim_size": (
        lambda: _scatter(dim_size=-1), ValueError, ["gfx.scatter", "'dim_size'", "-1"]),
    "scatter src not a tensor": (
        lambda: ops.scatter([1.0, 2.0], INDEX[:2]), TypeError,
        ["gfx.scatter", "'src'", "torch.Tensor", "list"]),
    "scatter bool src": (
        lambda: _scatter(src=SRC > 0), TypeError, ["gfx.scatter", "'src'", "bool"]),
    "scatter index not a tensor": (
        lambda: _scatter(index=[0, 1, 2, 3]), TypeError, ["gfx.scatter", "'index'", "list"]),
    "softmax integer src": (
        lambda: _softmax(src=INDEX), TypeError, ["gfx.segment_softmax", "'src'", "floating"]),
    "softmax index and ptr": (
        lambda: ops.segment_softmax(SRC, INDEX, PTR), ValueError,
        ["gfx.segment_softmax", "'index'", "'ptr'"]),
    "softmax neither index nor ptr": (
        lambda: ops.segment_softmax(SRC), ValueError, ["gfx.segment_softmax", "'index'", "'ptr'"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_with_a_named_argument(name):
    call, error, words = CASES[name]
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    missing = [word for word in words if word not in message]
    assert not missing, f"{missing} not in {message!r}"


def test_valid_reduce_names_are_listed_in_order():
    with pytest.raises(ValueError, match=re.escape("expected one of sum, mean, max, min, mul")):
        ops.scatter(SRC, INDEX, reduce="median")


def test_meta_tensors_on_one_device_still_work():
    """A meta call with consistent devices gives the right shape (no data is read)."""
    src, index, ptr = SRC.to("meta"), INDEX.to("meta"), PTR.to("meta")
    assert ops.scatter(src, index, dim_size=5, reduce="max").shape == (5, 3)
    assert ops.gather(src, index, dim=0).shape == (4, 3)
    assert ops.segment(src, ptr, reduce="mean").shape == (3, 3)
    assert ops.segment_softmax(src, index, num_segments=3).shape == (4, 3)
    assert ops.segment_softmax(src, ptr=ptr).shape == (4, 3)


def test_meta_tensors_need_an_explicit_size():
    with pytest.raises(ValueError, match="'dim_size' must be given"):
        ops.scatter(SRC.to("meta"), INDEX.to("meta"))
    with pytest.raises(ValueError, match="'num_segments' must be given"):
        ops.segment_softmax(SRC.to("meta"), INDEX.to("meta"))


def test_add_is_an_alias_of_sum():
    torch.testing.assert_close(ops.scatter(SRC, INDEX, reduce="add"),
                               ops.scatter(SRC, INDEX, reduce="sum"))


def test_index_bounds_are_cached_per_base_tensor_and_version():
    from gfx.ops._checks import _BOUNDS, index_bounds
    edge_index = torch.tensor([[0, 3, 1], [2, 2, 5]])
    assert index_bounds(edge_index[0]) == (0, 3) and index_bounds(edge_index[1]) == (2, 5)
    assert len(_BOUNDS[edge_index]) == 2  # one entry per row view
    index_bounds(edge_index[0])
    assert len(_BOUNDS[edge_index]) == 2  # a cache hit
    edge_index[0, 1] = 9  # in place: the version changes, the bounds are recomputed
    assert index_bounds(edge_index[0]) == (0, 9)
    with pytest.raises(IndexError, match="contains 9"):
        ops.gather(torch.randn(4, 2), edge_index[0])
