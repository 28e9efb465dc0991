"""``ClusterGCNConv``: the layer of Cluster-GCN (Chiang et al., KDD 2019)."""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.dense.linear import Linear
from gfx.ops import scatter
from gfx.structure import memo
from gfx.utils import (add_self_loops as add_loops, is_torch_sparse_tensor, is_tracing,
                       remove_self_loops, adj_t_to_edge_index)


def _cluster_gcn_norm(edge_index: Tensor, num_nodes: int, diag_lambda: float,
                      add_self_loops: bool, flow: str,
                      dtype: torch.dtype) -> Tuple[Tensor, Tensor]:
    if add_self_loops:
        edge_index, _ = remove_self_loops(edge_index)
        edge_index, _ = add_loops(edge_index, num_nodes=num_nodes)
    row, col = edge_index[0], edge_index[1]
    target = col if flow == "source_to_target" else row
    ones = torch.ones(edge_index.shape[1], dtype=dtype, device=edge_index.device)
    deg = scatter(ones, target, 0, num_nodes, "sum")
    deg_inv = deg.reciprocal().masked_fill(deg == 0, 0.0)
    weight = deg_inv[target]
    weight = torch.where(row == col, weight * (1.0 + diag_lambda), weight)
    return edge_index, weight


def cluster_gcn_norm(edge_index: Tensor, num_nodes: int, diag_lambda: float = 0.0,
                     add_self_loops: bool = True, flow: str = "source_to_target",
                     dtype: torch.dtype = torch.float) -> Tuple[Tensor, Tensor]:
    """The propagation matrix :math:`\\hat{A} + \\lambda\\, \\mathrm{diag}(\\hat{A})` of
    Cluster-GCN as weighted edges, with :math:`\\hat{A} = D^{-1} A` row-normalised by the
    in-degree.

    With ``add_self_loops`` existing loops are replaced by one loop per node first, so
    :math:`\\hat{A} = (D + I)^{-1}(A + I)`; otherwise loops are kept as given and each
    loop's weight is scaled by :math:`1 + \\lambda`.  Computed once per ``edge_index``
    (structure cache).

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        num_nodes (int): number of nodes.
        diag_lambda (float, optional): :math:`\\lambda`. (default: ``0.0``)
        add_self_loops (bool, optional): replace loops by one per node. (default: ``True``)
        flow (str, optional): which row holds the targets. (default: ``"source_to_target"``)
        dtype (torch.dtype, optional): dtype of the weights. (default: ``torch.float``)
    """
    return memo(edge_index, "cluster_gcn_norm",
                (num_nodes, diag_lambda, add_self_loops, flow, dtype),
                lambda: _cluster_gcn_norm(edge_index, num_nodes, diag_lambda, add_self_loops,
                                          flow, dtype))


# Graph structure: one node in a captured graph, computed through the structure cache.
torch.fx.wrap("cluster_gcn_norm")


class ClusterGCNConv(MessagePassing):
    """The graph convolution of "Cluster-GCN: An Efficient Algorithm for Training Deep and
    Large Graph Convolutional Networks".

    .. math::
        \\mathbf{X}' = \\left(\\hat{\\mathbf{A}} + \\lambda \\cdot
        \\mathrm{diag}(\\hat{\\mathbf{A}})\\right) \\mathbf{X} \\mathbf{W}_1 +
        \\mathbf{b} + \\mathbf{X} \\mathbf{W}_2, \\qquad
        \\hat{\\mathbf{A}} = (\\mathbf{D} + \\mathbf{I})^{-1}(\\mathbf{A} + \\mathbf{I})

    with :math:`A_{ij} = 1` for each edge :math:`j \\to i` (duplicates add up, input
    self-loops are replaced by the added ones) and :math:`D_{ii} = \\sum_j A_{ij}`.
    :math:`\\mathbf{W}_1, \\mathbf{b}` are ``lin_out`` and :math:`\\mathbf{W}_2` is
    ``lin_root``.  With ``add_self_loops=False``, :math:`\\hat{\\mathbf{A}} =
    \\mathbf{D}^{-1}\\mathbf{A}` with the loops of the input (a node without edges gets
    nothing); the reference library fails there unless every node has exactly one loop,
    where the two agree.

    Args:
        in_channels (int): input features per node, or ``-1`` (lazy).
        out_channels (int): output features per node.
        diag_lambda (float, optional): diagonal enhancement :math:`\\lambda`.
            (default: ``0.0``)
        add_self_loops (bool, optional): add self-loops. (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a sparse ``adj_t``
    (its values are ignored) -> ``[N, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, diag_lambda: float = 0.0,
                 add_self_loops: bool = True, bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.diag_lambda = diag_lambda
        self.add_self_loops = add_self_loops
        self.lin_out = Linear(in_channels, out_channels, bias=bias,
                              weight_initializer="glorot")
        self.lin_root = Linear(in_channels, out_channels, bias=False,
                               weight_initializer="glorot")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin_out.reset_parameters()
        self.lin_root.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if isinstance(x, (tuple, list)):
            raise ValueError("ClusterGCNConv does not support bipartite (source, target) "
                             "inputs")
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        if not is_tracing(x) and self.in_channels > 0 and x.shape[-1] != self.in_channels:
            raise ValueError(f"ClusterGCNConv: 'x' must have in_channels={self.in_channels} "
                             f"features in its last dimension, got shape {list(x.shape)}")
        edge_index, edge_weight = cluster_gcn_norm(edge_index, x.shape[self.node_dim],
                                                   self.diag_lambda, self.add_self_loops,
                                                   self.flow, x.dtype)
        out = self.propagate(edge_index, x=x, edge_weight=edge_weight)
        return self.lin_out(out) + self.lin_root(x)

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"diag_lambda={self.diag_lambda})")


__all__ = ["ClusterGCNConv"]
