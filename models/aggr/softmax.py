"""``SoftmaxAggregation``: the temperature-weighted softmax aggregation of DeeperGCN."""
from __future__ import annotations

from typing import List, Optional, Sequence, Union

import torch
from torch import Tensor

import gfx.ops

from .base import (Aggregation, feature_broadcast_check, register_aggregation,
                   single_group_ptr)


@register_aggregation("softmax")
class SoftmaxAggregation(Aggregation):
    """Softmax aggregation with inverse temperature :math:`t` (Li et al., "DeeperGCN").

    .. math::
        \\mathrm{softmax}(\\mathcal{X} \\mid t) = \\sum_{\\mathbf{x}_i \\in \\mathcal{X}}
        \\frac{\\exp(t \\cdot \\mathbf{x}_i)}{\\sum_{\\mathbf{x}_j \\in \\mathcal{X}}
        \\exp(t \\cdot \\mathbf{x}_j)} \\odot \\mathbf{x}_i

    computed feature-wise: :math:`t \\to 0` tends to the mean, :math:`t \\to \\infty` to the
    max, :math:`t \\to -\\infty` to the min.  An empty group gives 0.  The softmax uses
    ``gfx.ops.segment_softmax`` (stabilised by the group maximum).

    Several temperatures, ``t=[t_1, ..., t_k]``, give one aggregation per temperature,
    concatenated along the last (feature) axis in that order, so ``F`` input features
    give ``k * F`` output features (:meth:`get_out_channels`); the aggregated axis must
    then not be the last one.

    Args:
        t (float or [float], optional): the initial inverse temperature(s).
            (default: ``1.0``)
        learn (bool, optional): make :math:`t` a learnable parameter ``t``, of shape
            ``[channels]`` for one temperature or ``[k, channels]`` for ``k``.
            (default: ``False``)
        semi_grad (bool, optional): compute the softmax weights without gradient, so
            only the :math:`\\mathbf{x}_i` factor is differentiated (less memory, an
            approximate gradient).  Not allowed with ``learn=True``, which needs the
            gradient through the weights. (default: ``False``)
        channels (int, optional): learn one temperature per feature channel (the last
            axis of ``x`` must then have ``channels`` entries); needs ``learn=True``.
            (default: ``1``)
    """

    def __init__(self, t: Union[float, Sequence[float]] = 1.0, learn: bool = False,
                 semi_grad: bool = False, channels: int = 1):
        super().__init__()
        multiple = isinstance(t, (list, tuple))
        values = [float(v) for v in t] if multiple else [float(t)]
        if not values:
            raise ValueError("SoftmaxAggregation: 't' must hold at least one temperature")
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"SoftmaxAggregation: 'channels' must be a positive int, "
                             f"got {channels!r}")
        if channels > 1 and not learn:
            raise ValueError("SoftmaxAggregation: channels > 1 needs learn=True (fixed "
                             "temperatures are the same for every channel)")
        if semi_grad and learn:
            raise ValueError("SoftmaxAggregation: semi_grad=True cannot be combined with "
                             "learn=True (learning t needs the gradient through the softmax)")
        self.learn = learn
        self.semi_grad = semi_grad
        self.channels = channels
        self.multiple = multiple
        self._init_t = values
        if learn:
            shape = (len(values), channels) if multiple else (channels,)
            self.t = torch.nn.Parameter(torch.empty(shape))
            self.reset_parameters()
        else:
            self.t = list(values) if multiple else values[0]

    def reset_parameters(self) -> None:
        """Set a learnable ``t`` back to its initial value(s)."""
        if self.learn:
            with torch.no_grad():
                init = torch.tensor(self._init_t, dtype=self.t.dtype, device=self.t.device)
                self.t.copy_(init.view(-1, 1).expand(len(self._init_t), self.channels)
                             .reshape(self.t.shape))

    def temperatures(self) -> List[Union[float, Tensor]]:
        """The temperatures in output order: floats, or rows of ``t`` of shape ``[channels]``."""
        if self.learn:
            rows = self.t.view(len(self._init_t), self.channels)
            return [rows[i] for i in range(len(self._init_t))]  # no iteration: fx-traceable
        return list(self.t) if self.multiple else [self.t]

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        if self.multiple or self.channels > 1:
            feature_broadcast_check(self, x, dim, self.channels,
                                    "several temperatures" if self.multiple else "channels > 1")
        if index is None and ptr is None:
            ptr, dim_size = single_group_ptr(x, dim, 1), 1
        outs = []
        for t in self.temperatures():
            with torch.set_grad_enabled(torch.is_grad_enabled() and not self.semi_grad):
                scores = x if isinstance(t, float) and t == 1.0 else x * t
                weights = gfx.ops.segment_softmax(scores, index=None if ptr is not None else index,
                                                  ptr=ptr, dim=dim, num_segments=dim_size)
            outs.append(self.reduce(x * weights, index, ptr, dim_size, dim, reduce="sum"))
        return outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)

    def get_out_channels(self, in_channels: int) -> int:
        """``len(t) * in_channels`` for several temperatures, else ``in_channels``."""
        return len(self._init_t) * in_channels

    def extra_repr(self) -> str:
        return f"learn={self.learn}"  # the reference library's str()
