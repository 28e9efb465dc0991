"""``knn_interpolate``: inverse-distance k-NN interpolation (Qi et al., "PointNet++")."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.nn.pool.knn import knn
from gfx.ops import scatter


def knn_interpolate(x: Tensor, pos_x: Tensor, pos_y: Tensor,
                    batch_x: Optional[Tensor] = None, batch_y: Optional[Tensor] = None,
                    k: int = 3, num_workers: int = 1) -> Tensor:
    r"""Interpolate features from points ``pos_x`` onto points ``pos_y``.

    .. math::
        \mathbf{f}(y) = \frac{\sum_{i=1}^k w(x_i) \mathbf{f}(x_i)}{\sum_{i=1}^k w(x_i)},
        \qquad w(x_i) = \frac{1}{\max(d(\mathbf{p}(y), \mathbf{p}(x_i))^2, 10^{-16})}

    with :math:`x_1, \ldots, x_k` the :math:`k` nearest points of ``pos_x`` to
    :math:`\mathbf{p}(y)` in the same example (all of them when the example has fewer;
    found with the exact, blocked :func:`gfx.nn.pool.knn`, ties to the smaller index).
    The neighbour search is not differentiated; the weights are, so gradients reach
    ``x``, ``pos_x`` and ``pos_y``.  A point whose example has no point in ``pos_x``
    gets zeros (the reference divides 0 by 0 and returns NaN there).

    Args:
        x (Tensor): features of the source points ``[N, F]``.
        pos_x (Tensor): source positions ``[N, d]``.
        pos_y (Tensor): target positions ``[M, d]``.
        batch_x (LongTensor, optional): example of each source point.
            (default: ``None``)
        batch_y (LongTensor, optional): example of each target point.
            (default: ``None``)
        k (int, optional): neighbours :math:`k`. (default: ``3``)
        num_workers (int, optional): accepted for compatibility; the search runs on
            PyTorch's own threads. (default: ``1``)

    Returns:
        Tensor ``[M, F]``.
    """
    if not isinstance(x, Tensor) or x.dim() == 0:
        raise ValueError("'x' must be a tensor of node features [N, F]")
    if x.shape[0] != pos_x.shape[0]:
        raise ValueError(f"'x' has {x.shape[0]} rows but 'pos_x' has {pos_x.shape[0]}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"'k' must be a positive int, got {k!r}")
    with torch.no_grad():
        assign = knn(pos_x, pos_y, k, batch_x=batch_x, batch_y=batch_y)
    y_idx, x_idx = assign[0], assign[1]
    sq = (pos_x[x_idx] - pos_y[y_idx]).pow(2).sum(dim=-1, keepdim=True)
    weights = 1.0 / torch.clamp(sq, min=1e-16)
    num = scatter(x[x_idx] * weights, y_idx, 0, pos_y.shape[0], "sum")
    den = scatter(weights, y_idx, 0, pos_y.shape[0], "sum")
    return num / torch.where(den > 0, den, torch.ones_like(den))  # no source: 0


torch.fx.wrap("knn_interpolate")  # the neighbour search is structure: a run-time call

__all__ = ["knn_interpolate"]
