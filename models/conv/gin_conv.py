"""``GINConv`` and ``GINEConv``: graph isomorphism operators (Xu et al.; Hu et al.)."""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear
from gfx.utils import is_tracing


def nn_in_channels(nn: Callable) -> Optional[int]:
    """The input width of ``nn``, or ``None`` when it cannot be read reliably.

    Read from ``nn.in_features`` / ``nn.in_channels``, or, for a
    :class:`torch.nn.Sequential`, from its first layer (recursively).
    """
    for attr in ("in_features", "in_channels"):
        value = getattr(nn, attr, None)
        if isinstance(value, int):
            return value if value > 0 else None
    if isinstance(nn, torch.nn.Sequential) and len(nn) > 0:
        return nn_in_channels(nn[0])
    return None


class GINConv(MessagePassing):
    """The graph isomorphism operator of "How Powerful are Graph Neural Networks?".

    .. math::
        \\mathbf{x}'_i = h_{\\mathbf{\\Theta}} \\left( (1 + \\epsilon) \\cdot
        \\mathbf{x}_i + \\sum_{j \\in \\mathcal{N}(i)} \\mathbf{x}_j \\right),
        \\qquad
        \\mathbf{X}' = h_{\\mathbf{\\Theta}} \\left( \\left( \\mathbf{A} +
        (1 + \\epsilon) \\mathbf{I} \\right) \\mathbf{X} \\right)

    with :math:`h_{\\mathbf{\\Theta}}` a neural network (e.g. an MLP).  :math:`\\epsilon` is
    a buffer named ``eps`` (a parameter when ``train_eps=True``).  The neighbourhood sum
    is unweighted: the values of a torch.sparse ``adj_t`` are ignored (the reference
    weights neighbours by them).  When the input width of ``nn`` can be read (see
    :func:`nn_in_channels`), node features of another width are refused.

    Args:
        nn (torch.nn.Module): :math:`h_{\\mathbf{\\Theta}}`, mapping ``[N, in_channels]``
            to ``[N, out_channels]``.
        eps (float, optional): the (initial) :math:`\\epsilon`. (default: ``0.``)
        train_eps (bool, optional): learn :math:`\\epsilon`. (default: ``False``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` defaults to
            ``"add"``).

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in], [N_dst, in])``, ``edge_index``
    ``[2, E]`` -> ``[N_dst, out]``.
    """

    def __init__(self, nn: Callable, eps: float = 0.0, train_eps: bool = False, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        self.nn = nn
        self.initial_eps = eps
        self._in_channels = nn_in_channels(nn)
        if train_eps:
            self.eps = Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.reset(self.nn)
        with torch.no_grad():
            self.eps.fill_(self.initial_eps)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                size: Optional[Tuple[int, int]] = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        if self._in_channels is not None:
            check_node_channels("GINConv", x, (self._in_channels, self._in_channels))
        out = self.propagate(edge_index, x=x, size=size)
        if x[1] is not None:
            out = out + (1 + self.eps) * x[1]
        return self.nn(out)

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}(nn={self.nn})"


class GINEConv(MessagePassing):
    """The GIN operator with edge features of "Strategies for Pre-training Graph Neural
    Networks".

    .. math::
        \\mathbf{x}'_i = h_{\\mathbf{\\Theta}} \\left( (1 + \\epsilon) \\cdot
        \\mathbf{x}_i + \\sum_{j \\in \\mathcal{N}(i)} \\mathrm{ReLU}
        (\\mathbf{x}_j + \\mathbf{e}_{j,i}) \\right)

    With ``edge_dim`` set, the edge features are first mapped to the node width by a
    linear layer ``lin`` (:math:`\\mathbf{e}_{j,i} \\leftarrow \\mathbf{W}
    \\mathbf{e}_{j,i} + \\mathbf{b}`); without it they must already have the node width.

    Args:
        nn (torch.nn.Module): :math:`h_{\\mathbf{\\Theta}}`, mapping ``[N, in_channels]``
            to ``[N, out_channels]``.
        eps (float, optional): the (initial) :math:`\\epsilon`. (default: ``0.``)
        train_eps (bool, optional): learn :math:`\\epsilon`. (default: ``False``)
        edge_dim (int, optional): width of the edge features when it differs from the
            node width; the node width is read from ``nn`` (see :func:`nn_in_channels`).
            (default: ``None``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` defaults to
            ``"add"``).

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in], [N_dst, in])``, ``edge_index``
    ``[2, E]``, ``edge_attr`` ``[E, edge_dim or in]`` (required) -> ``[N_dst, out]``.
    """

    def __init__(self, nn: torch.nn.Module, eps: float = 0.0, train_eps: bool = False,
                 edge_dim: Optional[int] = None, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        self.nn = nn
        self.initial_eps = eps
        self.edge_dim = edge_dim
        if train_eps:
            self.eps = Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self._in_channels = nn_in_channels(nn)
        if edge_dim is not None and self._in_channels is None:
            raise ValueError(f"GINEConv: cannot infer the input width of nn={nn!r} (no "
                             f"module with 'in_features' or 'in_channels'); edge_dim needs "
                             f"it to size the edge projection")
        self.lin = None if edge_dim is None else Linear(edge_dim, self._in_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.reset(self.nn)
        with torch.no_grad():
            self.eps.fill_(self.initial_eps)
        if self.lin is not None:
            self.lin.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None,
                size: Optional[Tuple[int, int]] = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        if self._in_channels is not None:
            check_node_channels("GINEConv", x, (self._in_channels, self._in_channels))
        if edge_attr is None:
            raise ValueError("GINEConv: 'edge_attr' is required (the messages are "
                             "ReLU(x_j + e_ji)); use GINConv for graphs without edge features")
        if not is_tracing(edge_attr, x[0]):
            self._check_edge_attr(edge_attr, x[0])
        out = self.propagate(edge_index, x=x, edge_attr=edge_attr, size=size)
        if x[1] is not None:
            out = out + (1 + self.eps) * x[1]
        return self.nn(out)

    def _check_edge_attr(self, edge_attr: Tensor, x_src: Tensor) -> None:
        if edge_attr.dim() != 2:
            raise ValueError(f"GINEConv: 'edge_attr' must be 2-D [num_edges, features], got "
                             f"shape {list(edge_attr.shape)}")
        width = edge_attr.shape[-1]
        if self.edge_dim is not None and width != self.edge_dim:
            raise ValueError(f"GINEConv: 'edge_attr' has {width} features, but "
                             f"edge_dim={self.edge_dim}")
        if self.edge_dim is None and width != x_src.shape[-1]:
            raise ValueError(f"GINEConv: 'edge_attr' has {width} features but the node "
                             f"features 'x' have {x_src.shape[-1]}; set edge_dim={width} "
                             f"to project the edge features")

    def message(self, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        if self.lin is not None:
            edge_attr = self.lin(edge_attr)
        return F.relu(x_j + edge_attr)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(nn={self.nn})"


__all__ = ["GINConv", "GINEConv"]
