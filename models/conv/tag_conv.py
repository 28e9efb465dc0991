"""``TAGConv``: the topology adaptive graph convolution of Du et al. (2017)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch.nn import ModuleList, Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.nn.dense.linear import Linear
from gfx.utils import is_torch_sparse_tensor, is_tracing, adj_t_to_edge_index

# gcn_norm is graph structure: one node in a captured graph (see gcn_conv.py).
torch.fx.wrap("gcn_norm")


class TAGConv(MessagePassing):
    """The topology adaptive graph convolution of "Topology Adaptive Graph Convolutional
    Networks".

    .. math::
        \\mathbf{X}' = \\sum_{k=0}^{K} \\left(\\mathbf{D}^{-1/2} \\mathbf{A}
        \\mathbf{D}^{-1/2}\\right)^k \\mathbf{X} \\mathbf{\\Theta}_k + \\mathbf{b}

    with :math:`A_{ij}` the (summed) weight of the edges :math:`j \\to i`, self-loops kept
    as given and none added, and :math:`D_{ii} = \\sum_j A_{ij}` (an isolated node has
    :math:`D^{-1/2}_{ii} = 0`).  With ``normalize=False`` the powers are of
    :math:`\\mathbf{A}` itself.

    Args:
        in_channels (int): input features per node, or ``-1`` (lazy).
        out_channels (int): output features per node.
        K (int, optional): number of hops :math:`K`. (default: ``3``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        normalize (bool, optional): apply the symmetric normalisation. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a sparse ``adj_t``,
    ``edge_weight`` ``[E]`` -> ``[N, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, K: int = 3, bias: bool = True,
                 normalize: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if not isinstance(K, int) or K < 0:
            raise ValueError(f"TAGConv: 'K' must be a non-negative int, got {K!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.K = K
        self.normalize = normalize
        self.lins = ModuleList([Linear(in_channels, out_channels, bias=False)
                                for _ in range(K + 1)])
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in self.lins:
            lin.reset_parameters()
        if self.bias is not None:
            inits.zeros(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if isinstance(x, (tuple, list)):
            raise ValueError("TAGConv does not support bipartite (source, target) inputs")
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if not is_tracing(x):
            if self.in_channels > 0 and x.shape[-1] != self.in_channels:
                raise ValueError(f"TAGConv: 'x' must have in_channels={self.in_channels} "
                                 f"features in its last dimension, got shape {list(x.shape)}")
            if edge_weight is not None and edge_weight.shape != (edge_index.shape[-1],):
                raise ValueError(f"TAGConv: 'edge_weight' must have shape [num_edges="
                                 f"{edge_index.shape[-1]}], got {list(edge_weight.shape)}")
        if self.normalize:
            edge_index, edge_weight = gcn_norm(edge_index, edge_weight, x.shape[self.node_dim],
                                               False, False, self.flow, x.dtype)
        out = self.lins[0](x)
        for lin in self.lins[1:]:
            x = self.propagate(edge_index, x=x, edge_weight=edge_weight)
            out = out + lin(x)
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}, K={self.K})"


__all__ = ["TAGConv"]
