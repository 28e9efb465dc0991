"""Cumulative sums that start at zero (CSR pointers from counts)."""
from __future__ import annotations

import torch
from torch import Tensor


def cumsum(x: Tensor, dim: int = 0) -> Tensor:
    """``[0, x_0, x_0 + x_1, ...]`` along ``dim``: one entry longer than ``x``.

    Args:
        x (Tensor): the values (e.g. node counts per graph).
        dim (int, optional): the dimension to sum along. (default: ``0``)
    """
    shape = list(x.shape)
    shape[dim] = 1
    return torch.cat([x.new_zeros(shape), torch.cumsum(x, dim=dim)], dim=dim)
