"""``SortAggregation``: the ``k`` elements of a group with the largest last feature."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ._dense import check_two_dimensional, to_dense_groups
from .base import Aggregation, register_aggregation

torch.fx.wrap("to_dense_groups")  # see NOTE [dense groups while tracing]


@register_aggregation("sort")
class SortAggregation(Aggregation):
    """Sort pooling (Zhang et al., "An End-to-End Deep Learning Architecture for Graph
    Classification").

    The elements of each group are sorted by their last feature, in descending order;
    the first :math:`k` are concatenated into one vector of size :math:`k \\cdot F`:

    .. math::
        \\mathbf{r}_g = \\mathbf{x}_{\\pi(1)} \\Vert \\dots \\Vert \\mathbf{x}_{\\pi(k)},
        \\qquad x_{\\pi(1), F} \\ge x_{\\pi(2), F} \\ge \\dots

    A group with fewer than :math:`k` elements is padded with zero vectors.  Ties keep
    the order of appearance.

    Args:
        k (int): the number of elements kept per group.
    """

    def __init__(self, k: int):
        super().__init__()
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(self._error(f"'k' must be a positive int, got {k!r}"))
        self.k = k

    def get_out_channels(self, in_channels: int) -> int:
        """``k * in_channels``."""
        return self.k * in_channels

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        check_two_dimensional(self, x, dim)
        dense, mask = to_dense_groups(x, index, ptr, dim_size)            # [B, M, F]
        key = dense[:, :, -1].masked_fill(~mask, float("-inf"))
        order = key.argsort(dim=1, descending=True, stable=True)
        dense = dense.gather(1, order.unsqueeze(-1).expand_as(dense))
        mask = mask.gather(1, order)
        dense = dense * mask.unsqueeze(-1).to(dense.dtype)
        padding = dense.new_zeros(dense.size(0), self.k, dense.size(2))
        dense = torch.cat([dense, padding], dim=1)[:, :self.k]
        return dense.reshape(dense.size(0), self.k * dense.size(2))

    def extra_repr(self) -> str:
        return f"k={self.k}"
