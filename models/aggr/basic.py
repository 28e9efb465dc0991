"""Parameter-free aggregations: sum, mean, max, min, product, variance, standard deviation.

The first five are one primitive reduction each (``primitive_reduce`` is set, see
``NOTE [aggregation lowering]`` in :mod:`gfx.nn.aggr.base`).  Variance and standard
deviation are written with the primitives (two reductions and a gather).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

import gfx.ops
from gfx.ops.segment import ptr_to_index

from .base import Aggregation, register_aggregation


@register_aggregation("sum", "add")
class SumAggregation(Aggregation):
    """Sum of the elements of each group.

    .. math::
        \\mathrm{sum}(\\mathcal{X}) = \\sum_{\\mathbf{x}_i \\in \\mathcal{X}} \\mathbf{x}_i
    """

    primitive_reduce = "sum"

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        return self.reduce(x, index, ptr, dim_size, dim, reduce="sum")


@register_aggregation("mean")
class MeanAggregation(Aggregation):
    """Arithmetic mean of the elements of each group (0 for an empty group).

    .. math::
        \\mathrm{mean}(\\mathcal{X}) = \\frac{1}{|\\mathcal{X}|}
        \\sum_{\\mathbf{x}_i \\in \\mathcal{X}} \\mathbf{x}_i
    """

    primitive_reduce = "mean"

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        return self.reduce(x, index, ptr, dim_size, dim, reduce="mean")


@register_aggregation("max")
class MaxAggregation(Aggregation):
    """Feature-wise maximum over each group (0 for an empty group, never ``-inf``).

    .. math::
        \\mathrm{max}(\\mathcal{X}) = \\max_{\\mathbf{x}_i \\in \\mathcal{X}} \\mathbf{x}_i

    Tied maxima share the gradient equally.
    """

    primitive_reduce = "max"

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        return self.reduce(x, index, ptr, dim_size, dim, reduce="max")


@register_aggregation("min")
class MinAggregation(Aggregation):
    """Feature-wise minimum over each group (0 for an empty group, never ``inf``).

    .. math::
        \\mathrm{min}(\\mathcal{X}) = \\min_{\\mathbf{x}_i \\in \\mathcal{X}} \\mathbf{x}_i

    Tied minima share the gradient equally.
    """

    primitive_reduce = "min"

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        return self.reduce(x, index, ptr, dim_size, dim, reduce="min")


@register_aggregation("mul")
class MulAggregation(Aggregation):
    """Feature-wise product over each group; an empty group gives the empty product 1.

    .. math::
        \\mathrm{mul}(\\mathcal{X}) = \\prod_{\\mathbf{x}_i \\in \\mathcal{X}} \\mathbf{x}_i

    The primitive ``mul`` reduction gives 0 for empty groups (like every primitive
    reduction); this aggregation then sets those groups to 1, as the reference library
    does, so it is not a plain primitive reduction (``primitive_reduce`` is ``None``).
    """

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        out = self.reduce(x, index, ptr, dim_size, dim, reduce="mul")
        count = self.reduce(torch.ones_like(x), index, ptr, dim_size, dim, reduce="sum")
        return torch.where(count == 0, torch.ones_like(out), out)


def group_index(x: Tensor, index: Optional[Tensor], ptr: Optional[Tensor], dim: int) -> Tensor:
    """The group id of every slice of ``x`` along ``dim`` (all 0 when neither is given)."""
    if index is not None:
        return index
    if ptr is not None:
        return ptr_to_index(ptr, x.shape[dim])
    return torch.zeros(x.shape[dim], dtype=torch.long, device=x.device)


def group_variance(aggr: Aggregation, x: Tensor, index: Optional[Tensor], ptr: Optional[Tensor],
                   dim_size: Optional[int], dim: int, semi_grad: bool) -> Tensor:
    """Population variance per group, computed in two passes (see :class:`VarAggregation`)."""
    mean = aggr.reduce(x, index, ptr, dim_size, dim, reduce="mean")
    member_group = group_index(x, index, ptr, dim)
    with torch.set_grad_enabled(torch.is_grad_enabled() and not semi_grad):
        deviation = x - gfx.ops.gather(mean, member_group, dim=dim)
        var = aggr.reduce(deviation * deviation, index, ptr, dim_size, dim, reduce="mean")
    if semi_grad:
        # Value: exactly ``var`` (a - a == 0).  Gradient: that of -mean(X)^2 only.
        frozen = mean.detach()
        var = var + (frozen * frozen - mean * mean)
    return var


@register_aggregation("var")
class VarAggregation(Aggregation):
    """Feature-wise (population) variance over each group (0 for an empty group).

    .. math::
        \\mathrm{var}(\\mathcal{X}) = \\mathrm{mean}(\\{\\mathbf{x}_i^2\\}) -
        \\mathrm{mean}(\\mathcal{X})^2
        = \\mathrm{mean}(\\{(\\mathbf{x}_i - \\mathrm{mean}(\\mathcal{X}))^2\\})

    The value is computed with the second (two-pass) form: it is never negative and does
    not lose precision when the mean is large compared with the spread, which the
    first form does.  Both forms have the same exact gradient.

    Args:
        semi_grad (bool, optional): treat :math:`\\mathrm{mean}(\\{\\mathbf{x}_i^2\\})` as a
            constant in the backward pass, so the gradient is that of
            :math:`-\\mathrm{mean}(\\mathcal{X})^2` alone; this only approximates the true
            gradient, and saves the backward pass of the second reduction.
            (default: ``False``)
    """

    def __init__(self, semi_grad: bool = False):
        super().__init__()
        self.semi_grad = semi_grad

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        return group_variance(self, x, index, ptr, dim_size, dim, self.semi_grad)

    def extra_repr(self) -> str:
        return f"semi_grad={self.semi_grad}" if self.semi_grad else ""


@register_aggregation("std")
class StdAggregation(Aggregation):
    """Feature-wise (population) standard deviation over each group.

    .. math::
        \\mathrm{std}(\\mathcal{X}) =
        \\begin{cases} \\sqrt{\\mathrm{var}(\\mathcal{X})} & \\mathrm{var}(\\mathcal{X}) >
        \\varepsilon \\\\ 0 & \\text{otherwise} \\end{cases}, \\qquad \\varepsilon = 10^{-5}

    :math:`\\sqrt{\\cdot}` has an infinite slope at 0, so variances at or below
    :math:`\\varepsilon` (empty groups, single elements, constant groups, rounding noise)
    give 0 with a zero gradient; every gradient is finite.  (The output jumps from
    :math:`\\sqrt{\\varepsilon} \\approx 0.003` to 0 at the threshold.)

    Args:
        semi_grad (bool, optional): as in :class:`VarAggregation`. (default: ``False``)
    """

    eps = 1e-5

    def __init__(self, semi_grad: bool = False):
        super().__init__()
        self.semi_grad = semi_grad

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        var = group_variance(self, x, index, ptr, dim_size, dim, self.semi_grad)
        std = var.clamp(min=self.eps).sqrt()
        return std.masked_fill(var <= self.eps, 0.0)

    def extra_repr(self) -> str:
        return f"semi_grad={self.semi_grad}" if self.semi_grad else ""
