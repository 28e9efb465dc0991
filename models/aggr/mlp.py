"""``MLPAggregation``: flatten a group into one vector and apply an MLP."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ._dense import check_two_dimensional, to_dense_groups
from .base import Aggregation, has_data, register_aggregation

torch.fx.wrap("to_dense_groups")  # see NOTE [dense groups while tracing]


@register_aggregation("mlp")
class MLPAggregation(Aggregation):
    """MLP aggregation (Buterez et al., "Graph Neural Networks with Adaptive Readouts").

    The elements of a group, in order of appearance, are zero-padded to
    :math:`M` = ``max_num_elements`` and flattened into one vector of size
    :math:`M \\cdot F`, which a :class:`gfx.nn.models.MLP` maps to ``out_channels``:

    .. math::
        \\mathbf{r}_g = \\mathrm{MLP}(\\mathbf{x}_{g,1} \\Vert \\dots \\Vert
        \\mathbf{x}_{g,M})

    The result depends on the order of the elements.  A group with more than
    :math:`M` elements raises ``ValueError`` (the reference silently drops the extra
    elements).

    Args:
        in_channels (int): the size :math:`F` of each element.
        out_channels (int): the size of the result.
        max_num_elements (int): the largest group size :math:`M`.
        **kwargs: further arguments of :class:`gfx.nn.models.MLP` (e.g.
            ``hidden_channels``, ``num_layers``).
    """

    def __init__(self, in_channels: int, out_channels: int, max_num_elements: int, **kwargs):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("max_num_elements", max_num_elements)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(self._error(f"'{name}' must be a positive int, got {value!r}"))
        from gfx.nn.models.mlp import MLP
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.max_num_elements = max_num_elements
        self.mlp = MLP(in_channels=in_channels * max_num_elements, out_channels=out_channels,
                       **kwargs)
        self.reset_parameters()

    def get_out_channels(self, in_channels: int) -> int:
        """``out_channels``."""
        return self.out_channels

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        check_two_dimensional(self, x, dim)
        if index is not None and has_data(index) and index.numel() > 0:
            largest = int(index.bincount().max())
            if largest > self.max_num_elements:
                raise ValueError(self._error(
                    f"a group has {largest} elements, more than "
                    f"max_num_elements={self.max_num_elements}"))
        elif ptr is not None and has_data(ptr) and ptr.numel() > 1:
            largest = int((ptr[1:] - ptr[:-1]).max())
            if largest > self.max_num_elements:
                raise ValueError(self._error(
                    f"a group has {largest} elements, more than "
                    f"max_num_elements={self.max_num_elements}"))
        dense, _ = to_dense_groups(x, index, ptr, dim_size,
                                   max_num_elements=self.max_num_elements)
        return self.mlp(dense.reshape(dense.size(0), -1))

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, "
                f"max_num_elements={self.max_num_elements}")
