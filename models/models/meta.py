"""``MetaLayer``: a graph-network block of edge, node and global updates
(Battaglia et al., 2018)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from gfx.nn import inits


class MetaLayer(torch.nn.Module):
    """A graph-network block from "Relational Inductive Biases, Deep Learning, and Graph
    Networks": the edge, node and global features are updated in turn,

    .. math::
        \\mathbf{e}'_{ji} = \\phi^e(\\mathbf{x}_j, \\mathbf{x}_i, \\mathbf{e}_{ji},
        \\mathbf{u}, b_{ji}), \\quad
        \\mathbf{X}' = \\phi^x(\\mathbf{X}, \\mathcal{E}, \\mathbf{E}', \\mathbf{u},
        \\mathbf{b}), \\quad
        \\mathbf{u}' = \\phi^u(\\mathbf{X}', \\mathcal{E}, \\mathbf{E}', \\mathbf{u},
        \\mathbf{b})

    for an edge :math:`j \\to i` (``edge_index[0] = j``, ``edge_index[1] = i``); the
    edge model receives the batch vector of the sources.  A model that is ``None`` leaves
    its features unchanged.

    Args:
        edge_model (torch.nn.Module, optional): called as
            ``edge_model(src, dst, edge_attr, u, batch)``. (default: ``None``)
        node_model (torch.nn.Module, optional): called as
            ``node_model(x, edge_index, edge_attr, u, batch)``. (default: ``None``)
        global_model (torch.nn.Module, optional): called as
            ``global_model(x, edge_index, edge_attr, u, batch)``. (default: ``None``)
    """

    def __init__(self, edge_model: Optional[torch.nn.Module] = None,
                 node_model: Optional[torch.nn.Module] = None,
                 global_model: Optional[torch.nn.Module] = None):
        super().__init__()
        self.edge_model = edge_model
        self.node_model = node_model
        self.global_model = global_model
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset the three models (those that are given)."""
        for model in (self.node_model, self.edge_model, self.global_model):
            inits.reset(model)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                u: Optional[Tensor] = None, batch: Optional[Tensor] = None
                ) -> Tuple[Tensor, Optional[Tensor], Optional[Tensor]]:
        """``(x, edge_attr, u)`` after the edge, node and global updates."""
        if edge_index.dim() != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"MetaLayer: 'edge_index' must have shape [2, E], got "
                             f"{list(edge_index.shape)}")
        if self.edge_model is not None:
            src, dst = edge_index[0], edge_index[1]
            edge_attr = self.edge_model(x[src], x[dst], edge_attr, u,
                                        batch if batch is None else batch[src])
        if self.node_model is not None:
            x = self.node_model(x, edge_index, edge_attr, u, batch)
        if self.global_model is not None:
            u = self.global_model(x, edge_index, edge_attr, u, batch)
        return x, edge_attr, u

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(\n"
                f"  edge_model={self.edge_model},\n"
                f"  node_model={self.node_model},\n"
                f"  global_model={self.global_model}\n)")


__all__ = ["MetaLayer"]
