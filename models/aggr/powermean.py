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
        \\mathrm{powermean}(\\mathcal{X} \\mid p) = \\mathrm{clamp}\\Big(
        \\frac{1}{|\\mathcal{X}|} \\sum_{\\mathbf{x}_i \\in \\mathcal{X}}
        \\bar{\\mathbf{x}}_i^{\\,p}, c_{\\min}, c_{\\max} \\Big)^{1/p},
        \\qquad \\bar{\\mathbf{x}}_i = \\mathrm{clamp}(\\mathbf{x}_i, c_{\\min}, c_{\\max})

    computed feature-wise; large :math:`p` approaches the max.  These are the reference
    library's semantics, kept for drop-in equality:

    * a fixed ``p=1`` (``learn=False``) is the plain mean, with no clamping at all;
    * otherwise the inputs *and* the mean of their powers are clamped to
      ``[clamp_min, clamp_max]``, so an empty group gives ``clamp_min ** (1/p)``
      (``0.01`` for ``p=2``), not 0, and e.g. two inputs of 50 with ``p=2`` give 10.

    Where the clamped mean is exactly 0 (only possible with ``clamp_min=0``) the result
    is 0 with a zero gradient, so gradients stay finite.  In float32, :math:`100^p`
    overflows for :math:`p > 19`.

    Args:
        p (float, optional): the initial power; must be non-zero. (default: ``1.0``)
        learn (bool, optional): make :math:`p` a learnable parameter ``p`` of shape
            ``[channels]``. (default: ``False``)
        channels (int, optional): learn one power per feature channel (the last axis of
            ``x`` must then have ``channels`` entries); needs ``learn=True``.
            (default: ``1``)
        clamp_min (float, optional): lower clamp of the inputs and of the mean of the
            powers. (default: ``1e-4``)
        clamp_max (float, optional): upper clamp of both (a gfx extension; the
            reference fixes it at 100). (default: ``100.0``)
    """

    def __init__(self, p: float = 1.0, learn: bool = False, channels: int = 1,
                 clamp_min: float = 1e-4, clamp_max: float = 100.0):
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
        if clamp_min > clamp_max:
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
        if not self.learn and self._init_p == 1.0:
            return self.reduce(x, index, ptr, dim_size, dim, reduce="mean")
        x = x.clamp(min=self.clamp_min, max=self.clamp_max)
        mean = self.reduce(x ** self.p, index, ptr, dim_size, dim, reduce="mean")
        mean = mean.clamp(min=self.clamp_min, max=self.clamp_max)
        return root_or_zero(mean, 1.0 / self.p)

    def extra_repr(self) -> str:
        return f"learn={self.learn}"
