"""``nearest``: cluster points by their nearest query point."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.nn.pool.knn import _check_batch, _check_points, knn


def nearest(x: Tensor, y: Tensor, batch_x: Optional[Tensor] = None,
            batch_y: Optional[Tensor] = None) -> Tensor:
    r"""For each point of ``x``, the index of the nearest point of ``y`` in its example.

    .. math::
        c_i = \operatorname{arg\,min}_{j : b^y_j = b^x_i}
        \lVert \mathbf{x}_i - \mathbf{y}_j \rVert_2

    (ties: the smallest index).  The search is the exact, blocked search of
    :func:`gfx.nn.pool.knn` with :math:`k = 1`, so memory stays bounded for large sets.

    Args:
        x (Tensor): points to cluster ``[N, F]``.
        y (Tensor): cluster centres ``[M, F]``.
        batch_x (LongTensor, optional): example of each point of ``x``.
            (default: ``None``)
        batch_y (LongTensor, optional): example of each point of ``y``.
            (default: ``None``)

    Returns:
        LongTensor ``[N]``: cluster (index into ``y``) of every point of ``x``.

    Raises:
        ValueError: if an example of ``x`` has no point in ``y``.
    """
    x, y = _check_points("x", x), _check_points("y", y)
    batch_x = _check_batch("batch_x", batch_x, x.shape[0], x.device)
    batch_y = _check_batch("batch_y", batch_y, y.shape[0], y.device)
    out = torch.full((x.shape[0],), -1, dtype=torch.long, device=x.device)
    assign = knn(y, x, 1, batch_y, batch_x)
    out[assign[0]] = assign[1]
    if bool((out < 0).any()):
        missing = sorted(set(batch_x[out < 0].tolist()))
        raise ValueError(f"examples {missing[:10]} of 'batch_x' have no point in 'batch_y'")
    return out


torch.fx.wrap("nearest")

__all__ = ["nearest"]
