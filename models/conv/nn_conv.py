"""``NNConv`` (alias ``ECConv``): the edge-conditioned convolution of Gilmer et al.
(ICML 2017) and Simonovsky and Komodakis (CVPR 2017)."""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear
from gfx.utils.sparse import is_torch_sparse_tensor


class NNConv(MessagePassing):
    """The continuous kernel-based convolutional operator of "Neural Message Passing for
    Quantum Chemistry", also known as the edge-conditioned convolution of "Dynamic
    Edge-Conditioned Filters in Convolutional Neural Networks on Graphs".

    .. math::
        \\mathbf{x}'_i = \\mathbf{\\Theta} \\mathbf{x}_i + \\bigoplus_{j \\in
        \\mathcal{N}(i)} \\mathbf{x}_j \\cdot h_{\\mathbf{\\Theta}}(\\mathbf{e}_{i,j})
        + \\mathbf{b}

    with :math:`h_{\\mathbf{\\Theta}}` a network mapping each edge's features to an
    ``[in_channels, out_channels]`` matrix (returned flat, ``in * out`` values per edge)
    and :math:`\\bigoplus` the aggregation (a sum by default).

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes.
        out_channels (int): output features.
        nn (torch.nn.Module): :math:`h_{\\mathbf{\\Theta}}`, mapping ``[E, edge_dim]`` to
            ``[E, in_channels * out_channels]``.
        aggr (str, optional): the aggregation (``"add"``, ``"mean"``, ``"max"``).
            (default: ``"add"``)
        root_weight (bool, optional): add :math:`\\mathbf{\\Theta} \\mathbf{x}_i`.
            (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]``, ``edge_attr`` ``[E, edge_dim]`` -> ``[N_dst, out]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 nn: Callable, aggr: str = "add", root_weight: bool = True,
                 bias: bool = True, **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        pair = (in_channels, in_channels) if isinstance(in_channels, int) else in_channels
        if pair[0] < 1:
            raise ValueError(f"{type(self).__name__}: the source 'in_channels' must be "
                             f"positive (nn's output is reshaped with it), got {in_channels}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.nn = nn
        self.root_weight = root_weight
        self.in_channels_l = pair[0]
        self._in_pair = tuple(pair)
        self.lin = (Linear(pair[1], out_channels, bias=False, weight_initializer="uniform")
                    if root_weight else None)
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.reset(self.nn)
        if self.lin is not None:
            self.lin.reset_parameters()
        inits.zeros(self.bias)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None, size=None) -> Tensor:
        name = type(self).__name__
        if is_torch_sparse_tensor(edge_index):
            raise ValueError(f"{name}: 'edge_index' must be a [2, E] tensor; the kernels "
                             f"come from per-edge features")
        if edge_attr is None:
            raise ValueError(f"{name}: 'edge_attr' is required (nn maps it to the "
                             f"per-edge kernel)")
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        check_node_channels(name, pair, self._in_pair)
        out = self.propagate(edge_index, x=pair, edge_attr=edge_attr, size=size)
        if pair[1] is not None and self.lin is not None:
            out = out + self.lin(pair[1])
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        weight = self.nn(edge_attr).view(-1, self.in_channels_l, self.out_channels)
        return torch.matmul(x_j.unsqueeze(1), weight).squeeze(1)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"aggr={self.aggr}, nn={self.nn})")


ECConv = NNConv

__all__ = ["NNConv", "ECConv"]
