"""``QuantileAggregation`` and ``MedianAggregation``: feature-wise order statistics of a set."""
from __future__ import annotations

from typing import List, Optional, Union

import torch
from torch import Tensor

from ._dense import to_dense_groups
from .base import Aggregation, register_aggregation

torch.fx.wrap("to_dense_groups")  # see NOTE [dense groups while tracing]

INTERPOLATIONS = ("linear", "lower", "higher", "nearest", "midpoint")


def group_quantiles(x: Tensor, index: Optional[Tensor], ptr: Optional[Tensor],
                    dim_size: Optional[int], dim: int, q: Tensor, interpolation: str,
                    fill_value: float) -> Tensor:
    """The quantiles ``q`` (``[k, 1]``) of each group of ``x`` along ``dim``, concatenated
    along the last axis; see :class:`QuantileAggregation`.

    Declared with ``torch.fx.wrap``: the padded width and the rank of ``x`` are read when
    it runs, so a traced aggregation holds one call to it.
    """
    moved = x.movedim(dim, 0)
    dense, mask = to_dense_groups(moved, index, ptr, dim_size, fill_value=float("inf"))
    values = dense.sort(dim=1).values                      # [B, M, *rest], padding last
    count = mask.sum(dim=1).to(x.dtype)                    # [B]
    last = (count - 1).clamp(min=0)
    rest = tuple(values.shape[2:])
    column = (-1,) + (1,) * len(rest)

    def take(position: Tensor) -> Tensor:
        idx = position.long().view((-1, 1) + (1,) * len(rest)).expand((-1, 1) + rest)
        return values.gather(1, idx).squeeze(1)

    outs = []
    for k in range(q.size(0)):
        position = q[k, 0].to(x.dtype) * last
        lower, upper = position.floor(), position.ceil()
        if interpolation == "lower":
            out = take(lower)
        elif interpolation == "higher":
            out = take(upper)
        elif interpolation == "nearest":
            out = take(position.round())
        else:
            low, high = take(lower), take(upper)
            if interpolation == "midpoint":
                out = 0.5 * (low + high)
            else:
                out = low + (high - low) * (position - lower).view(column)
        empty = (count == 0).view(column)
        outs.append(torch.where(empty, torch.full_like(out, fill_value), out))
    out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)
    return out.movedim(0, dim)


torch.fx.wrap("group_quantiles")


@register_aggregation("quantile")
class QuantileAggregation(Aggregation):
    """Feature-wise :math:`q`-th quantile of each group.

    For a group of :math:`n` values sorted as :math:`v_0 \\le \\dots \\le v_{n-1}` (one
    feature at a time), the quantile sits at the fractional position :math:`p = q (n-1)`;
    with :math:`i = \\lfloor p \\rfloor`, :math:`j = \\lceil p \\rceil`:

    .. math::
        \\mathrm{linear}: v_i + (v_j - v_i)(p - i), \\quad
        \\mathrm{lower}: v_i, \\quad \\mathrm{higher}: v_j, \\quad
        \\mathrm{nearest}: v_{\\mathrm{round}(p)}, \\quad
        \\mathrm{midpoint}: \\tfrac{1}{2}(v_i + v_j)

    (``round`` rounds halves to even, as :func:`torch.round`).  An empty group gives
    ``fill_value``.  Several quantiles ``q=[q_1, ..., q_k]`` are concatenated along the
    last axis, quantile-major, so ``F`` features give ``k * F``.

    Args:
        q (float or [float]): the quantile(s), each in :math:`[0, 1]`.
        interpolation (str, optional): ``"linear"``, ``"lower"``, ``"higher"``,
            ``"nearest"`` or ``"midpoint"``. (default: ``"linear"``)
        fill_value (float, optional): the result for an empty group. (default: ``0.0``)
    """

    def __init__(self, q: Union[float, List[float]], interpolation: str = "linear",
                 fill_value: float = 0.0):
        super().__init__()
        qs = list(q) if isinstance(q, (list, tuple)) else [q]
        if not qs:
            raise ValueError(self._error("'q' must hold at least one quantile"))
        for value in qs:
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not 0.0 <= value <= 1.0:
                raise ValueError(self._error(f"'q' must be numbers in [0, 1], got {q!r}"))
        if interpolation not in INTERPOLATIONS:
            raise ValueError(self._error(
                f"'interpolation' must be one of {list(INTERPOLATIONS)}, got {interpolation!r}"))
        self._q = q
        self.interpolation = interpolation
        self.fill_value = fill_value
        self.register_buffer("q", torch.tensor(qs, dtype=torch.float).view(-1, 1))

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        return group_quantiles(x, index, ptr, dim_size, dim, self.q, self.interpolation,
                               self.fill_value)

    def get_out_channels(self, in_channels: int) -> int:
        """``len(q) * in_channels``."""
        return self.q.size(0) * in_channels

    def extra_repr(self) -> str:
        return f"q={self._q}"


@register_aggregation("median")
class MedianAggregation(QuantileAggregation):
    """Feature-wise median of each group: the lower median for an even group size.

    .. math::
        \\mathrm{median}(\\mathcal{X}) = v_{\\lfloor (n-1)/2 \\rfloor}

    for the :math:`n` sorted values :math:`v` of one feature; the same as
    :class:`QuantileAggregation` with ``q=0.5, interpolation="lower"``.  An empty group
    gives ``fill_value``.

    Args:
        fill_value (float, optional): the result for an empty group. (default: ``0.0``)
    """

    def __init__(self, fill_value: float = 0.0):
        super().__init__(0.5, interpolation="lower", fill_value=fill_value)

    def extra_repr(self) -> str:
        return ""
