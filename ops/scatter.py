"""``gfx::scatter``: reduce the slices of ``src`` into ``dim_size`` buckets chosen by ``index``.

    out[..., i, ...] = reduce_{e : index[e] == i} src[..., e, ...]     (along ``dim``)

Reductions: ``sum`` (alias ``add``), ``mean``, ``max``, ``min``, ``mul``.  A bucket that
receives nothing is 0 for every reduction (never ``inf``).  This module holds the
primitive's schema, reference kernel, fake kernel, autograd rule and validation; the
backward rule is shared with ``gfx::segment`` through :func:`reduce_backward`.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from . import _checks

REDUCTIONS = ("sum", "mean", "max", "min", "mul")
_TORCH_REDUCE = {"sum": "sum", "mean": "mean", "max": "amax", "min": "amin", "mul": "prod"}
OP = "scatter"


def broadcast_index(index: Tensor, like: Tensor, dim: int) -> Tensor:
    """View a 1-D ``index`` along ``dim`` of ``like`` and expand it to ``like``'s shape."""
    shape = [1] * like.dim()
    shape[dim] = -1
    return index.view(shape).expand_as(like)


def output_shape(src: Tensor, dim: int, dim_size: int) -> list:
    shape = list(src.shape)
    shape[dim] = dim_size
    return shape


def scatter_reference(src: Tensor, index: Tensor, dim: int, dim_size: int, reduce: str) -> Tensor:
    """Plain torch implementation, used on every device (CPU and CUDA alike)."""
    out = src.new_zeros(output_shape(src, dim, dim_size))
    if src.numel() == 0:
        return out
    return out.scatter_reduce(dim, broadcast_index(index.long(), src, dim), src,
                              _TORCH_REDUCE[reduce], include_self=False)


@torch.library.custom_op("gfx::scatter", mutates_args=())
def scatter_op(src: Tensor, index: Tensor, dim: int, dim_size: int, reduce: str) -> Tensor:
    _checks.check_index_range(OP, index, dim_size)
    return scatter_reference(src, index, dim, dim_size, reduce)


@scatter_op.register_fake
def _scatter_fake(src, index, dim, dim_size, reduce):
    _checks.check_index(OP, index, src, dim)
    _checks.check_index_matches(OP, index, src, dim)
    return src.new_empty(output_shape(src, dim, dim_size))


def reduce_backward(grad: Tensor, src: Optional[Tensor], index: Tensor,
                    out: Optional[Tensor], dim: int, reduce: str) -> Tensor:
    """Gradient of ``scatter(src, index, dim, out.size(dim), reduce)`` w.r.t. ``src``.

    Written with gfx primitives, so it is differentiable again.  ``max``/``min`` split the
    gradient evenly between tied winners; ``mul`` is exact when ``src`` contains zeros,
    to second order as well (see NOTE [mul gradient with zeros]).
    """
    from .gather import gather_op

    size = grad.shape[dim]
    if reduce == "sum":
        return gather_op(grad, index, dim)
    if reduce == "mean":
        ones = grad.new_ones(index.shape[0])
        count = scatter_op(ones, index, 0, size, "sum").clamp(min=1)
        return gather_op(grad / broadcast_index(count, grad, dim), index, dim)
    if reduce in ("max", "min"):
        winner = (src == gather_op(out, index, dim)).to(src.dtype)
        ties = scatter_op(winner, index, dim, size, "sum").clamp(min=1)
        return winner * gather_op(grad / ties, index, dim)
    # NOTE [mul gradient with zeros]
    # d out / d src_e is the product of the other members of e's bucket:
    #   (product of the other non-zero members) * (product of the other zero members).
    # The second factor is 1 when no other member is zero, the other zero itself (value 0,
    # derivative 1) when exactly one is, and 0 to first order when two or more are.
    # Writing the single-zero case as a sum of the zero members rather than a constant 0
    # keeps the second derivative right (d^2 out / d src_e d src_z for that zero z).
    is_zero = (src == 0).to(src.dtype)
    nonzero = torch.where(is_zero > 0, torch.ones_like(src), src)
    prod_nonzero = gather_op(scatter_op(nonzero, index, dim, size, "mul"), index, dim)
    other_nonzero = prod_nonzero / nonzero
    zeros = src * is_zero
    other_zeros = gather_op(scatter_op(zeros, index, dim, size, "sum"), index, dim) - zeros
    other_count = gather_op(scatter_op(is_zero, index, dim, size, "sum"), index, dim) - is_zero
    others = torch.where(
        other_count == 0, other_nonzero,
        torch.where(other_count == 1, other_nonzero * other_zeros, torch.zeros_like(src)))
    return gather_op(grad, index, dim) * others


def _setup_context(ctx, inputs, output):
    src, index, dim, _, reduce = inputs
    ctx.dim, ctx.reduce = dim, reduce
    needs_values = reduce in ("max", "min", "mul")
    ctx.save_for_backward(src if needs_values else None, index,
                          output if needs_values else None)


def _backward(ctx, grad):
    src, index, out = ctx.saved_tensors  # src and out are None for sum and mean
    return reduce_backward(grad, src, index, out, ctx.dim, ctx.reduce), None, None, None, None


scatter_op.register_autograd(_backward, setup_context=_setup_context)


def scatter(src: Tensor, index: Tensor, dim: int = 0, dim_size: Optional[int] = None,
            reduce: str = "sum") -> Tensor:
    """Reduce slices of ``src`` along ``dim`` into the buckets named by ``index``.

    Args:
        src (Tensor): the values, any shape with at least one dimension.
        index (Tensor): 1-D int64/int32 tensor, one bucket id per slice of ``src``
            along ``dim``.
        dim (int, optional): the axis to reduce along. (default: ``0``)
        dim_size (int, optional): the number of buckets; inferred as
            ``index.max() + 1`` when omitted. (default: ``None``)
        reduce (str, optional): ``"sum"`` (or ``"add"``), ``"mean"``, ``"max"``,
            ``"min"`` or ``"mul"``. (default: ``"sum"``)
    """
    reduce = _checks.check_reduce(OP, reduce, REDUCTIONS)
    tracing = _checks.is_tracing(src, index)
    if tracing:
        dim = _checks.normalize_dim(dim, src)
    else:
        _checks.check_src(OP, src)
        dim = _checks.check_dim(OP, src, dim)
        _checks.check_index(OP, index, src, dim)
        _checks.check_index_matches(OP, index, src, dim)
    if dim_size is None:
        dim_size = _checks.infer_size(OP, "dim_size", index)
    elif not tracing:
        _checks.check_size(OP, "dim_size", dim_size)
    return scatter_op(src, index, dim, dim_size, reduce)
