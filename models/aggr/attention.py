"""``AttentionalAggregation``: a softmax-gated sum of (transformed) elements."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

import gfx.ops

from ._dense import group_count
from ._nets import apply_net
from .base import Aggregation, is_traced, register_aggregation, single_group_ptr


torch.fx.wrap("group_count")  # see NOTE [dense groups while tracing]


@register_aggregation("attentional")
class AttentionalAggregation(Aggregation):
    """Soft attention aggregation (Li et al., "Graph Matching Networks"; Li et al., "Gated
    Graph Sequence Neural Networks").

    .. math::
        \\mathbf{r}_g = \\sum_{i \\in g} \\mathrm{softmax}_{i \\in g}\\left(
        h_{\\mathrm{gate}}(\\mathbf{x}_i)\\right) \\odot h_{\\mathbf{\\Theta}}(\\mathbf{x}_i)

    The softmax runs over the elements of each group, separately per gate channel.  The
    gate gives one score per element (``[*, 1]``, shared by all features) or one per
    output feature.  An empty group gives 0.

    Args:
        gate_nn (torch.nn.Module): :math:`h_{\\mathrm{gate}}`, mapping ``[N, F_in]`` to
            ``[N, 1]`` or ``[N, F_out]``.
        nn (torch.nn.Module, optional): :math:`h_{\\mathbf{\\Theta}}`, mapping
            ``[N, F_in]`` to ``[N, F_out]``; the identity when ``None``. (default: ``None``)
    """

    def __init__(self, gate_nn: torch.nn.Module, nn: Optional[torch.nn.Module] = None):
        super().__init__()
        if not isinstance(gate_nn, torch.nn.Module):
            raise TypeError(self._error(
                f"'gate_nn' must be a torch.nn.Module, got {type(gate_nn).__name__}"))
        if nn is not None and not isinstance(nn, torch.nn.Module):
            raise TypeError(self._error(
                f"'nn' must be a torch.nn.Module or None, got {type(nn).__name__}"))
        self.gate_nn = gate_nn
        self.nn = nn
        self.reset_parameters()

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        gate = apply_net(self.gate_nn, x, index, dim_size)
        value = apply_net(self.nn, x, index, dim_size) if self.nn is not None else x
        if not is_traced(gate, value) and (gate.dim() != value.dim() or gate.size(-1) not in
                                            (1, value.size(-1))):
            raise ValueError(self._error(
                f"'gate_nn' must give shape [*, 1] or [*, {value.size(-1)}] matching the "
                f"values {tuple(value.shape)}, got {tuple(gate.shape)}"))
        if index is None and ptr is None:
            ptr, dim_size = single_group_ptr(x, dim % x.dim(), 1), 1
        elif ptr is None and dim_size is None:
            dim_size = group_count(index)
        weight = gfx.ops.segment_softmax(gate, index=None if ptr is not None else index,
                                         ptr=ptr, dim=dim, num_segments=dim_size)
        return self.reduce(weight * value, index, ptr, dim_size, dim, reduce="sum")

    def extra_repr(self) -> str:
        return f"gate_nn={self.gate_nn}, nn={self.nn}"
