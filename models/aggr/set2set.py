"""``Set2Set``: a readout by iterated content-based attention driven by an LSTM."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

import gfx.ops
from gfx.ops.segment import ptr_to_index

from ._dense import check_two_dimensional, group_count
from .base import Aggregation, register_aggregation


torch.fx.wrap("group_count")  # see NOTE [dense groups while tracing]


@register_aggregation("set2set")
class Set2Set(Aggregation):
    """Set2Set readout (Vinyals et al., "Order Matters: Sequence to sequence for sets").

    Starting from :math:`\\mathbf{q}^*_0 = \\mathbf{0}`, for :math:`t = 1, \\dots, T`:

    .. math::
        \\mathbf{q}_t &= \\mathrm{LSTM}(\\mathbf{q}^*_{t-1}) \\\\
        \\alpha_{i,t} &= \\mathrm{softmax}_{i \\in g}(\\mathbf{x}_i \\cdot \\mathbf{q}_t) \\\\
        \\mathbf{r}_t &= \\sum_{i \\in g} \\alpha_{i,t} \\mathbf{x}_i \\\\
        \\mathbf{q}^*_t &= \\mathbf{q}_t \\, \\Vert \\, \\mathbf{r}_t

    The output is :math:`\\mathbf{q}^*_T`, twice as wide as the input.  The LSTM's state
    is carried across steps, one sequence per group.  An empty group has
    :math:`\\mathbf{r}_t = \\mathbf{0}`.

    Args:
        in_channels (int): the size :math:`F` of each element.
        processing_steps (int): the number of steps :math:`T`.
        **kwargs: further arguments of :class:`torch.nn.LSTM` (e.g. ``num_layers``).
    """

    def __init__(self, in_channels: int, processing_steps: int, **kwargs):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("processing_steps", processing_steps)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(self._error(f"'{name}' must be a positive int, got {value!r}"))
        self.in_channels = in_channels
        self.out_channels = 2 * in_channels
        self.processing_steps = processing_steps
        self.lstm = torch.nn.LSTM(self.out_channels, in_channels, **kwargs)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the LSTM."""
        self.lstm.reset_parameters()

    def get_out_channels(self, in_channels: int) -> int:
        """``2 * in_channels``."""
        return 2 * in_channels

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        check_two_dimensional(self, x, dim)
        if index is None:
            index = (ptr_to_index(ptr, x.size(0)) if ptr is not None
                     else x.new_zeros(x.size(0), dtype=torch.long))
        if dim_size is None:
            dim_size = ptr.numel() - 1 if ptr is not None else group_count(index)
        layers = self.lstm.num_layers
        state = (x.new_zeros(layers, dim_size, self.in_channels),
                 x.new_zeros(layers, dim_size, self.in_channels))
        q_star = x.new_zeros(dim_size, self.out_channels)
        for _ in range(self.processing_steps):
            q, state = self.lstm(q_star.unsqueeze(0), state)
            q = q.view(dim_size, self.in_channels)
            score = (x * gfx.ops.gather(q, index, 0)).sum(dim=-1, keepdim=True)
            alpha = gfx.ops.segment_softmax(score, index=index, dim=0, num_segments=dim_size)
            r = gfx.ops.scatter(alpha * x, index, dim=0, dim_size=dim_size, reduce="sum")
            q_star = torch.cat([q, r], dim=-1)
        return q_star

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}"
