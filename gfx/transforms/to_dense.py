"""Dense adjacency matrices for dense GNN layers (DiffPool, DenseGCN ...)."""
from __future__ import annotations

from typing import Any, Optional

import torch

from .base_transform import BaseTransform


class ToDense(BaseTransform):
    """Replace ``edge_index`` by a dense adjacency ``adj`` (``adj[u, v]`` = summed
    ``edge_attr`` of the edges ``u -> v``, ones without) and pad the nodes to
    ``num_nodes``.

    ``x``, ``pos`` and ``y`` get zero rows for the padding nodes when they have one row
    per node (so the label of a one-node graph is padded too, as in the reference);
    ``mask`` marks the real nodes; ``edge_index`` and ``edge_attr`` are removed.

    Args:
        num_nodes (int, optional): size to pad to; the graph's own node count when
            omitted. (default: ``None``)
    """

    def __init__(self, num_nodes: Optional[int] = None):
        self.num_nodes = num_nodes

    def forward(self, data: Any) -> Any:
        if data.edge_index is None:
            raise ValueError("ToDense: the graph has no 'edge_index'")
        orig = int(data.num_nodes)
        size = orig if self.num_nodes is None else int(self.num_nodes)
        if size < orig:
            raise ValueError(f"ToDense: 'num_nodes' ({size}) is smaller than the graph "
                             f"({orig} nodes)")
        edge_attr = data.edge_attr
        if edge_attr is None:
            edge_attr = torch.ones(data.edge_index.size(1), device=data.edge_index.device)
        shape = (size, size) + tuple(edge_attr.shape[1:])
        adj = edge_attr.new_zeros(shape)
        adj.index_put_((data.edge_index[0], data.edge_index[1]), edge_attr, accumulate=True)
        del data.edge_index
        if "edge_attr" in data:
            del data.edge_attr
        for key in ("x", "pos", "y"):
            value = data[key] if key in data else None
            if value is None or value.dim() == 0 or value.size(0) != orig:
                continue
            pad = value.new_zeros((size - orig,) + tuple(value.shape[1:]))
            data[key] = torch.cat([value, pad], dim=0)
        data.adj = adj
        mask = torch.zeros(size, dtype=torch.bool, device=adj.device)
        mask[:orig] = True
        data.mask = mask
        if "num_nodes" in data:
            del data["num_nodes"]
        return data

    def __repr__(self) -> str:
        if self.num_nodes is None:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(num_nodes={self.num_nodes})"
