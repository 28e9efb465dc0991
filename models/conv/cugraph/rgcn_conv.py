"""``CuGraphRGCNConv``: relational graph convolution with the interface of the reference's
cugraph-ops layer."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.cugraph.base import GraphInput, cugraph_graph, to_csc
from gfx.ops import scatter
from gfx.utils import is_tracing

RGCN_AGGRS = ("mean", "sum", "add")


class CuGraphRGCNConv(MessagePassing):
    """The relational graph convolutional operator of "Modeling Relational Data with
    Graph Convolutional Networks", with the interface of the reference's cugraph-ops layer.

    .. math::
        \\mathbf{x}'_i = \\mathbf{\\Theta}_{\\mathrm{root}} \\mathbf{x}_i +
        \\sum_{r \\in \\mathcal{R}} \\mathbf{\\Theta}_r
        \\bigoplus_{j \\in \\mathcal{N}_r(i)} \\mathbf{x}_j + \\mathbf{b},
        \\qquad \\mathbf{\\Theta}_r = \\sum_b c_{r,b} \\mathbf{B}_b \\text{ with bases}

    :math:`\\bigoplus` is a mean (``aggr="mean"``) or a sum per relation.  ``weight``
    stacks the relation (or basis) matrices and, last, the root matrix:
    ``[num_relations (or num_bases) + root_weight, in_channels, out_channels]``; ``comp``
    holds :math:`c_{r,b}`.  The reference calls the pylibcugraphops CUDA kernels; gfx
    runs its own message passing (any device, eager and compiled): the per-relation
    aggregations side by side, ``[N, R * in]``, times the stacked weights.

    Args:
        in_channels (int): input features per node.
        out_channels (int): output features per node.
        num_relations (int): number of relations.
        num_bases (int, optional): number of bases. (default: ``None``)
        aggr (str, optional): ``"mean"`` or ``"sum"``. (default: ``"mean"``)
        root_weight (bool, optional): add the root term. (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)

    Shapes: ``x`` ``[N_src, in_channels]``; ``edge_index`` as for
    :class:`gfx.nn.CuGraphSAGEConv` (for a CSC triple, ``edge_type`` in CSC order: use
    ``to_csc(edge_index, size, edge_type)``); ``edge_type`` ``[E]`` ->
    ``[N_dst, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, num_relations: int,
                 num_bases: Optional[int] = None, aggr: str = "mean",
                 root_weight: bool = True, bias: bool = True):
        if aggr not in RGCN_AGGRS:
            raise ValueError(f"CuGraphRGCNConv: 'aggr' must be one of {RGCN_AGGRS}, got "
                             f"{aggr!r}")
        super().__init__(aggr=None)
        self.reduce = "mean" if aggr == "mean" else "sum"
        self.aggr = aggr
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_relations = num_relations
        self.num_bases = num_bases
        self.root_weight = root_weight
        dim_root = 1 if root_weight else 0
        if num_bases is not None:
            self.weight = Parameter(torch.empty(num_bases + dim_root, in_channels,
                                                out_channels))
            self.comp = Parameter(torch.empty(num_relations, num_bases))
        else:
            self.weight = Parameter(torch.empty(num_relations + dim_root, in_channels,
                                                out_channels))
            self.register_parameter("comp", None)
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        end = -1 if self.root_weight else None
        inits.glorot(self.weight[:end])
        inits.glorot(self.comp)
        if self.root_weight:
            inits.glorot(self.weight[-1])
        inits.zeros(self.bias)

    to_csc = staticmethod(to_csc)

    def forward(self, x: Tensor, edge_index: GraphInput, edge_type: Tensor,
                max_num_neighbors: Optional[int] = None) -> Tensor:
        edge_index, size = cugraph_graph("CuGraphRGCNConv", x, edge_index, max_num_neighbors)
        self._check(x, edge_index, edge_type)
        R, C_in = self.num_relations, self.in_channels
        out = self.propagate(edge_index, x=x, edge_type=edge_type, size=size)
        out = out.reshape(-1, R, C_in)  # [N_dst, R, in]: one aggregation per relation
        if self.comp is not None:
            out = torch.einsum("nri,rb->nbi", out, self.comp)
        out = out.reshape(out.shape[0], -1)
        if self.root_weight:
            out = torch.cat([out, x[:size[1]]], dim=-1)
        out = out @ self.weight.reshape(-1, self.out_channels)
        if self.bias is not None:
            out = out + self.bias
        return out

    def _check(self, x: Tensor, edge_index: Tensor, edge_type: Tensor) -> None:
        if is_tracing(x, edge_index, edge_type):
            return
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"CuGraphRGCNConv: 'x' must have shape [num_nodes, "
                             f"{self.in_channels}], got {list(x.shape)}")
        if edge_type.dim() != 1 or edge_type.numel() != edge_index.shape[1]:
            raise ValueError(f"CuGraphRGCNConv: 'edge_type' must have one entry per edge "
                             f"({edge_index.shape[1]}), got shape {list(edge_type.shape)}")
        if edge_type.numel() and (int(edge_type.min()) < 0
                                  or int(edge_type.max()) >= self.num_relations):
            raise IndexError(f"CuGraphRGCNConv: 'edge_type' must lie in [0, "
                             f"{self.num_relations}), got values in [{int(edge_type.min())}, "
                             f"{int(edge_type.max())}]")

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def aggregate(self, inputs: Tensor, index: Tensor, edge_type: Tensor,
                  dim_size: Optional[int]) -> Tensor:
        # one group per (target, relation): [N_dst * R, in], viewed as [N_dst, R * in]
        group = index * self.num_relations + edge_type
        num_groups = None if dim_size is None else dim_size * self.num_relations
        return scatter(inputs, group, 0, num_groups, self.reduce)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"num_relations={self.num_relations})")


__all__ = ["CuGraphRGCNConv"]
