"""``gfx::segment``: the reductions of ``gfx::scatter`` over sorted, contiguous segments.

Segment ``i`` is the slice ``src[ptr[i]:ptr[i+1]]`` along ``dim`` (CSR pointers), so
``ptr`` has ``num_segments + 1`` non-decreasing entries with ``ptr[0] == 0`` and
``ptr[-1] == src.size(dim)``.  Empty segments give 0.  Reductions run in segment order,
so results are deterministic; compiled backends lower it without atomics.
"""
from __future__ import annotations

import torch
from torch import Tensor

from . import _checks
from .scatter import REDUCTIONS, reduce_backward, scatter_reference

OP = "segment"


def ptr_to_index(ptr: Tensor, length: int) -> Tensor:
    """Expand CSR pointers to one segment id per element (``length`` elements)."""
    counts = ptr[1:] - ptr[:-1]
    ids = torch.arange(counts.shape[0], device=ptr.device)
    return torch.repeat_interleave(ids, counts, output_size=length)


def check_ptr_values(op: str, ptr: Tensor, length: int) -> None:
    """Value check: ``ptr`` starts at 0, ends at ``length`` and never decreases."""
    if not _checks.has_data(ptr):
        return
    if int(ptr[0]) != 0:
        raise ValueError(f"gfx.{op}: 'ptr' must start at 0, got {int(ptr[0])}")
    if int(ptr[-1]) != length:
        raise ValueError(
            f"gfx.{op}: 'ptr' must end at src.size(dim)={length}, got {int(ptr[-1])}")
    if ptr.numel() > 1 and bool((ptr[1:] < ptr[:-1]).any()):
        raise ValueError(f"gfx.{op}: 'ptr' must be non-decreasing")


@torch.library.custom_op("gfx::segment", mutates_args=())
def segment_op(src: Tensor, ptr: Tensor, dim: int, reduce: str) -> Tensor:
    check_ptr_values(OP, ptr, src.shape[dim])
    index = ptr_to_index(ptr, src.shape[dim])
    return scatter_reference(src, index, dim, ptr.shape[0] - 1, reduce)


@segment_op.register_fake
def _segment_fake(src, ptr, dim, reduce):
    check_ptr(OP, ptr, src)
    shape = list(src.shape)
    shape[dim] = ptr.shape[0] - 1
    return src.new_empty(shape)


def _setup_context(ctx, inputs, output):
    src, ptr, dim, reduce = inputs
    ctx.dim, ctx.reduce = dim, reduce
    needs_values = reduce in ("max", "min", "mul")
    ctx.save_for_backward(src if needs_values else None, ptr,
                          output if needs_values else None)
    ctx.length = src.shape[dim]


def _backward(ctx, grad):
    src, ptr, out = ctx.saved_tensors
    index = ptr_to_index(ptr, ctx.length)
    return reduce_backward(grad, src, index, out, ctx.dim, ctx.reduce), None, None, None


segment_op.register_autograd(_backward, setup_context=_setup_context)


def check_ptr(op: str, ptr: Tensor, src: Tensor) -> None:
    """Structural check: ``ptr`` is a non-empty 1-D integer tensor on ``src``'s device."""
    _checks.check_tensor(op, "ptr", ptr)
    if ptr.dtype not in _checks.INDEX_DTYPES:
        raise TypeError(f"gfx.{op}: 'ptr' must be int64 or int32, got {ptr.dtype}")
    if ptr.dim() != 1 or ptr.shape[0] < 1:
        raise ValueError(
            f"gfx.{op}: 'ptr' must be 1-D with at least one entry, got shape {tuple(ptr.shape)}")
    if ptr.device != src.device:
        raise ValueError(f"gfx.{op}: 'ptr' is on {ptr.device} but 'src' is on {src.device}")


def segment(src: Tensor, ptr: Tensor, dim: int = 0, reduce: str = "sum") -> Tensor:
    """Reduce contiguous segments of ``src`` along ``dim`` delimited by CSR pointers.

    Args:
        src (Tensor): the values, sorted by segment along ``dim``.
        ptr (Tensor): 1-D int64/int32 pointers, ``num_segments + 1`` entries.
        dim (int, optional): the axis to reduce along. (default: ``0``)
        reduce (str, optional): ``"sum"`` (or ``"add"``), ``"mean"``, ``"max"``,
            ``"min"`` or ``"mul"``. (default: ``"sum"``)
    """
    reduce = _checks.check_reduce(OP, reduce, REDUCTIONS)
    if _checks.is_tracing(src, ptr):
        dim = _checks.normalize_dim(dim, src)
    else:
        _checks.check_src(OP, src)
        dim = _checks.check_dim(OP, src, dim)
        check_ptr(OP, ptr, src)
    return segment_op(src, ptr, dim, reduce)
