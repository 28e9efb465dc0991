"""Row-normalising node features."""
from __future__ import annotations

from typing import Any, List, Sequence

from torch import Tensor

from .base_transform import BaseTransform


class NormalizeFeatures(BaseTransform):
    r"""Shift the attributes to be non-negative, then scale each row to sum to one.

    .. math::
        x'_{v,:} = \frac{x_{v,:} - m}{\max\bigl(1,\ \sum_j (x_{v,j} - m)\bigr)},
        \qquad m = \min_{u,j} x_{u,j}

    (:math:`m` is the minimum over the whole tensor; a row summing to less than one is
    divided by one, so an all-zero row stays zero). Applies to every store of a
    :class:`~gfx.data.Data` or :class:`~gfx.data.HeteroData`.

    Args:
        attrs (list of str, optional): attributes to normalise. (default: ``["x"]``)
    """

    def __init__(self, attrs: Sequence[str] = ("x",)):
        self.attrs: List[str] = list(attrs)

    def forward(self, data: Any) -> Any:
        for store in data.stores:
            for key, value in store.items(*self.attrs):
                if isinstance(value, Tensor) and value.numel() > 0:
                    value = value - value.min()
                    store[key] = value / value.sum(dim=-1, keepdim=True).clamp(min=1.0)
        return data
