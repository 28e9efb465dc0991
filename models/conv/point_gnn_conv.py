"""``PointGNNConv``: the Point-GNN operator (Shi and Rajkumar, CVPR 2020)."""
from __future__ import annotations

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.utils import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index


class PointGNNConv(MessagePassing):
    """The Point-GNN operator of "Point-GNN: Graph Neural Network for 3D Object Detection
    in a Point Cloud".

    .. math::
        \\Delta \\textrm{pos}_i = h_{\\mathbf{\\Theta}}(\\mathbf{x}_i),
        \\qquad
        \\mathbf{e}_{j,i} = f_{\\mathbf{\\Theta}}(\\textrm{pos}_j - \\textrm{pos}_i +
        \\Delta \\textrm{pos}_i, \\mathbf{x}_j),
        \\qquad
        \\mathbf{x}'_i = g_{\\mathbf{\\Theta}} \\left( \\max_{j \\in \\mathcal{N}(i)}
        \\mathbf{e}_{j,i} \\right) + \\mathbf{x}_i

    with :math:`h_{\\mathbf{\\Theta}}` (``mlp_h``, node features to a position offset),
    :math:`f_{\\mathbf{\\Theta}}` (``mlp_f``, on the concatenation
    :math:`[\\textrm{pos}_j - \\textrm{pos}_i + \\Delta \\textrm{pos}_i, \\mathbf{x}_j]`)
    and :math:`g_{\\mathbf{\\Theta}}` (``mlp_g``) networks; the aggregation is a maximum
    by default (0 for a node without incoming edges, before :math:`g`).

    Args:
        mlp_h (torch.nn.Module): maps ``[N, C]`` to ``[N, D]`` position offsets.
        mlp_f (torch.nn.Module): maps ``[E, D + C]`` to ``[E, C]``.
        mlp_g (torch.nn.Module): maps ``[N, C]`` to ``[N, C]``.
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (aggregation: ``"max"``).

    Shapes: ``x`` ``[N, C]``, ``pos`` ``[N, D]``, ``edge_index`` ``[2, E]`` -> ``[N, C]``.
    """

    def __init__(self, mlp_h: torch.nn.Module, mlp_f: torch.nn.Module,
                 mlp_g: torch.nn.Module, **kwargs):
        kwargs.setdefault("aggr", "max")
        super().__init__(**kwargs)
        self.mlp_h = mlp_h
        self.mlp_f = mlp_f
        self.mlp_g = mlp_g
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.reset(self.mlp_h)
        inits.reset(self.mlp_f)
        inits.reset(self.mlp_g)

    def forward(self, x: Tensor, pos: Tensor, edge_index: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or not isinstance(pos, Tensor):
            raise ValueError("PointGNNConv: 'x' and 'pos' must be tensors (the operator is "
                             "not bipartite: the output adds x_i)")
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        if not is_tracing(x, pos) and x.shape[0] != pos.shape[0]:
            raise ValueError(f"PointGNNConv: 'x' has {x.shape[0]} rows but 'pos' has "
                             f"{pos.shape[0]}")
        delta = self.mlp_h(x)
        out = self.propagate(edge_index, x=x, pos=pos, delta=delta)
        return self.mlp_g(out) + x

    def message(self, pos_j: Tensor, pos_i: Tensor, x_j: Tensor, delta_i: Tensor) -> Tensor:
        return self.mlp_f(torch.cat([pos_j - pos_i + delta_i, x_j], dim=-1))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(\n  mlp_h={self.mlp_h},\n  mlp_f={self.mlp_f},\n"
                f"  mlp_g={self.mlp_g},\n)")


__all__ = ["PointGNNConv"]
