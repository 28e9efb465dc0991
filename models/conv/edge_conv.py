"""``EdgeConv``: the edge convolution of Dynamic Graph CNN (Wang et al., 2019)."""
from __future__ import annotations

from typing import Callable, Tuple, Union

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gin_conv import nn_in_channels
from gfx.utils import is_tracing


class EdgeConv(MessagePassing):
    """The edge convolutional operator of "Dynamic Graph CNN for Learning on Point
    Clouds".

    .. math::
        \\mathbf{x}'_i = \\bigoplus_{j \\in \\mathcal{N}(i)} h_{\\mathbf{\\Theta}}
        (\\mathbf{x}_i \\, \\Vert \\, \\mathbf{x}_j - \\mathbf{x}_i)

    with :math:`h_{\\mathbf{\\Theta}}` a neural network applied per edge and
    :math:`\\bigoplus` the aggregation (a maximum by default; a node without incoming
    edges gets 0).  When the input width of ``nn`` can be read (see
    :func:`gfx.nn.conv.gin_conv.nn_in_channels`), node features whose doubled width
    differs are refused.

    Args:
        nn (torch.nn.Module): :math:`h_{\\mathbf{\\Theta}}`, mapping
            ``[E, 2 * in_channels]`` to ``[E, out_channels]``.
        aggr (str or [str] or Aggregation, optional): the aggregation. (default: ``"max"``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in], [N_dst, in])``, ``edge_index``
    ``[2, E]`` -> ``[N_dst, out]``.
    """

    def __init__(self, nn: Callable, aggr: str = "max", **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        self.nn = nn
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.reset(self.nn)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], edge_index: Tensor) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        if x[1] is None:
            raise ValueError("EdgeConv: target node features are required (messages use "
                             "x_i); got (x_src, None)")
        width = nn_in_channels(self.nn)
        if width is not None and not is_tracing(x[0]):
            for side, value in zip(("source", "target"), x):
                if 2 * value.shape[-1] != width:
                    raise ValueError(f"EdgeConv: the {side} node features 'x' have "
                                     f"{value.shape[-1]} channels, but nn takes {width} = "
                                     f"2 * in_channels inputs")
        return self.propagate(edge_index, x=x)

    def message(self, x_i: Tensor, x_j: Tensor) -> Tensor:
        return self.nn(torch.cat([x_i, x_j - x_i], dim=-1))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(nn={self.nn})"


__all__ = ["EdgeConv"]
