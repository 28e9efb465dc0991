"""Attribute containers shared by :class:`~gfx.data.Data` and :class:`~gfx.data.HeteroData`.

A storage is a small mapping from attribute names to values (tensors, numbers, strings,
lists ...) that can be read and written both as attributes (``store.x``) and as items
(``store["x"]``).  Assigning ``None`` removes an attribute.  :class:`NodeStorage` and
:class:`EdgeStorage` add the node and edge counts of one node or edge type of a
heterogeneous graph.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import torch
from torch import Tensor

# Keys whose first dimension counts nodes, in the order used to infer ``num_nodes``.
NODE_KEYS = ("x", "pos", "batch", "node_type", "n_id")

INDEX_DTYPES = (torch.int64, torch.int32)


def apply_to_tensors(value: Any, func: Callable[[Tensor], Tensor]) -> Any:
    """Apply ``func`` to every tensor in ``value``, descending into lists, tuples and dicts."""
    if isinstance(value, Tensor):
        return func(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # namedtuple
        return type(value)(*(apply_to_tensors(v, func) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(apply_to_tensors(v, func) for v in value)
    if isinstance(value, dict):
        return {k: apply_to_tensors(v, func) for k, v in value.items()}
    return value


def size_repr(key: str, value: Any) -> str:
    """Render one attribute the way container reprs show it: shapes for tensors."""
    if isinstance(value, Tensor):
        if value.dim() == 0:
            out = str(value.item())
        else:
            out = str(list(value.shape))
    elif isinstance(value, str):
        out = repr(value)
    elif isinstance(value, (list, tuple)):
        out = str([len(value)])
    elif isinstance(value, dict):
        out = "{" + ", ".join(size_repr(str(k), v) for k, v in value.items()) + "}"
    else:
        out = str(value)
    return f"{key}={out}"


def max_index_plus_one(index: Tensor, row: int) -> int:
    """``index[row].max() + 1`` for an edge index, or 0 when it holds no edges."""
    if index.numel() == 0:
        return 0
    return int(index[row].max()) + 1


class Storage:
    """A mapping of named attributes, reachable as ``store.key`` and ``store["key"]``.

    Assigning ``None`` to an attribute deletes it, so ``keys()`` only lists attributes
    that hold a value.  Names starting with ``_`` are ordinary Python attributes of the
    container itself and never stored.

    Args:
        key (str or tuple, optional): the node or edge type this store belongs to, or
            ``None`` for the store of a homogeneous graph. (default: :obj:`None`)
        parent (optional): the graph that owns this store. (default: :obj:`None`)
        **kwargs: initial attributes.
    """

    def __init__(self, key=None, parent=None, **kwargs):
        object.__setattr__(self, "_mapping", {})
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_parent", parent)
        for name, value in kwargs.items():
            self[name] = value

    # -- attribute and item access -------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        mapping = self.__dict__.get("_mapping")
        if mapping is not None and name in mapping:
            return mapping[name]
        raise AttributeError(
            f"{self._describe()} has no attribute '{name}' "
            f"(it has: {sorted(mapping) if mapping else 'nothing'})")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            del self[name]

    def __getitem__(self, key: str) -> Any:
        try:
            return self._mapping[key]
        except KeyError:
            raise KeyError(f"{self._describe()} has no attribute '{key}' "
                           f"(it has: {sorted(self._mapping) or 'nothing'})") from None

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"attribute names must be strings, got {type(key).__name__}")
        if key.startswith("_"):
            raise KeyError(f"attribute name '{key}' must not start with '_'")
        if value is None:
            self._mapping.pop(key, None)
        else:
            self._mapping[key] = value

    def __delitem__(self, key: str) -> None:
        self._mapping.pop(key, None)

    def __contains__(self, key: str) -> bool:
        return key in self._mapping

    def __len__(self) -> int:
        return len(self._mapping)

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping)

    def keys(self) -> List[str]:
        """The names of the attributes that hold a value."""
        return list(self._mapping.keys())

    def values(self, *keys: str) -> List[Any]:
        """The values (of ``keys`` if given, those present)."""
        return [value for _, value in self.items(*keys)]

    def items(self, *keys: str) -> List[Tuple[str, Any]]:
        """``(key, value)`` pairs (of ``keys`` if given, those present)."""
        if not keys:
            return list(self._mapping.items())
        return [(key, self._mapping[key]) for key in keys if key in self._mapping]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` when absent."""
        return self._mapping.get(key, default)

    def to_dict(self) -> Dict[str, Any]:
        """A shallow ``dict`` copy of the attributes."""
        return dict(self._mapping)

    # -- copying and tensor maps ---------------------------------------------------------
    def __copy__(self) -> "Storage":
        out = type(self).__new__(type(self))
        out.__dict__.update(self.__dict__)
        object.__setattr__(out, "_mapping", dict(self._mapping))
        return out

    def apply(self, func: Callable[[Tensor], Tensor], *keys: str) -> "Storage":
        """Replace every tensor (of ``keys`` if given, else of all attributes) by ``func(t)``."""
        for key in keys or list(self._mapping):
            if key in self._mapping:
                self._mapping[key] = apply_to_tensors(self._mapping[key], func)
        return self

    # -- node count ----------------------------------------------------------------------
    def _infer_num_nodes(self) -> Optional[int]:
        """Node count from an explicit ``num_nodes`` or a node-level tensor, else ``None``."""
        mapping = self._mapping
        if "num_nodes" in mapping:
            return int(mapping["num_nodes"])
        for key in NODE_KEYS:
            value = mapping.get(key)
            if isinstance(value, Tensor) and value.dim() > 0:
                return value.size(0)
        for key, value in mapping.items():
            if "adj" in key and isinstance(value, Tensor) and value.dim() >= 2:
                return value.size(0)
        return None

    # -- what an attribute describes -----------------------------------------------------
    @property
    def num_nodes(self) -> Optional[int]:
        """Node count of the graph this store belongs to (``None`` when unknown)."""
        parent = self._parent
        if parent is not None and not isinstance(self, (NodeStorage, EdgeStorage)):
            return parent.num_nodes
        return self._infer_num_nodes()

    @num_nodes.setter
    def num_nodes(self, value: Optional[int]) -> None:
        self["num_nodes"] = None if value is None else int(value)

    @property
    def num_edges(self) -> int:
        """Columns of ``edge_index``, else rows of ``edge_attr``, else 0."""
        return edge_count(self._mapping)

    def _cat_dim(self, key: str, value: Tensor) -> Optional[int]:
        parent = self._parent
        dim = parent.__cat_dim__(key, value, self) if parent is not None else 0
        if not isinstance(dim, int):
            return None
        return dim + value.dim() if dim < 0 else dim

    def is_node_attr(self, key: str) -> bool:
        """Whether ``key`` holds one entry per node along its concatenation dimension.

        Names containing ``"edge"`` never do; when a tensor is as long as both the node
        and the edge count, it counts as a node attribute.
        """
        value = self._mapping.get(key)
        if not isinstance(value, Tensor) or value.dim() == 0 or "edge" in key \
                or "index" in key or key == "face":
            return False
        dim = self._cat_dim(key, value)
        return dim is not None and dim < value.dim() and value.size(dim) == self.num_nodes

    def is_edge_attr(self, key: str) -> bool:
        """Whether ``key`` holds one entry per edge along its concatenation dimension.

        ``edge_index`` and names containing ``"edge"`` qualify by length alone; other
        names only when their length differs from the node count.
        """
        value = self._mapping.get(key)
        if not isinstance(value, Tensor) or value.dim() == 0 or "node" in key:
            return False
        if "edge_index" not in self._mapping and "edge_attr" not in self._mapping:
            return False
        dim = self._cat_dim(key, value)
        if dim is None or dim >= value.dim() or value.size(dim) != self.num_edges:
            return False
        return "edge" in key or value.size(dim) != self.num_nodes

    def node_attrs(self) -> List[str]:
        """Names of the node-level attributes (see :meth:`is_node_attr`)."""
        return [key for key in self._mapping if self.is_node_attr(key)]

    def edge_attrs(self) -> List[str]:
        """Names of the edge-level attributes (see :meth:`is_edge_attr`)."""
        return [key for key in self._mapping if self.is_edge_attr(key)]

    def is_bipartite(self) -> bool:
        """Whether sources and targets are different node sets (never, for one graph)."""
        return False

    def size(self, dim: Optional[int] = None):
        """``(num_nodes, num_nodes)``, or one entry of it."""
        size = (self.num_nodes, self.num_nodes)
        return size if dim is None else size[dim]

    def _describe(self) -> str:
        if self._key is None:
            return type(self).__name__
        return f"{type(self).__name__} {self._key!r}"

    def __repr__(self) -> str:
        inner = ", ".join(size_repr(k, v) for k, v in self._mapping.items())
        return f"{type(self).__name__}({inner})"


class NodeStorage(Storage):
    """The attributes of one node type of a :class:`~gfx.data.HeteroData`."""

    @property
    def node_type(self) -> str:
        return self._key

    @property
    def num_nodes(self) -> Optional[int]:
        """Explicit ``num_nodes``, else the rows of ``x``/``pos``, else the largest index
        that an edge type touching this node type holds, plus one; ``None`` if unknown."""
        count = self._infer_num_nodes()
        if count is not None or self._parent is None:
            return count
        found = None
        for store in self._parent.edge_stores:
            edge_index = store._mapping.get("edge_index")
            if not isinstance(edge_index, Tensor) or edge_index.dim() != 2:
                continue
            src, _, dst = store._key
            for row, node_type in ((0, src), (1, dst)):
                if node_type == self._key:
                    found = max(found or 0, max_index_plus_one(edge_index, row))
        return found

    @num_nodes.setter
    def num_nodes(self, value: Optional[int]) -> None:
        self["num_nodes"] = value

    @property
    def num_node_features(self) -> int:
        """Width of ``x`` (1 for a 1-D ``x``, 0 without ``x``)."""
        return feature_width(self._mapping.get("x"))

    @property
    def num_features(self) -> int:
        return self.num_node_features


class EdgeStorage(Storage):
    """The attributes of one edge type ``(src, relation, dst)`` of a heterogeneous graph."""

    @property
    def edge_type(self) -> Tuple[str, str, str]:
        return self._key

    @property
    def num_edges(self) -> int:
        """Columns of ``edge_index``, else rows of ``edge_attr``, else 0."""
        return edge_count(self._mapping)

    @property
    def num_edge_features(self) -> int:
        return feature_width(self._mapping.get("edge_attr"))

    def is_bipartite(self) -> bool:
        """Whether source and destination node types differ."""
        return self._key[0] != self._key[-1]

    def size(self, dim: Optional[int] = None):
        """``(num source nodes, num destination nodes)``, or one of them for ``dim`` 0/1."""
        src, _, dst = self._key
        if self._parent is None:
            raise RuntimeError(f"{self._describe()} is detached from its graph: "
                               "node counts are unknown")
        size = (self._parent[src].num_nodes, self._parent[dst].num_nodes)
        return size if dim is None else size[dim]


def feature_width(value: Any) -> int:
    """Number of features of a node or edge feature tensor (1 for 1-D, 0 for none)."""
    if not isinstance(value, Tensor):
        return 0
    return 1 if value.dim() <= 1 else value.size(-1)


def edge_count(mapping: Dict[str, Any]) -> int:
    """Edge count of a store: columns of ``edge_index``, else rows of ``edge_attr``."""
    edge_index = mapping.get("edge_index")
    if isinstance(edge_index, Tensor) and edge_index.dim() >= 1:
        return edge_index.size(-1)
    edge_attr = mapping.get("edge_attr")
    if isinstance(edge_attr, Tensor) and edge_attr.dim() >= 1:
        return edge_attr.size(0)
    return 0



def edge_index_problems(where: str, edge_index: Any, num_src: Optional[int],
                        num_dst: Optional[int]) -> List[str]:
    """Everything wrong with an ``edge_index`` of shape ``[2, num_edges]``, as messages.

    Checks the type, dtype (int64 or int32), rank and leading size, that no index is
    negative, and that row 0 stays below ``num_src`` and row 1 below ``num_dst`` where
    those counts are known.
    """
    if not isinstance(edge_index, Tensor):
        return [f"{where}: 'edge_index' must be a torch.Tensor, got {type(edge_index).__name__}"]
    if edge_index.dtype not in INDEX_DTYPES:
        return [f"{where}: 'edge_index' must have dtype torch.int64 or torch.int32, "
                f"got {edge_index.dtype}"]
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        return [f"{where}: 'edge_index' must have shape [2, num_edges], "
                f"got {list(edge_index.shape)}"]
    if edge_index.numel() == 0:
        return []
    problems = []
    if int(edge_index.min()) < 0:
        problems.append(f"{where}: 'edge_index' contains negative indices "
                        f"(min {int(edge_index.min())})")
    for row, count, role in ((0, num_src, "source"), (1, num_dst, "destination")):
        if count is not None and int(edge_index[row].max()) >= count:
            problems.append(
                f"{where}: 'edge_index' row {row} ({role}) holds index "
                f"{int(edge_index[row].max())}, out of range for {count} nodes")
    return problems
