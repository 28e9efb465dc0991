"""``CGConv``: the crystal graph convolution of Xie and Grossman (PRL 2018)."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.conv.gat_conv import check_edge_attr
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear
from gfx.utils.sparse import is_torch_sparse_tensor


class CGConv(MessagePassing):
    """The crystal graph convolutional operator of "Crystal Graph Convolutional Neural
    Networks for an Accurate and Interpretable Prediction of Material Properties".

    .. math::
        \\mathbf{x}'_i = \\mathbf{x}_i + \\bigoplus_{j \\in \\mathcal{N}(i)}
        \\sigma \\left( \\mathbf{z}_{i,j} \\mathbf{W}_f + \\mathbf{b}_f \\right) \\odot
        g \\left( \\mathbf{z}_{i,j} \\mathbf{W}_s + \\mathbf{b}_s \\right),
        \\qquad \\mathbf{z}_{i,j} = [\\mathbf{x}_i, \\mathbf{x}_j, \\mathbf{e}_{i,j}]

    with :math:`\\sigma` the sigmoid, :math:`g` the softplus and :math:`\\bigoplus` the
    aggregation (a sum by default).  With ``batch_norm`` the aggregated messages pass
    through :class:`torch.nn.BatchNorm1d` before the residual is added.  The output has
    the target width, so the residual :math:`\\mathbf{x}_i` needs target features.

    Args:
        channels (int or (int, int)): node features, or ``(source, target)`` sizes.
        dim (int, optional): edge feature width (0: no edge features). (default: ``0``)
        aggr (str, optional): the aggregation (``"add"``, ``"mean"``, ``"max"``).
            (default: ``"add"``)
        batch_norm (bool, optional): batch-normalise the aggregated messages.
            (default: ``False``)
        bias (bool, optional): biases :math:`\\mathbf{b}_f, \\mathbf{b}_s`.
            (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, C]`` or ``([N_src, C_src], [N_dst, C_dst])``, ``edge_index``
    ``[2, E]``, ``edge_attr`` ``[E, dim]`` -> ``[N_dst, C_dst]``.
    """

    def __init__(self, channels: Union[int, Tuple[int, int]], dim: int = 0,
                 aggr: str = "add", batch_norm: bool = False, bias: bool = True, **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        pair = (channels, channels) if isinstance(channels, int) else tuple(channels)
        if min(pair) < 1:
            raise ValueError(f"CGConv: 'channels' must be positive, got {channels}")
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 0:
            raise ValueError(f"CGConv: 'dim' must be a non-negative int, got {dim!r}")
        self.channels = channels
        self.dim = dim
        self.batch_norm = batch_norm
        self._in_pair = pair
        width = pair[0] + pair[1] + dim
        self.lin_f = Linear(width, pair[1], bias=bias)
        self.lin_s = Linear(width, pair[1], bias=bias)
        self.bn = torch.nn.BatchNorm1d(pair[1]) if batch_norm else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin_f.reset_parameters()
        self.lin_s.reset_parameters()
        if self.bn is not None:
            self.bn.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            raise ValueError("CGConv: 'edge_index' must be a [2, E] tensor")
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        if pair[1] is None:
            raise ValueError("CGConv: target node features are required (messages use "
                             "x_i and the output adds them); got (x_src, None)")
        check_node_channels("CGConv", pair, self._in_pair)
        if self.dim:
            if edge_attr is None:
                raise ValueError(f"CGConv: 'edge_attr' is required when dim={self.dim}")
            check_edge_attr("CGConv", edge_attr, edge_index, self.dim)
            edge_attr = edge_attr.reshape(-1, self.dim)
        elif edge_attr is not None:
            raise ValueError("CGConv: got 'edge_attr' but dim=0; set dim to the edge "
                             "feature width")
        out = self.propagate(edge_index, x=pair, edge_attr=edge_attr)
        if self.bn is not None:
            out = self.bn(out)
        return out + pair[1]

    def message(self, x_i: Tensor, x_j: Tensor, edge_attr: Optional[Tensor]) -> Tensor:
        if edge_attr is None:
            z = torch.cat([x_i, x_j], dim=-1)
        else:
            z = torch.cat([x_i, x_j, edge_attr], dim=-1)
        return self.lin_f(z).sigmoid() * F.softplus(self.lin_s(z))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.channels}, dim={self.dim})"


__all__ = ["CGConv"]
