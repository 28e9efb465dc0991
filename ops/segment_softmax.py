"""``gfx::segment_softmax``: softmax of ``src`` within the groups named by ``index``.

    out[e] = exp(src[e] - m[g]) / sum_{f : index[f] == g} exp(src[f] - m[g]),  g = index[e]

with ``m[g]`` the group maximum (for stability).  Used for attention over the incoming
edges of each node.  The gradient is ``out * (grad - sum_group(grad * out))``.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from . import _checks
from .gather import gather_op
from .scatter import scatter_op, scatter_reference
from .segment import check_ptr, check_ptr_values, ptr_to_index

OP = "segment_softmax"


def segment_softmax_reference(src: Tensor, index: Tensor, dim: int, dim_size: int) -> Tensor:
    if src.numel() == 0:
        return src.clone()
    index = index.long()
    group_max = scatter_reference(src.detach(), index, dim, dim_size, "max")
    shifted = (src - group_max.index_select(dim, index)).exp()
    total = scatter_reference(shifted, index, dim, dim_size, "sum")
    return shifted / total.index_select(dim, index)


@torch.library.custom_op("gfx::segment_softmax", mutates_args=())
def segment_softmax_op(src: Tensor, index: Tensor, dim: int, dim_size: int) -> Tensor:
    _checks.check_index_range(OP, index, dim_size)
    return segment_softmax_reference(src, index, dim, dim_size)


@segment_softmax_op.register_fake
def _segment_softmax_fake(src, index, dim, dim_size):
    _checks.check_index(OP, index, src, dim)
    _checks.check_index_matches(OP, index, src, dim)
    return torch.empty_like(src)


def _setup_context(ctx, inputs, output):
    _, index, dim, dim_size = inputs
    ctx.save_for_backward(index, output)
    ctx.dim, ctx.dim_size = dim, dim_size


def _backward(ctx, grad):
    index, out = ctx.saved_tensors
    weighted = scatter_op(grad * out, index, ctx.dim, ctx.dim_size, "sum")
    return out * (grad - gather_op(weighted, index, ctx.dim)), None, None, None


segment_softmax_op.register_autograd(_backward, setup_context=_setup_context)


def segment_softmax(src: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                    dim: int = 0, num_segments: Optional[int] = None) -> Tensor:
    """Softmax of ``src`` along ``dim`` within groups given by ``index`` or CSR ``ptr``.

    Args:
        src (Tensor): the scores, e.g. ``[num_edges, heads]``.
        index (Tensor, optional): 1-D group id per slice along ``dim``. (default: ``None``)
        ptr (Tensor, optional): CSR pointers instead of ``index`` (``src`` sorted by
            group). (default: ``None``)
        dim (int, optional): the axis holding the group members. (default: ``0``)
        num_segments (int, optional): the number of groups; inferred from ``index``
            when omitted; with ``ptr`` it is ``ptr.numel() - 1`` and a different value
            is refused. (default: ``None``)
    """
    if (index is None) == (ptr is None):
        raise ValueError("gfx.segment_softmax: give exactly one of 'index' and 'ptr'")
    tracing = _checks.is_tracing(src, index if ptr is None else ptr)
    if tracing:
        dim = _checks.normalize_dim(dim, src)
    else:
        _checks.check_src(OP, src)
        if not src.is_floating_point():
            raise TypeError(f"gfx.segment_softmax: 'src' must be floating point, got {src.dtype}")
        dim = _checks.check_dim(OP, src, dim)
        if num_segments is not None:
            _checks.check_size(OP, "num_segments", num_segments)
    if ptr is not None:
        if not tracing:
            check_ptr(OP, ptr, src)
            check_ptr_values(OP, ptr, src.shape[dim])
            if num_segments is not None and num_segments != ptr.shape[0] - 1:
                raise ValueError(
                    f"gfx.segment_softmax: 'num_segments'={num_segments} disagrees with "
                    f"'ptr', which delimits {ptr.shape[0] - 1} segments")
        num_segments = ptr.shape[0] - 1
        index = ptr_to_index(ptr, src.shape[dim])
    elif not tracing:
        _checks.check_index(OP, index, src, dim)
        _checks.check_index_matches(OP, index, src, dim)
    if num_segments is None:
        num_segments = _checks.infer_size(OP, "num_segments", index)
    return segment_softmax_op(src, index, dim, num_segments)
