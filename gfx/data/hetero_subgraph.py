"""Subgraphs of a :class:`HeteroData`: by node subsets, by node types, by edge types."""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Sequence, Tuple

import torch
from torch import Tensor

EdgeType = Tuple[str, str, str]


def _rows(subset: Tensor, num_nodes: int, node_type: str) -> Tensor:
    subset = torch.as_tensor(subset)
    if subset.dtype == torch.bool:
        if subset.numel() != num_nodes:
            raise ValueError(f"HeteroData.subgraph: the bool subset of {node_type!r} has "
                             f"{subset.numel()} entries for {num_nodes} nodes")
        return subset.nonzero().view(-1)
    return subset.long().view(-1)


def subgraph(data, subset_dict: Dict[str, Tensor]):
    """The subgraph with, for each node type in ``subset_dict``, only the given nodes (ids
    in the order given, or a bool mask); other node types are kept whole. Edges keep
    both ends inside, renumbered; node and edge attributes are cut alike."""
    out = copy.copy(data)
    new_ids: Dict[str, Tensor] = {}
    for node_type, subset in subset_dict.items():
        if node_type not in data.node_types:
            raise ValueError(f"HeteroData.subgraph: {node_type!r} is not a node type "
                             f"({data.node_types})")
        store = data[node_type]
        n = int(store.num_nodes or 0)
        rows = _rows(subset, n, node_type)
        for key in store.keys():
            if store.is_node_attr(key):
                value = store[key]
                out[node_type][key] = value.index_select(store._cat_dim(key, value), rows)
        if "num_nodes" in store:
            out[node_type].num_nodes = int(rows.numel())
        new_id = torch.full((n,), -1, dtype=torch.long)
        new_id[rows] = torch.arange(rows.numel())
        new_ids[node_type] = new_id
    for edge_type in data.edge_types:
        src, _, dst = edge_type
        store = data[edge_type]
        if "edge_index" not in store or (src not in new_ids and dst not in new_ids):
            continue
        edge_index = store.edge_index
        row = new_ids[src][edge_index[0]] if src in new_ids else edge_index[0]
        col = new_ids[dst][edge_index[1]] if dst in new_ids else edge_index[1]
        keep = ((row >= 0) & (col >= 0)).nonzero().view(-1)
        for key in store.keys():
            if key != "edge_index" and store.is_edge_attr(key):
                value = store[key]
                out[edge_type][key] = value.index_select(store._cat_dim(key, value), keep)
        out[edge_type].edge_index = torch.stack([row[keep], col[keep]]).to(edge_index.dtype)
    return out


def node_type_subgraph(data, node_types: Sequence[str]):
    """Only the given node types and the edge types between them."""
    keep = set(node_types)
    out = copy.copy(data)
    for node_type in data.node_types:
        if node_type not in keep:
            del out._node_store_dict[node_type]
    for edge_type in data.edge_types:
        if edge_type[0] not in keep or edge_type[-1] not in keep:
            del out._edge_store_dict[edge_type]
    return out


def edge_type_subgraph(data, edge_types: Sequence[Any]):
    """Only the given edge types (full triples or unique relation names) and the node
    types they touch."""
    wanted: List[EdgeType] = [data._resolve(t) if not (isinstance(t, tuple) and len(t) == 3)
                              else tuple(t) for t in edge_types]
    out = copy.copy(data)
    for edge_type in data.edge_types:
        if edge_type not in wanted:
            del out._edge_store_dict[edge_type]
    touched = {t for edge_type in wanted for t in (edge_type[0], edge_type[-1])}
    for node_type in data.node_types:
        if node_type not in touched:
            del out._node_store_dict[node_type]
    return out
