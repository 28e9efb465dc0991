"""``ResGatedGraphConv``: residual gated graph convolution of Bresson and Laurent (2017)."""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gat_conv import check_edge_attr
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear


def _widen(channels: int, extra: int) -> int:
    """``channels + extra`` for a known size; a lazy ``-1`` stays lazy."""
    return channels + extra if channels > 0 else -1


class ResGatedGraphConv(MessagePassing):
    """The residual gated graph convolutional operator of "Residual Gated Graph
    ConvNets".

    .. math::
        \\mathbf{x}'_i = \\mathbf{W}_1 \\mathbf{x}_i + \\sum_{j \\in \\mathcal{N}(i)}
        \\eta_{i,j} \\odot \\mathbf{W}_2 \\mathbf{x}_j + \\mathbf{b},
        \\qquad
        \\eta_{i,j} = \\sigma(\\mathbf{W}_3 \\mathbf{x}_i + \\mathbf{W}_4 \\mathbf{x}_j)

    with :math:`\\sigma` the gate (``act``, a sigmoid by default).  :math:`\\mathbf{W}_1`
    is ``lin_skip``, :math:`\\mathbf{W}_2` ``lin_value``, :math:`\\mathbf{W}_3`
    ``lin_key`` and :math:`\\mathbf{W}_4` ``lin_query`` (the last three with biases).
    With ``edge_dim`` set, every one of :math:`\\mathbf{W}_2, \\mathbf{W}_3,
    \\mathbf{W}_4` reads the node features concatenated with the edge features,
    :math:`[\\mathbf{x} \\, \\Vert \\, \\mathbf{e}_{j,i}]`, and ``edge_attr`` is required.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes;
            ``-1`` for lazy.
        out_channels (int): output features per node.
        act (callable, optional): the gate :math:`\\sigma`; ``None`` for none.
            (default: :class:`torch.nn.Sigmoid`)
        edge_dim (int, optional): edge feature width. (default: ``None``)
        root_weight (bool, optional): add :math:`\\mathbf{W}_1 \\mathbf{x}_i`.
            (default: ``True``)
        bias (bool, optional): learn the additive bias :math:`\\mathbf{b}`.
            (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``).

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]``, ``edge_attr`` ``[E, edge_dim]`` -> ``[N_dst, out_channels]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 act: Optional[Callable] = torch.nn.Sigmoid(),
                 edge_dim: Optional[int] = None, root_weight: bool = True,
                 bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        in_pair = (in_channels, in_channels) if isinstance(in_channels, int) else \
            tuple(in_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.act = act
        self.edge_dim = edge_dim
        self.root_weight = root_weight
        self._in_pair = in_pair
        extra = edge_dim or 0
        self.lin_key = Linear(_widen(in_pair[1], extra), out_channels)
        self.lin_query = Linear(_widen(in_pair[0], extra), out_channels)
        self.lin_value = Linear(_widen(in_pair[0], extra), out_channels)
        self.lin_skip = Linear(in_pair[1], out_channels, bias=False) if root_weight else None
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in (self.lin_key, self.lin_query, self.lin_value, self.lin_skip):
            if lin is not None:
                lin.reset_parameters()
        inits.zeros(self.bias)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        if x[1] is None:
            raise ValueError("ResGatedGraphConv: target node features are required (they "
                             "drive the gates); got (x_src, None)")
        check_node_channels("ResGatedGraphConv", x, self._in_pair)
        if self.edge_dim is None:
            if edge_attr is not None:
                raise ValueError("ResGatedGraphConv: got 'edge_attr' but edge_dim=None; set "
                                 "edge_dim to the edge feature width to use edge features")
            # Without edge features the maps commute with the gathers: apply them to nodes.
            k, q, v = self.lin_key(x[1]), self.lin_query(x[0]), self.lin_value(x[0])
        else:
            if edge_attr is None:
                raise ValueError(f"ResGatedGraphConv: 'edge_attr' is required when "
                                 f"edge_dim={self.edge_dim}")
            check_edge_attr("ResGatedGraphConv", edge_attr, edge_index, self.edge_dim)
            edge_attr = edge_attr.reshape(edge_attr.shape[0], self.edge_dim)
            k, q, v = x[1], x[0], x[0]
        out = self.propagate(edge_index, k=k, q=q, v=v, edge_attr=edge_attr)
        if self.lin_skip is not None:
            out = out + self.lin_skip(x[1])
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, k_i: Tensor, q_j: Tensor, v_j: Tensor,
                edge_attr: Optional[Tensor]) -> Tensor:
        if edge_attr is not None:
            k_i = self.lin_key(torch.cat([k_i, edge_attr], dim=-1))
            q_j = self.lin_query(torch.cat([q_j, edge_attr], dim=-1))
            v_j = self.lin_value(torch.cat([v_j, edge_attr], dim=-1))
        gate = k_i + q_j
        if self.act is not None:
            gate = self.act(gate)
        return gate * v_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


__all__ = ["ResGatedGraphConv"]
