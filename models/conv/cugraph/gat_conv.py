"""``CuGraphGATConv``: graph attention with the interface of the reference's cugraph-ops
layer."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.cugraph.base import GraphInput, cugraph_graph, to_csc
from gfx.nn.dense.linear import Linear
from gfx.utils import is_tracing, softmax


class CuGraphGATConv(MessagePassing):
    """The graph attentional operator of "Graph Attention Networks", with the interface
    of the reference's cugraph-ops layer.

    .. math::
        \\mathbf{x}'_i = \\sum_{j \\in \\mathcal{N}(i)} \\alpha_{i,j}
        \\mathbf{\\Theta} \\mathbf{x}_j + \\mathbf{b}, \\qquad
        \\alpha_{i,j} = \\mathrm{softmax}_j \\left( \\mathrm{LeakyReLU} \\left(
        \\mathbf{a}_s^{\\top} \\mathbf{\\Theta} \\mathbf{x}_j +
        \\mathbf{a}_t^{\\top} \\mathbf{\\Theta} \\mathbf{x}_i \\right) \\right)

    per head; heads are concatenated or averaged.  No self-loops are added (add them to
    the graph beforehand).  ``att`` holds :math:`[\\mathbf{a}_s \\Vert \\mathbf{a}_t]`
    (each ``heads * out_channels``, head-major): the source half first.  The reference
    calls the pylibcugraphops CUDA kernels; gfx runs its own message passing (any device,
    eager and compiled), equal to :class:`gfx.nn.GATConv` with ``add_self_loops=False``,
    ``att_src`` and ``att_dst`` the two halves of ``att``.

    Args:
        in_channels (int): input features per node.
        out_channels (int): output features per head.
        heads (int, optional): number of attention heads. (default: ``1``)
        concat (bool, optional): concatenate the heads, else average them.
            (default: ``True``)
        negative_slope (float, optional): LeakyReLU slope. (default: ``0.2``)
        bias (bool, optional): learn an additive bias. (default: ``True``)

    Shapes: ``x`` ``[N_src, in_channels]``; ``edge_index`` as for
    :class:`gfx.nn.CuGraphSAGEConv`; ``edge_attr`` must be ``None`` (the layer has no edge
    parameters; the reference signature lists it) -> ``[N_dst, heads * out_channels]``
    (``[N_dst, out_channels]`` with ``concat=False``).
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1,
                 concat: bool = True, negative_slope: float = 0.2, bias: bool = True):
        super().__init__(aggr="add", node_dim=0)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.lin = Linear(in_channels, heads * out_channels, bias=False)
        self.att = Parameter(torch.empty(2 * heads * out_channels))
        total = heads * out_channels if concat else out_channels
        self.bias = Parameter(torch.empty(total)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        gain = torch.nn.init.calculate_gain("relu")
        torch.nn.init.xavier_normal_(self.att.view(2, self.heads, self.out_channels),
                                     gain=gain)
        inits.zeros(self.bias)

    to_csc = staticmethod(to_csc)

    def forward(self, x: Tensor, edge_index: GraphInput, edge_attr: Optional[Tensor] = None,
                max_num_neighbors: Optional[int] = None) -> Tensor:
        if edge_attr is not None:
            raise ValueError("CuGraphGATConv: 'edge_attr' is not supported (the layer has no "
                             "edge parameters); pass None")
        edge_index, size = cugraph_graph("CuGraphGATConv", x, edge_index, max_num_neighbors)
        if not is_tracing(x) and (x.dim() != 2 or x.shape[1] != self.in_channels):
            raise ValueError(f"CuGraphGATConv: 'x' must have shape [num_nodes, "
                             f"{self.in_channels}], got {list(x.shape)}")
        H, C = self.heads, self.out_channels
        h = self.lin(x).view(-1, H, C)
        att_src, att_dst = self.att.view(2, H, C)
        alpha_src = (h * att_src).sum(-1)
        alpha_dst = (h[:size[1]] * att_dst).sum(-1)
        out = self.propagate(edge_index, x=(h, h[:size[1]]),
                             alpha=(alpha_src, alpha_dst), size=size)
        out = out.reshape(-1, H * C) if self.concat else out.mean(dim=1)
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, alpha_j: Tensor, alpha_i: Tensor, index: Tensor,
                size_i: Optional[int]) -> Tensor:
        alpha = F.leaky_relu(alpha_j + alpha_i, self.negative_slope)
        alpha = softmax(alpha, index, num_nodes=size_i)
        return alpha.unsqueeze(-1) * x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")


__all__ = ["CuGraphGATConv"]
