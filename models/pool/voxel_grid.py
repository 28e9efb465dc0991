"""``voxel_grid``: cluster points by the cell of a regular grid they fall into."""
from __future__ import annotations

from typing import List, Optional, Union

import torch
from torch import Tensor

__all__ = ["voxel_grid"]

Coords = Union[float, List[float], Tensor]


def _per_dim(owner: str, name: str, value: Coords, dims: int, like: Tensor) -> Tensor:
    """``value`` as a ``[dims]`` float tensor (a scalar is repeated)."""
    out = torch.as_tensor(value, dtype=like.dtype, device=like.device).view(-1)
    if out.numel() == 1:
        out = out.expand(dims)
    if out.numel() != dims:
        raise ValueError(f"{owner}: '{name}' must be a number or hold one value per "
                         f"dimension ({dims}), got {out.numel()} values")
    return out


def voxel_grid(pos: Tensor, size: Coords, batch: Optional[Tensor] = None,
               start: Optional[Coords] = None, end: Optional[Coords] = None) -> Tensor:
    """Voxel grid pooling (e.g. "Dynamic Edge-Conditioned Filters in Convolutional
    Networks on Graphs"): a grid of cells of side ``size`` is laid over each point
    cloud, and the points of one cell (of one graph) form one cluster.

    With :math:`n_d = \\lfloor (e_d - s_d) / h_d \\rfloor + 1` cells along dimension
    :math:`d` (start :math:`s`, end :math:`e`, cell size :math:`h`), a point
    :math:`\\mathbf{p}` of graph :math:`b` lies in cell
    :math:`v_d = \\lfloor (p_d - s_d) / h_d \\rfloor` and gets the cluster id

    .. math::
        c = \\sum_{d=1}^{D} v_d \\prod_{d' < d} n_{d'} + b \\prod_{d=1}^{D} n_d .

    Ids are not consecutive (renumber with :func:`~gfx.nn.pool.pool.consecutive_cluster`
    or through :func:`~gfx.nn.pool.max_pool`).  Points outside ``[start, end]`` would
    share ids with unrelated cells (the reference library returns such ids silently);
    gfx raises a ``ValueError`` instead.

    Args:
        pos (Tensor): ``[N, D]`` point positions.
        size (float or [float] or Tensor): cell side, per dimension or for all.
        batch (Tensor, optional): ``[N]`` graph id of every point. (default: ``None``)
        start (float or [float] or Tensor, optional): grid origin.
            (default: the smallest coordinates in ``pos``)
        end (float or [float] or Tensor, optional): grid end.
            (default: the largest coordinates in ``pos``)
    """
    owner = "voxel_grid"
    if not isinstance(pos, Tensor) or not pos.is_floating_point():
        raise TypeError(f"{owner}: 'pos' must be a floating-point Tensor")
    pos = pos.unsqueeze(-1) if pos.dim() == 1 else pos
    if pos.dim() != 2:
        raise ValueError(f"{owner}: 'pos' must be [num_points, dims], got "
                         f"{list(pos.shape)}")
    num, dims = pos.shape
    if batch is None:
        batch = torch.zeros(num, dtype=torch.long, device=pos.device)
    if batch.dim() != 1 or batch.numel() != num:
        raise ValueError(f"{owner}: 'batch' must hold one graph id per point ({num}), "
                         f"got shape {list(batch.shape)}")
    if num == 0:
        return torch.zeros(0, dtype=torch.long, device=pos.device)
    size_t = _per_dim(owner, "size", size, dims, pos)
    if bool((size_t <= 0).any()):
        raise ValueError(f"{owner}: 'size' must be positive, got {size_t.tolist()}")
    start_t = pos.min(0).values if start is None else _per_dim(owner, "start", start,
                                                                 dims, pos)
    end_t = pos.max(0).values if end is None else _per_dim(owner, "end", end, dims, pos)
    if bool((pos < start_t).any()) or bool((pos > end_t).any()):
        raise ValueError(f"{owner}: every point must lie within [start, end] "
                         f"(start={start_t.tolist()}, end={end_t.tolist()})")
    cells = torch.div(end_t - start_t, size_t, rounding_mode="floor").long() + 1
    stride = torch.cumprod(torch.cat([cells.new_ones(1), cells]), 0)
    voxel = torch.div(pos - start_t, size_t, rounding_mode="floor").long()
    return (voxel * stride[:-1]).sum(-1) + batch.long() * stride[-1]
