"""``VariancePreservingAggregation``: a sum scaled by the inverse square root of the group size."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ._dense import group_count
from .base import Aggregation, register_aggregation

torch.fx.wrap("group_count")  # see NOTE [dense groups while tracing]


@register_aggregation("variance_preserving", "vpa")
class VariancePreservingAggregation(Aggregation):
    """Variance-preserving aggregation (Schneckenreiter et al., "GNN-VPA").

    .. math::
        \\mathrm{vpa}(\\mathcal{X}) = \\frac{1}{\\sqrt{|\\mathcal{X}|}}
        \\sum_{\\mathbf{x}_i \\in \\mathcal{X}} \\mathbf{x}_i

    Between sum (which grows with :math:`|\\mathcal{X}|`) and mean (which shrinks the
    variance by :math:`|\\mathcal{X}|`): i.i.d. inputs keep their variance.  An empty group
    gives 0.
    """

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        if index is not None and ptr is None and dim_size is None:
            dim_size = group_count(index)  # only reached while tracing
        total = self.reduce(x, index, ptr, dim_size, dim, reduce="sum")
        count = self.reduce(torch.ones_like(x), index, ptr, dim_size, dim, reduce="sum")
        return total / count.clamp(min=1.0).sqrt()

    def extra_repr(self) -> str:
        return ""
