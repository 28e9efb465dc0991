"""Adding a virtual node linked to every node."""
from __future__ import annotations

from typing import Any

import torch

from .base_transform import BaseTransform


class VirtualNode(BaseTransform):
    """Append one node that every node sends an edge to and receives an edge from
    (Gilmer et al., 2017), giving every pair of nodes a path of length two.

    The new edges come after the original ones: first ``i -> v`` for every node ``i``,
    then ``v -> i``. ``edge_type`` marks them 1 and 2 (original edges 0); new edges get
    ``edge_weight`` 1 and zeros in the other edge attributes; node attributes get a zero
    row for the virtual node. Homogeneous graphs.
    """

    def forward(self, data: Any) -> Any:
        if data.edge_index is None:
            raise ValueError("VirtualNode: the graph has no 'edge_index'")
        store = data._store
        n = int(data.num_nodes)
        node_keys, edge_keys = store.node_attrs(), store.edge_attrs()
        edge_index = data.edge_index
        device = edge_index.device
        nodes = torch.arange(n, device=device, dtype=edge_index.dtype)
        virtual = torch.full_like(nodes, n)
        new_edges = torch.cat([torch.stack([nodes, virtual]), torch.stack([virtual, nodes])],
                              dim=1)
        num_old = edge_index.size(1)
        for key in edge_keys:
            if key == "edge_index":
                continue
            value = data[key]
            fill = value.new_ones if key == "edge_weight" else value.new_zeros
            data[key] = torch.cat([value, fill((2 * n,) + tuple(value.shape[1:]))], dim=0)
        data.edge_index = torch.cat([edge_index, new_edges], dim=1)
        edge_type = torch.cat([torch.zeros(num_old, dtype=torch.long, device=device),
                               torch.ones(n, dtype=torch.long, device=device),
                               torch.full((n,), 2, dtype=torch.long, device=device)])
        data.edge_type = edge_type
        for key in node_keys:
            value = data[key]
            data[key] = torch.cat([value, value.new_zeros((1,) + tuple(value.shape[1:]))])
        if "num_nodes" in store:
            data.num_nodes = n + 1
        return data
