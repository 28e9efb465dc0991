"""``fps``: farthest point sampling (Qi et al., "PointNet++", NeurIPS 2017)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.nn.pool.knn import _check_batch, _check_points


def _segment_first_argmax(values: Tensor, batch: Tensor, num_groups: int) -> Tensor:
    """Per example, the smallest point index holding the example's largest value."""
    num = values.shape[0]
    top = torch.full((num_groups,), float("-inf"), dtype=values.dtype, device=values.device)
    top = top.scatter_reduce(0, batch, values, "amax", include_self=True)
    index = torch.arange(num, device=values.device)
    index = torch.where(values == top[batch], index, torch.full_like(index, num))
    first = torch.full((num_groups,), num, dtype=torch.long, device=values.device)
    return first.scatter_reduce(0, batch, index, "amin", include_self=True)


def fps(x: Tensor, batch: Optional[Tensor] = None, ratio: float = 0.5,
        random_start: bool = True, batch_size: Optional[int] = None) -> Tensor:
    r"""Farthest point sampling: repeatedly take the point farthest from those taken.

    In each example :math:`b` with :math:`n_b` points, :math:`k_b = \lceil r \, n_b
    \rceil` points are sampled: the start point :math:`s_1`, then

    .. math::
        s_{t+1} = \operatorname{arg\,max}_{i : b_i = b} \; \min_{u \le t}
        \lVert \mathbf{x}_i - \mathbf{x}_{s_u} \rVert_2^2

    (ties: the smallest index; once every point is taken the distances are all 0 and
    the smallest index repeats, as in the reference).  The algorithm is sequential in
    :math:`t`; each step updates the distances of all points of all examples at once
    (a few vectorised torch operations over the :math:`N` points), so the Python loop
    runs :math:`\max_b k_b` times, never once per point.

    ``random_start``: with ``True`` each example starts at a point drawn uniformly from
    its own points with torch's global random generator (seed it with
    ``torch.manual_seed`` for reproducible samples); with ``False`` each example starts
    at its first point (its smallest index), and the result is deterministic.

    Args:
        x (Tensor): point features (usually positions) ``[N, F]``.
        batch (LongTensor, optional): example of each point ``[N]``; need not be sorted.
            (default: ``None``)
        ratio (float, optional): sampling ratio :math:`r \in (0, 1]`. (default: ``0.5``)
        random_start (bool, optional): random start points (see above).
            (default: ``True``)
        batch_size (int, optional): number of examples. (default: ``batch.max() + 1``)

    Returns:
        LongTensor ``[sum_b k_b]``: indices into ``x``, grouped by example in increasing
        example id, each group in sampling order.
    """
    x = _check_points("x", x)
    ratio = float(ratio)
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"'ratio' must be in (0, 1], got {ratio}")
    num = x.shape[0]
    batch = _check_batch("batch", batch, num, x.device)
    if batch_size is None:
        batch_size = int(batch.max()) + 1 if num else 0
    elif num and int(batch.max()) >= batch_size:
        raise ValueError(f"'batch_size' is {batch_size} but 'batch' holds example "
                         f"{int(batch.max())}")
    if num == 0 or batch_size == 0:
        return torch.empty(0, dtype=torch.long, device=x.device)
    order = torch.sort(batch, stable=True)[1]  # examples contiguous, index order kept
    pos, group = x[order].detach(), batch[order]
    counts = torch.bincount(group, minlength=batch_size)
    ptr = torch.cumsum(counts, 0) - counts  # first point of each example
    take = torch.ceil(counts.to(torch.float64) * ratio).to(torch.long)
    # ratio * n in floating point can land just above an integer: never more than n.
    take = torch.minimum(take, counts)
    if random_start:
        offset = torch.floor(torch.rand(batch_size, device=x.device, dtype=torch.float64)
                             * counts.to(torch.float64)).to(torch.long)
        current = ptr + torch.minimum(offset, (counts - 1).clamp(min=0))
    else:
        current = ptr.clone()
    out_ptr = torch.cumsum(take, 0) - take
    out = torch.empty(int(take.sum()), dtype=torch.long, device=x.device)
    min_dist = torch.full((num,), float("inf"), dtype=pos.dtype, device=x.device)
    steps = int(take.max())
    for step in range(steps):
        active = (take > step).nonzero().view(-1)
        out[out_ptr[active] + step] = current[active]
        if step + 1 == steps:
            break
        dist = (pos - pos[current[group]]).pow(2).sum(dim=-1)
        min_dist = torch.minimum(min_dist, dist)
        current = _segment_first_argmax(min_dist, group, batch_size)
    return order[out]


torch.fx.wrap("fps")  # sampling is structure: one run-time call in a captured graph

__all__ = ["fps"]
