"""Flattening a :class:`HeteroData` into one homogeneous :class:`Data` and back.

# NOTE [homogeneous layout]
Node types are laid out one after another in ``node_types`` order: type ``t`` occupies
the ids ``offset[t] .. offset[t] + N_t - 1``. ``node_type[v]`` is the position of v's type
in ``node_types``; edge types are concatenated in ``edge_types`` order, each
``edge_index`` shifted by the offsets of its source and target types, and
``edge_type[e]`` is the position of e's type in ``edge_types``. The type names are kept on
the result (``data._node_type_names``, ``data._edge_type_names``) so that
:meth:`Data.to_heterogeneous` can undo the flattening.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor


def _common_keys(stores, keys: Optional[Sequence[str]], dummy_values: bool, kind: str
                 ) -> List[str]:
    if keys is not None:
        return list(keys)
    per_store = [[k for k in store.keys() if getattr(store, f"is_{kind}_attr")(k)
                  and k != "edge_index"] for store in stores]
    if not per_store:
        return []
    ordered = list(dict.fromkeys(k for names in per_store for k in names))
    if dummy_values:
        return ordered
    return [k for k in ordered if all(k in names for names in per_store)]


def _concat(stores, key: str, counts: List[int], what: str) -> Optional[Tensor]:
    """Concatenate ``key`` over ``stores``; stores without it get zeros (``dummy_values``)."""
    present = [store[key] for store in stores if key in store]
    template = present[0]
    shapes = {tuple(v.shape[1:]) for v in present}
    if len(shapes) > 1:
        raise ValueError(f"HeteroData.to_homogeneous: {what} attribute {key!r} has different "
                         f"feature shapes across types {sorted(shapes)}; pass "
                         f"'{what}_attrs' without it")
    parts = [store[key] if key in store else
             template.new_zeros((count,) + tuple(template.shape[1:]))
             for store, count in zip(stores, counts)]
    return torch.cat(parts, dim=0)


def to_homogeneous(data, node_attrs: Optional[Sequence[str]] = None,
                   edge_attrs: Optional[Sequence[str]] = None, add_node_type: bool = True,
                   add_edge_type: bool = True, dummy_values: bool = True):
    """The :class:`~gfx.data.Data` laid out as in NOTE [homogeneous layout].

    Args:
        data (HeteroData): the heterogeneous graph.
        node_attrs (list of str, optional): node attributes to concatenate; by default
            every node-level attribute (with ``dummy_values``) or those all node types
            have. (default: ``None``)
        edge_attrs (list of str, optional): the same for edge attributes.
            (default: ``None``)
        add_node_type (bool, optional): add ``node_type``. (default: ``True``)
        add_edge_type (bool, optional): add ``edge_type``. (default: ``True``)
        dummy_values (bool, optional): fill an attribute missing from some types with
            zeros instead of leaving it out. (default: ``True``)
    """
    from .data import Data
    node_types, edge_types = data.node_types, data.edge_types
    node_stores = [data[t] for t in node_types]
    counts = []
    for node_type, store in zip(node_types, node_stores):
        if store.num_nodes is None:
            raise ValueError(f"HeteroData.to_homogeneous: node type {node_type!r} has no "
                             f"known node count; give it 'x' or 'num_nodes'")
        counts.append(int(store.num_nodes))
    offsets = dict(zip(node_types, torch.tensor([0] + counts).cumsum(0).tolist()))
    out = Data()
    edge_stores = [data[t] for t in edge_types]
    edge_counts = [store.num_edges for store in edge_stores]
    parts = []
    for (src, _, dst), store in zip(edge_types, edge_stores):
        if "edge_index" not in store:
            raise ValueError(f"HeteroData.to_homogeneous: edge type {store.edge_type} has no "
                             f"'edge_index'")
        shift = torch.tensor([[offsets[src]], [offsets[dst]]], device=store.edge_index.device)
        parts.append(store.edge_index + shift)
    out.edge_index = (torch.cat(parts, dim=1) if parts
                      else torch.zeros(2, 0, dtype=torch.long))
    for key in _common_keys(node_stores, node_attrs, dummy_values, "node"):
        out[key] = _concat(node_stores, key, counts, "node")
    for key in _common_keys(edge_stores, edge_attrs, dummy_values, "edge"):
        out[key] = _concat(edge_stores, key, edge_counts, "edge")
    for key, value in data._global_store.items():
        out[key] = value
    if add_node_type:
        out.node_type = torch.arange(len(node_types)).repeat_interleave(torch.tensor(
            counts, dtype=torch.long))
    if add_edge_type:
        out.edge_type = torch.arange(len(edge_types)).repeat_interleave(torch.tensor(
            edge_counts, dtype=torch.long))
    if "x" not in out and "pos" not in out:
        out.num_nodes = sum(counts)
    object.__setattr__(out, "_node_type_names", list(node_types))
    object.__setattr__(out, "_edge_type_names", list(edge_types))
    return out


def to_heterogeneous(data, node_type: Optional[Tensor] = None,
                     edge_type: Optional[Tensor] = None,
                     node_type_names: Optional[List[str]] = None,
                     edge_type_names: Optional[List[tuple]] = None):
    """Split a homogeneous graph into a :class:`~gfx.data.HeteroData` by node/edge type.

    Node attributes are split by ``node_type``, edge attributes by ``edge_type``, and
    ``edge_index`` renumbered within each type. Names default to those recorded by
    :func:`to_homogeneous`, else ``"0"``, ``"1"`` ... and ``(src, "to", dst)``.

    Args:
        data (Data): the homogeneous graph.
        node_type (Tensor, optional): type id per node; ``data.node_type`` when omitted
            (all zero without it). (default: ``None``)
        edge_type (Tensor, optional): type id per edge; ``data.edge_type`` when omitted.
            (default: ``None``)
        node_type_names (list of str, optional): names of the node types.
            (default: ``None``)
        edge_type_names (list of tuple, optional): names of the edge types.
            (default: ``None``)
    """
    from .hetero_data import HeteroData
    num_nodes = data.num_nodes or 0
    edge_index = data.edge_index
    if node_type is None:
        node_type = data.node_type if "node_type" in data else torch.zeros(num_nodes,
                                                                           dtype=torch.long)
    if edge_type is None:
        edge_type = data.edge_type if "edge_type" in data else torch.zeros(
            edge_index.size(1), dtype=torch.long)
    node_type_names = node_type_names or getattr(data, "__dict__", {}).get(
        "_node_type_names") or [str(i) for i in range(int(node_type.max()) + 1
                                                    if node_type.numel() else 0)]
    local = torch.empty_like(node_type)
    for t in range(len(node_type_names)):
        mask = node_type == t
        local[mask] = torch.arange(int(mask.sum()))
    if edge_type_names is None:
        edge_type_names = getattr(data, "__dict__", {}).get("_edge_type_names")
    if edge_type_names is None:
        edge_type_names = []
        for t in range(int(edge_type.max()) + 1 if edge_type.numel() else 0):
            first = (edge_type == t).nonzero().view(-1)[0]
            src, dst = edge_index[:, first].tolist()
            edge_type_names.append((node_type_names[int(node_type[src])], "to",
                                    node_type_names[int(node_type[dst])]))
    out = HeteroData()
    node_keys = [k for k in data.node_attrs() if k != "node_type"]
    edge_keys = [k for k in data.edge_attrs() if k not in ("edge_index", "edge_type")]
    for t, name in enumerate(node_type_names):
        mask = node_type == t
        out[name].num_nodes = int(mask.sum())
        for key in node_keys:
            out[name][key] = data[key][mask]
    for t, name in enumerate(edge_type_names):
        mask = edge_type == t
        out[tuple(name)].edge_index = local[edge_index[:, mask]]
        for key in edge_keys:
            out[tuple(name)][key] = data[key][mask]
    for key, value in data.to_dict().items():
        if key not in node_keys + edge_keys + ["edge_index", "node_type", "edge_type",
                                                "num_nodes"]:
            out[key] = value
    for name in node_type_names:
        if "x" in out[name]:
            del out[name]["num_nodes"]
    return out


def hetero_to_dict(data) -> Dict:
    """``{global key: value, node type: {...}, edge type: {...}}`` (shallow)."""
    out = dict(data._global_store.to_dict())
    for type_key, store in (*data.node_items(), *data.edge_items()):
        out[type_key] = store.to_dict()
    return out
