"""``gfx::gather``: pick slices of ``src`` along ``dim``: ``out[..., e, ...] = src[..., index[e], ...]``.

This is how node features are lifted to edges (``x_j = gather(x, edge_index[0])``).
Its gradient is ``scatter(grad, index, dim, src.size(dim), "sum")``.
"""
from __future__ import annotations

import torch
from torch import Tensor

from . import _checks
from .scatter import scatter_op

OP = "gather"


@torch.library.custom_op("gfx::gather", mutates_args=())
def gather_op(src: Tensor, index: Tensor, dim: int) -> Tensor:
    _checks.check_index_range(OP, index, src.shape[dim], size_name=f"src.size({dim})")
    return src.index_select(dim, index)


@gather_op.register_fake
def _gather_fake(src, index, dim):
    _checks.check_index(OP, index, src, dim)
    shape = list(src.shape)
    shape[dim] = index.shape[0]
    return src.new_empty(shape)


def _setup_context(ctx, inputs, output):
    src, index, dim = inputs
    ctx.save_for_backward(index)
    ctx.dim, ctx.size = dim, src.shape[dim]


def _backward(ctx, grad):
    (index,) = ctx.saved_tensors
    return scatter_op(grad, index, ctx.dim, ctx.size, "sum"), None, None


gather_op.register_autograd(_backward, setup_context=_setup_context)


def gather(src: Tensor, index: Tensor, dim: int = 0) -> Tensor:
    """Select slices of ``src`` along ``dim``.

    Args:
        src (Tensor): the values, at least one dimension.
        index (Tensor): 1-D int64/int32 tensor of positions in ``[0, src.size(dim))``.
        dim (int, optional): the axis to select along. (default: ``0``)
    """
    if not _checks.is_tracing(src, index):
        _checks.check_src(OP, src)
        dim = _checks.check_dim(OP, src, dim)
        _checks.check_index(OP, index, src, dim)
    else:
        dim = _checks.normalize_dim(dim, src)
    return gather_op(src, index, dim)
