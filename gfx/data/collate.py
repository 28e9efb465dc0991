"""Concatenating the attributes of many graphs into one batch, and cutting them apart.

# NOTE [batch layout]
Every attribute of every store is batched on its own, by the graph's answers to
``__cat_dim__`` and ``__inc__``:

* tensors are concatenated along the concatenation dimension (stacked along a new
  leading dimension when it is ``None`` or the tensor is 0-dimensional; sparse ``adj``
  tensors form a block diagonal); graph ``i`` is shifted by the sum of the increments of
  graphs ``0..i-1`` first, so index tensors point into the batched node list;
* Python numbers become one tensor with an entry per graph; anything else a list;
* ``num_nodes`` becomes the total.

For each attribute a :class:`KeyMeta` records how to undo this: the kind, the
dimension, the cumulative sizes (``slices``, length ``num_graphs + 1``) and the
increments that were added (``incs``).  :func:`separate` reads it to rebuild graph ``i``.
"""
from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Sequence

import torch
from torch import Tensor

from .data import Data
from .hetero_data import HeteroData
from .storage import Storage

NUMBER_TYPES = (bool, int, float)


class KeyMeta(NamedTuple):
    """How one attribute was batched (see NOTE [batch layout])."""
    kind: str  # "cat", "stack", "block", "number", "list" or "num_nodes"
    cat_dim: Any
    slices: Tensor
    incs: Optional[Tensor]


def store_keys(data) -> List[Any]:
    """Keys of the stores of a graph: ``None`` for the global store, then the types."""
    if isinstance(data, HeteroData):
        return [None, *data.node_types, *data.edge_types]
    return [None]


def get_store(data, key: Any) -> Storage:
    """The store named by :func:`store_keys`, created for a type that is not there yet."""
    if key is None:
        return data._global_store if isinstance(data, HeteroData) else data._store
    return data.get_type_store(key)


def exclusive_cumsum(sizes: Sequence[int]) -> Tensor:
    """``[0, s0, s0 + s1, ...]``: offsets of consecutive blocks of the given sizes."""
    sizes = torch.as_tensor(list(sizes), dtype=torch.long)
    return torch.cat([sizes.new_zeros(1), torch.cumsum(sizes, 0)])


def collate(batch, data_list: List[Any], follow_batch: Sequence[str] = (),
            exclude_keys: Sequence[str] = ()) -> Dict[Any, Dict[str, KeyMeta]]:
    """Fill the empty graph ``batch`` with the batched attributes of ``data_list``.

    Adds ``batch`` and ``ptr`` to every node store whose node counts are known (none
    is added when no graph can tell its count, e.g. a pair of graphs stored as
    ``x_s``/``x_t``), ``{key}_batch``/``{key}_ptr`` for the keys in ``follow_batch``,
    and returns the per-store :class:`KeyMeta` tables.
    """
    first = data_list[0]
    expected = store_keys(first)
    for i, data in enumerate(data_list[1:], 1):
        found = store_keys(data)
        if found != expected:
            raise ValueError(
                f"Batch.from_data_list: data_list[{i}] has node/edge types {found[1:]}, "
                f"but data_list[0] has {expected[1:]}; all graphs need the same types")
    device = _first_device(first)
    meta: Dict[Any, Dict[str, KeyMeta]] = {}
    for key in expected:
        stores = [get_store(data, key) for data in data_list]
        out_store = get_store(batch, key)
        meta[key] = _collate_store(key, stores, data_list, out_store, exclude_keys)
        for name in follow_batch:
            if name in meta[key] and meta[key][name].kind in ("cat", "stack"):
                sizes = torch.diff(meta[key][name].slices)
                out_store[f"{name}_batch"] = _repeat_graph_ids(sizes, device)
                out_store[f"{name}_ptr"] = meta[key][name].slices.to(device)
    for key in expected:
        if isinstance(first, Data) or isinstance(key, str):
            counts = _node_counts(data_list, key)
            if counts is None:
                continue
            out_store = get_store(batch, key)
            out_store["batch"] = _repeat_graph_ids(torch.tensor(counts), device)
            out_store["ptr"] = exclusive_cumsum(counts).to(device)
    return meta


def _first_device(data) -> torch.device:
    for store in data.stores:
        for value in store.values():
            if isinstance(value, Tensor):
                return value.device
    return torch.device("cpu")


def _repeat_graph_ids(sizes: Tensor, device: torch.device) -> Tensor:
    sizes = sizes.to(torch.long)
    return torch.repeat_interleave(torch.arange(sizes.numel()), sizes).to(device)


def _node_counts(data_list: List[Any], key: Any) -> Optional[List[int]]:
    """Node count of every graph (of node type ``key``); ``None`` if no graph tells."""
    counts = [data.num_nodes if key is None else data.get_type_store(key).num_nodes
              for data in data_list]
    if all(count is None for count in counts):
        return None
    for position, count in enumerate(counts):
        if count is None:
            where = "" if key is None else f" (node type {key!r})"
            raise ValueError(f"Batch.from_data_list: cannot tell the node count of "
                             f"data_list[{position}]{where}; give it 'x' or set 'num_nodes'")
    return [int(count) for count in counts]


def _collate_store(store_key: Any, stores: List[Storage], data_list: List[Any],
                   out_store: Storage, exclude_keys: Sequence[str]) -> Dict[str, KeyMeta]:
    names = [k for k in stores[0].keys() if k not in exclude_keys]
    where = "" if store_key is None else f" of type {store_key!r}"
    for i, store in enumerate(stores[1:], 1):
        other = [k for k in store.keys() if k not in exclude_keys]
        if set(other) != set(names):
            diff = sorted(set(other) ^ set(names))
            raise ValueError(f"Batch.from_data_list: data_list[{i}] and data_list[0] differ "
                             f"in attributes {diff}{where}; all graphs need the same keys")
    meta = {}
    for name in names:
        values = [store[name] for store in stores]
        try:
            out_store[name], meta[name] = _collate_values(name, values, stores, data_list)
        except (RuntimeError, TypeError) as error:
            raise ValueError(f"Batch.from_data_list: cannot batch attribute "
                             f"'{name}'{where}: {error}") from error
    return meta


def _collate_values(key: str, values: List[Any], stores: List[Storage], data_list: List[Any]):
    count = len(values)
    elem = values[0]
    if key == "num_nodes":
        counts = [int(v) for v in values]
        return sum(counts), KeyMeta("num_nodes", None, exclusive_cumsum(counts), None)
    if isinstance(elem, Tensor):
        if not all(isinstance(v, Tensor) for v in values):
            raise TypeError("some graphs hold a tensor and others do not")
        cat_dim = data_list[0].__cat_dim__(key, elem, stores[0])
        incs = _cumulative_increments(key, values, stores, data_list)
        if incs is not None:
            values = [v + inc.to(v.device, v.dtype) for v, inc in zip(values, incs)]
        if isinstance(cat_dim, tuple):
            return _cat_block_diagonal(values, incs)
        if cat_dim is None or elem.dim() == 0:
            slices = torch.arange(count + 1)
            return torch.stack(values, 0), KeyMeta("stack", None, slices, incs)
        dim = cat_dim % elem.dim()
        slices = exclusive_cumsum(v.size(dim) for v in values)
        return torch.cat(values, dim), KeyMeta("cat", dim, slices, incs)
    if isinstance(elem, NUMBER_TYPES) and all(isinstance(v, NUMBER_TYPES) for v in values):
        return torch.tensor(values), KeyMeta("number", None, torch.arange(count + 1), None)
    return list(values), KeyMeta("list", None, torch.arange(count + 1), None)


def _cumulative_increments(key: str, values: List[Tensor], stores: List[Storage],
                           data_list: List[Any]) -> Optional[Tensor]:
    """Offset of each graph's value: the sum of the ``__inc__`` of the graphs before it."""
    incs = [torch.as_tensor(data.__inc__(key, value, store))
            for data, value, store in zip(data_list, values, stores)]
    if all(inc.numel() == 1 and int(inc) == 0 for inc in incs):
        return None
    incs = torch.stack([inc.to(torch.long) for inc in incs])
    return torch.cumsum(incs, 0) - incs


def _cat_block_diagonal(values: List[Tensor], incs: Optional[Tensor]):
    """Place sparse matrices on the diagonal of one sparse matrix."""
    values = [v.coalesce() for v in values]
    sizes = torch.tensor([[v.size(0), v.size(1)] for v in values])
    offsets = torch.cat([sizes.new_zeros(1, 2), torch.cumsum(sizes, 0)])
    indices = torch.cat([v.indices() + offsets[i].view(2, 1).to(v.device)
                         for i, v in enumerate(values)], dim=1)
    entries = torch.cat([v.values() for v in values])
    shape = (int(offsets[-1, 0]), int(offsets[-1, 1]), *values[0].shape[2:])
    out = torch.sparse_coo_tensor(indices, entries, shape, check_invariants=True).coalesce()
    return out, KeyMeta("block", (0, 1), offsets, incs)


def separate(meta: KeyMeta, value: Any, idx: int) -> Any:
    """Graph ``idx``'s part of a batched attribute (the inverse of the batching)."""
    start, end = meta.slices[idx].tolist(), meta.slices[idx + 1].tolist()
    if meta.kind == "num_nodes":
        return end - start
    if meta.kind == "number":
        return value[idx].item()
    if meta.kind == "list":
        return value[idx]
    if meta.kind == "block":
        indices = value.indices()
        keep = ((indices[0] >= start[0]) & (indices[0] < end[0])
                & (indices[1] >= start[1]) & (indices[1] < end[1]))
        shift = torch.tensor(start, device=indices.device).view(2, 1)
        shape = (end[0] - start[0], end[1] - start[1], *value.shape[2:])
        piece = torch.sparse_coo_tensor(indices[:, keep] - shift, value.values()[keep], shape,
                                        check_invariants=True)
        piece = piece.coalesce()
    elif meta.kind == "stack":
        piece = value[idx]
    else:
        piece = value.narrow(meta.cat_dim, start, end - start)
    if meta.incs is not None and meta.kind != "block":
        piece = piece - meta.incs[idx].to(piece.device, piece.dtype)
    return piece
