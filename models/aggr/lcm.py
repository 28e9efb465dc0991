"""``LCMAggregation``: a learnable commutative monoid applied as a balanced binary tree."""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from ._dense import check_two_dimensional, to_dense_groups
from .base import Aggregation, register_aggregation

torch.fx.wrap("to_dense_groups")  # see NOTE [dense groups while tracing]


def gru_cell(inp: Tensor, hidden: Tensor, weight_ih: Tensor, weight_hh: Tensor,
             bias_ih: Tensor, bias_hh: Tensor) -> Tensor:
    """One :class:`torch.nn.GRUCell` step from its parameters (gates in r, z, n order)."""
    gi = torch.nn.functional.linear(inp, weight_ih, bias_ih).chunk(3, dim=-1)
    gh = torch.nn.functional.linear(hidden, weight_hh, bias_hh).chunk(3, dim=-1)
    reset = torch.sigmoid(gi[0] + gh[0])
    update = torch.sigmoid(gi[1] + gh[1])
    new = torch.tanh(gi[2] + reset * gh[2])
    return (1 - update) * new + update * hidden


def commutative_tree(dense: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor,
                     bias_hh: Tensor) -> Tensor:
    """Reduce padded groups ``[B, M, C]`` to ``[B, C]`` with the symmetrised GRU operator.

    Declared with ``torch.fx.wrap``: the depth of the tree is read from ``M`` when it
    runs, so a traced aggregation holds one call to it.
    """
    level = dense.transpose(0, 1)                                  # [M, B, C]
    groups, channels = level.size(1), level.size(2)
    for _ in range(math.ceil(math.log2(level.size(0)))):
        remainder = None
        if level.size(0) % 2 == 1:
            level, remainder = level[:-1], level[-1:]
        pairs = level.reshape(-1, 2, groups, channels)
        swapped = pairs.flip(dims=[1])
        out = gru_cell(pairs.reshape(-1, channels), swapped.reshape(-1, channels),
                       weight_ih, weight_hh, bias_ih, bias_hh)
        level = out.view(-1, 2, groups, channels).mean(dim=1)
        if remainder is not None:
            level = torch.cat([level, remainder], dim=0)
    return level[0]


torch.fx.wrap("commutative_tree")


@register_aggregation("lcm")
class LCMAggregation(Aggregation):
    """Learnable Commutative Monoid aggregation (Ong and Veličković, "Learnable
    Commutative Monoids for Graph Neural Networks").

    The elements of a group (optionally projected to ``out_channels`` by a linear map
    followed by ReLU) are zero-padded
    to :math:`M`, the size of the largest group, and combined pairwise in a balanced
    binary tree of depth :math:`\\lceil \\log_2 M \\rceil` with the commutative binary
    operator

    .. math::
        \\mathbf{a} \\oplus \\mathbf{b} = \\tfrac{1}{2}\\left(\\mathrm{GRUCell}(\\mathbf{a},
        \\mathbf{b}) + \\mathrm{GRUCell}(\\mathbf{b}, \\mathbf{a})\\right)

    (input first, hidden state second).  Each level pairs neighbours in order; with an
    odd count, the last one moves up a level unchanged.  Padding entries take part, as
    in the reference.  The tree's depth is read from the data; the tree runs in one
    ``torch.fx``-wrapped function (:func:`commutative_tree`), so the module traces.

    Args:
        in_channels (int): the size of each element.
        out_channels (int): the size of the result.
        project (bool, optional): apply a linear map ``in_channels -> out_channels``
            and ReLU first; without it the two sizes must be equal. (default: ``True``)
    """

    def __init__(self, in_channels: int, out_channels: int, project: bool = True):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(self._error(f"'{name}' must be a positive int, got {value!r}"))
        if in_channels != out_channels and not project:
            raise ValueError(self._error(
                f"in_channels={in_channels} differs from out_channels={out_channels}; "
                f"this needs project=True"))
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.project = project
        self.lin = torch.nn.Linear(in_channels, out_channels) if project else None
        self.gru_cell = torch.nn.GRUCell(out_channels, out_channels)
        self.reset_parameters()

    def get_out_channels(self, in_channels: int) -> int:
        """``out_channels``."""
        return self.out_channels

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        check_two_dimensional(self, x, dim)
        if self.lin is not None:
            x = self.lin(x).relu()
        dense, _ = to_dense_groups(x, index, ptr, dim_size)
        cell = self.gru_cell
        return commutative_tree(dense, cell.weight_ih, cell.weight_hh, cell.bias_ih,
                                cell.bias_hh)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, project={self.project}"
