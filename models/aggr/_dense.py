"""Dense batching of grouped elements, shared by the set-based aggregations.

Sequence and set aggregations (LSTM, GRU, sort, MLP, attention over sets) need every
group as a padded row ``[num_groups, max_size, F]`` with a mask of the real entries.
:func:`to_dense_groups` builds it from an ``index`` (sorted or not) or from CSR ``ptr``.

NOTE [dense groups while tracing]
    The padded width is the size of the largest group: a value read from the data.  The
    helper is declared with ``torch.fx.wrap``, so a traced aggregation holds one call to
    it and the width is computed when the graph runs; nothing after it branches on shapes.
    ``torch.fx.wrap`` patches one module's globals, so every module that imports the
    helper by name declares it again.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from gfx.ops.segment import ptr_to_index


def group_count(index: Tensor) -> int:
    """The number of groups an ``index`` implies: ``index.max() + 1`` (0 when empty).

    Declared with ``torch.fx.wrap``: while tracing, a call in the graph computes it when
    the graph runs (used when no ``dim_size`` is given).
    """
    return int(index.max()) + 1 if index.numel() > 0 else 0


torch.fx.wrap("group_count")


def group_positions(index: Tensor, dim_size: int) -> Tuple[Tensor, Tensor]:
    """Each element's rank inside its group (in order of appearance), and the group sizes.

    Args:
        index (Tensor): group id per element, need not be sorted.
        dim_size (int): the number of groups.
    """
    counts = torch.bincount(index, minlength=dim_size)[:dim_size]
    order = torch.argsort(index, stable=True)
    starts = counts.cumsum(0) - counts
    rank_sorted = torch.arange(index.numel(), device=index.device) - starts[index[order]]
    position = torch.empty_like(index)
    position[order] = rank_sorted
    return position, counts


def to_dense_groups(x: Tensor, index: Optional[Tensor], ptr: Optional[Tensor],
                    dim_size: Optional[int], fill_value: float = 0.0,
                    max_num_elements: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    """Pad the groups of ``x`` ``[L, *]`` into ``[dim_size, M, *]`` and a ``[dim_size, M]`` mask.

    Group ``g`` occupies row ``g``; its elements keep their order of appearance.  ``M`` is
    ``max_num_elements`` if given, else the size of the largest group (at least 1, so an
    all-empty input still gives one padded column).  Elements beyond ``M`` are left out.

    Args:
        x (Tensor): the elements, grouped along the first axis.
        index (Tensor, optional): group id per element.
        ptr (Tensor, optional): CSR pointers, used when ``index`` is ``None``.
        dim_size (int, optional): the number of groups (inferred from the data if ``None``).
        fill_value (float, optional): the value of padding entries. (default: ``0.0``)
        max_num_elements (int, optional): a fixed width ``M``. (default: ``None``)
    """
    if index is None:
        if ptr is None:
            index = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
            dim_size = 1 if dim_size is None else dim_size
        else:
            index = ptr_to_index(ptr, x.size(0))
            dim_size = ptr.numel() - 1
    if dim_size is None:
        dim_size = int(index.max()) + 1 if index.numel() > 0 else 0
    index = index.long()
    position, counts = group_positions(index, dim_size)
    if max_num_elements is None:
        width = max(int(counts.max()) if counts.numel() > 0 else 0, 1)
    else:
        width = max_num_elements
    keep = position < width
    dense = x.new_full((dim_size, width) + tuple(x.shape[1:]), fill_value)
    dense = dense.index_put((index[keep], position[keep]), x[keep])
    mask = torch.zeros(dim_size, width, dtype=torch.bool, device=x.device)
    mask[index[keep], position[keep]] = True
    return dense, mask


torch.fx.wrap("to_dense_groups")


def from_dense_groups(dense: Tensor, index: Optional[Tensor], num_rows: int) -> Tensor:
    """The inverse of :func:`to_dense_groups`: the ``num_rows`` real rows of ``dense``
    ``[B, M, *]`` in their original order (``index`` ``None``: all rows in group 0).

    Declared with ``torch.fx.wrap`` (the positions are read from ``index``).
    """
    if index is None:
        return dense[0, :num_rows]
    index = index.long()
    position, _ = group_positions(index, dense.size(0))
    return dense[index, position]


torch.fx.wrap("from_dense_groups")


def check_two_dimensional(aggr, x: Tensor, dim: int) -> None:
    """Set-based aggregations take ``x`` of shape ``[num_elements, F]`` grouped along axis 0."""
    if isinstance(x, torch.fx.Proxy) or isinstance(dim, torch.fx.Proxy):
        return
    if x.dim() != 2 or dim % x.dim() != 0:
        raise ValueError(aggr._error(
            f"needs a 2-D 'x' of shape [num_elements, channels] aggregated along dim 0 "
            f"(dim=-2), got shape {tuple(x.shape)} with dim={dim}"))
