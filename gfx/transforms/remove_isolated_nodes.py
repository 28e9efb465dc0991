"""Dropping nodes that no edge touches."""
from __future__ import annotations

from typing import Any

import torch

from .base_transform import BaseTransform


class RemoveIsolatedNodes(BaseTransform):
    """Remove the nodes that appear in no edge (a self-loop counts as an edge) and
    renumber the rest; node attributes lose the removed rows. Homogeneous graphs.
    """

    def forward(self, data: Any) -> Any:
        if data.edge_index is None:
            raise ValueError("RemoveIsolatedNodes: the graph has no 'edge_index'")
        n = int(data.num_nodes or 0)
        store = data._store
        node_keys = store.node_attrs()
        keep = torch.zeros(n, dtype=torch.bool, device=data.edge_index.device)
        keep[data.edge_index.reshape(-1)] = True
        new_id = torch.full((n,), -1, dtype=torch.long, device=keep.device)
        new_id[keep] = torch.arange(int(keep.sum()), device=keep.device)
        data.edge_index = new_id[data.edge_index].to(data.edge_index.dtype)
        rows = keep.nonzero().view(-1)
        for key in node_keys:
            value = data[key]
            data[key] = value.index_select(store._cat_dim(key, value), rows.to(value.device))
        if "num_nodes" in store:
            data.num_nodes = int(rows.numel())
        return data
