"""``DeepSetsAggregation``: transform each element, sum, transform the sum."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ._dense import group_count
from ._nets import apply_net, is_mlp
from .base import Aggregation, register_aggregation

torch.fx.wrap("group_count")  # see NOTE [dense groups while tracing]


@register_aggregation("deep_sets", "deepsets")
class DeepSetsAggregation(Aggregation):
    """Deep Sets aggregation (Zaheer et al., "Deep Sets"; Buterez et al., "Graph Neural
    Networks with Adaptive Readouts").

    .. math::
        \\mathbf{r}_g = \\rho_{\\mathbf{\\Theta}}\\left(\\sum_{i \\in g}
        \\phi_{\\mathbf{\\Theta}}(\\mathbf{x}_i)\\right)

    Either network may be left out (the identity).  An empty group sums to 0 before
    :math:`\\rho`.  A :class:`gfx.nn.models.MLP` is stored as ``local_mlp`` /
    ``global_mlp``, any other module as ``local_nn`` / ``global_nn`` (the reference's
    state_dict keys).

    Args:
        local_nn (torch.nn.Module, optional): :math:`\\phi_{\\mathbf{\\Theta}}`, applied to
            every element. (default: ``None``)
        global_nn (torch.nn.Module, optional): :math:`\\rho_{\\mathbf{\\Theta}}`, applied to
            every group's sum. (default: ``None``)
    """

    def __init__(self, local_nn: Optional[torch.nn.Module] = None,
                 global_nn: Optional[torch.nn.Module] = None):
        super().__init__()
        for name, net in (("local_nn", local_nn), ("global_nn", global_nn)):
            if net is not None and not isinstance(net, torch.nn.Module):
                raise TypeError(self._error(
                    f"'{name}' must be a torch.nn.Module or None, got {type(net).__name__}"))
        self.local_nn = self.local_mlp = self.global_nn = self.global_mlp = None
        if is_mlp(local_nn):
            self.local_mlp = local_nn
        else:
            self.local_nn = local_nn
        if is_mlp(global_nn):
            self.global_mlp = global_nn
        else:
            self.global_nn = global_nn
        self.reset_parameters()

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        if index is not None and ptr is None and dim_size is None:
            dim_size = group_count(index)  # only reached while tracing
        local = self.local_mlp if self.local_mlp is not None else self.local_nn
        if local is not None:
            x = apply_net(local, x, index, dim_size)
        x = self.reduce(x, index, ptr, dim_size, dim, reduce="sum")
        glob = self.global_mlp if self.global_mlp is not None else self.global_nn
        if glob is not None:
            x = glob(x)
        return x

    def extra_repr(self) -> str:
        local = self.local_mlp if self.local_mlp is not None else self.local_nn
        glob = self.global_mlp if self.global_mlp is not None else self.global_nn
        return f"local_nn={local}, global_nn={glob}"
