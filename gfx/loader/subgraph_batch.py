"""Cutting the induced subgraph on a node set out of a homogeneous graph."""
from __future__ import annotations

import copy
from typing import Tuple

import torch
from torch import Tensor

from gfx.data.data import Data


def induced_edges(edge_index: Tensor, nodes: Tensor, num_nodes: int
                  ) -> Tuple[Tensor, Tensor]:
    """``(local edge_index, e_id)`` of the edges whose two ends are in ``nodes``; local ids
    follow the order of ``nodes`` (which must be distinct)."""
    device = edge_index.device
    nodes = nodes.to(device)
    local = torch.full((num_nodes,), -1, dtype=torch.long, device=device)
    local[nodes] = torch.arange(nodes.numel(), device=device)
    row, col = local[edge_index[0]], local[edge_index[1]]
    e_id = ((row >= 0) & (col >= 0)).nonzero().view(-1)
    return torch.stack([row[e_id], col[e_id]]), e_id


def node_induced_graph(data: Data, nodes: Tensor) -> Tuple[Data, Tensor]:
    """The subgraph on ``nodes`` with every node and edge attribute cut to it, and the
    ids of its edges in ``data``."""
    store = data._store
    edge_index, e_id = induced_edges(data.edge_index, nodes, data.num_nodes)
    out = copy.copy(data)
    for key in list(out.keys()):
        value = store[key]
        if store.is_node_attr(key):
            out[key] = value.index_select(store._cat_dim(key, value), nodes.to(value.device))
        elif key != "edge_index" and store.is_edge_attr(key):
            out[key] = value.index_select(store._cat_dim(key, value), e_id.to(value.device))
    out.edge_index = edge_index
    if "num_nodes" in store:
        out.num_nodes = int(nodes.numel())
    return out, e_id
