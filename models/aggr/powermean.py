"""``PowerMeanAggregation``: the generalised (power) mean aggregation of DeeperGCN."""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor

from .base import Aggregation, feature_broadcast_check, register_aggregation


def root_or_zero(mean: Tensor, exponent: Union[float, Tensor]) -> Tensor:
    """``mean ** exponent``, but exactly 0 (with a zero gradient) where ``mean == 0``.

    ``0 ** (1/p)`` has an infinite slope for ``p > 1``; masking through a double
    ``where`` keeps every gradient finite, including the one of a learnable ``p``.
    """
    is_zero = mean == 0
    safe = torch.where(is_zero, torch.ones_like(mean), mean)
    return torch.where(is_zero, torch.zeros_like(mean), safe ** exponent)


@register_aggregation("powermean")
class PowerMeanAggregation(Aggregation):
    """Power (generalised) mean aggregation with power :math:`p` (Li et al., "DeeperGCN").

    .. math::
        \\mathrm{powermean}(\\mathcal{X} \\mid p) = \\Big( \\frac{1}{|\\mathcal{X}|}
        \\sum_{\\mathbf{x}_i \\in \\mathcal{X}} \\bar{\\mathbf{x}}_i^{\\,p} \\Big)^{1/p},
        \\qquad \\bar{\\mathbf{x}}_i = \\mathrm{clamp}(\\mathbf{x}_i, c_{\\min}, c_{\\max})

    computed feature-wise.  :math:`p = 1` is the mean of the clamped inputs, large
    :math:`p` approaches their max.  An empty group gives 0.

    Notes on the choices made here:

    * The inputs are always clamped to ``[clamp_min, clamp_max]`` (``[0, 100]`` by
      default, the domain DeeperGCN uses), whatever ``p`` is and whether it is learnable;
      so ``p=1`` is *not* the plain mean when inputs are negative.
    * The mean of the powers is not clamped again: with inputs in ``[0, 100]`` the result
      already lies in ``[0, 100]``, and clamping the intermediate value would, e.g., turn
      the power mean of a constant 50 with ``p=2`` into 10.
    * Where the mean of the powers is exactly 0 (empty groups, groups of zeros with
      ``p > 0``) the result is 0 with a zero gradient, so gradients stay finite.  Inputs
      exactly at 0 with ``0 < p < 1`` still have the true, infinite slope of
      :math:`x^p`; use ``clamp_min > 0`` to avoid them.  In float32, :math:`100^p`
      overflows for :math:`p > 19`.

    Args:
        p (float, optional): the initial power; must be non-zero. (default: ``1.0``)
        learn (bool, optional): make :math:`p` a learnable parameter ``p`` of shape
            ``[channels]``. (default: ``False``)
        channels (int, optional): learn one power per feature channel (the last axis of
            ``x`` must then have ``channels`` entries); needs ``learn=True``.
            (default: ``1``)
        clamp_min (float, optional): lower clamp of the inputs; ``None`` for none.
            (default: ``0.0``)
        clamp_max (float, optional): upper clamp of the inputs; ``None`` for none.
            (default: ``100.0``)
    """

    def __init__(self, p: float = 1.0, learn: bool = False, channels: int = 1,
                 clamp_min: Optional[float] = 0.0, clamp_max: Optional[float] = 100.0):
        super().__init__()
        if float(p) == 0.0:
            raise ValueError("PowerMeanAggregation: 'p' must be non-zero (p=0 would divide "
                             "by zero in the 1/p root)")
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"PowerMeanAggregation: 'channels' must be a positive int, "
                             f"got {channels!r}")
        if channels > 1 and not learn:
            raise ValueError("PowerMeanAggregation: channels > 1 needs learn=True (a fixed "
                             "power is the same for every channel)")
        if clamp_min is not None and clamp_max is not None and clamp_min > clamp_max:
            raise ValueError(f"PowerMeanAggregation: clamp_min={clamp_min} is larger than "
                             f"clamp_max={clamp_max}")
        self.learn = learn
        self.channels = channels
        self.clamp_min = clamp_min
        self.clamp_max = clamp_max
        self._init_p = float(p)
        if learn:
            self.p = torch.nn.Parameter(torch.empty(channels))
            self.reset_parameters()
        else:
            self.p = float(p)

    def reset_parameters(self) -> None:
        """Set a learnable ``p`` back to its initial value."""
        if self.learn:
            with torch.no_grad():
                self.p.fill_(self._init_p)

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        if self.channels > 1:
            feature_broadcast_check(self, x, dim, self.channels, "channels > 1")
        if self.clamp_min is not None or self.clamp_max is not None:
            x = x.clamp(min=self.clamp_min, max=self.clamp_max)
        mean = self.reduce(x ** self.p, index, ptr, dim_size, dim, reduce="mean")
        return root_or_zero(mean, 1.0 / self.p)

    def extra_repr(self) -> str:
        parts = [f"p={self._init_p}", f"learn={self.learn}"]
        if self.channels > 1:
            parts.append(f"channels={self.channels}")
        if (self.clamp_min, self.clamp_max) != (0.0, 100.0):
            parts.append(f"clamp_min={self.clamp_min}, clamp_max={self.clamp_max}")
        return ", ".join(parts)
