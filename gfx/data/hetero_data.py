"""``HeteroData``: one heterogeneous graph with typed nodes and typed edges."""
from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor

from .data import _report, is_index_key
from .storage import EdgeStorage, NodeStorage, Storage, edge_index_problems, size_repr

NodeType = str
EdgeType = Tuple[str, str, str]


class HeteroData:
    r"""A heterogeneous graph: one attribute store per node type and per edge type.

    .. code-block:: python

        data = HeteroData()
        data["paper"].x = torch.randn(4, 16)
        data["author"].x = torch.randn(2, 8)
        data["author", "writes", "paper"].edge_index = torch.tensor([[0, 1], [2, 3]])
        data["writes"]            # the same edge store: the relation name is unique
        data.x_dict               # {"paper": ..., "author": ...}
        data.metadata()           # (["paper", "author"], [("author", "writes", "paper")])

    Indexing with a string gives the node store of that type (created on first use),
    unless no such node type exists and exactly one edge type has that relation name,
    or a global attribute has that name;
    a ``(src, dst)`` pair gives the unique edge type between them; a
    ``(src, relation, dst)`` triple gives (or creates) that edge store.  Type names may
    be any string.  Other attributes (``data.y = ...``) live in a global store.
    ``data.<key>_dict`` collects ``key`` across all types (see :meth:`collect`).

    Args:
        mapping (dict, optional): initial content: ``{node_type: {attr: value}}``,
            ``{(src, rel, dst): {attr: value}}`` and ``{attr: value}`` for global
            attributes. (default: :obj:`None`)
        **kwargs: more of the same; a keyword ``src__rel__dst`` names an edge type.
    """

    def __init__(self, mapping: Optional[Dict[Any, Any]] = None, **kwargs):
        object.__setattr__(self, "_global_store", Storage(parent=self))
        object.__setattr__(self, "_node_store_dict", {})
        object.__setattr__(self, "_edge_store_dict", {})
        content = dict(mapping or {})
        for key, value in kwargs.items():
            if "__" in key and len(key.split("__")) == 3 and isinstance(value, dict):
                key = tuple(key.split("__"))
            content[key] = value
        for key, value in content.items():
            if isinstance(value, dict):
                store = self[key]
                for name, item in value.items():
                    setattr(store, name, item)
            else:
                setattr(self, key, value)

    # -- attribute access ----------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        store = self.__dict__.get("_global_store")
        if store is not None and name in store:
            return store[name]
        if name.endswith("_dict") and len(name) > len("_dict"):
            return self.collect(name[:-len("_dict")])
        raise AttributeError(f"'{type(self).__name__}' has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
        else:
            self._global_store[name] = value

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            del self._global_store[name]

    # -- type resolution -----------------------------------------------------------------
    def _resolve(self, key: Any) -> Union[NodeType, EdgeType]:
        """The node or edge type that ``key`` names (without creating anything)."""
        if isinstance(key, str):
            if key in self._node_store_dict:
                return key
            matches = [t for t in self._edge_store_dict if t[1] == key]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise KeyError(f"relation '{key}' is ambiguous: it names edge types "
                               f"{matches}; index with the full (src, relation, dst) triple")
            return key
        if isinstance(key, tuple) and len(key) == 3 and all(isinstance(k, str) for k in key):
            return key
        if isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key):
            matches = [t for t in self._edge_store_dict if (t[0], t[2]) == key]
            if len(matches) == 1:
                return matches[0]
            found = "no edge type" if not matches else f"edge types {matches}"
            raise KeyError(f"({key[0]!r}, {key[1]!r}) must name exactly one edge type, "
                           f"found {found}; index with (src, relation, dst)")
        raise TypeError("HeteroData keys are a node type (str), an edge type "
                        f"(src, relation, dst) of strings, or a (src, dst) pair; got {key!r}")

    def __getitem__(self, key: Any) -> Any:
        key = self._resolve(key)
        if isinstance(key, str) and key not in self._node_store_dict \
                and key in self._global_store:
            return self._global_store[key]
        return self.get_type_store(key)

    def get_type_store(self, type_key: Union[NodeType, EdgeType]) -> Storage:
        """The store of a node type (str) or edge type (triple), created if absent."""
        if isinstance(type_key, str):
            if type_key not in self._node_store_dict:
                self._node_store_dict[type_key] = NodeStorage(key=type_key, parent=self)
            return self._node_store_dict[type_key]
        if type_key not in self._edge_store_dict:
            self._edge_store_dict[type_key] = EdgeStorage(key=type_key, parent=self)
        return self._edge_store_dict[type_key]

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(value, dict):
            store = self[key]
            store._mapping.clear()
            for name, item in value.items():
                setattr(store, name, item)
        elif isinstance(key, str) and key not in self._node_store_dict:
            setattr(self, key, value)
        else:
            raise TypeError(f"assign a dict of attributes to a node or edge type, "
                            f"got {type(value).__name__} for {key!r}")

    def __delitem__(self, key: Any) -> None:
        key = self._resolve(key)
        if key in self._node_store_dict:
            del self._node_store_dict[key]
        elif key in self._edge_store_dict:
            del self._edge_store_dict[key]
        elif isinstance(key, str):
            del self._global_store[key]

    def __contains__(self, key: Any) -> bool:
        try:
            key = self._resolve(key)
        except (KeyError, TypeError):
            return False
        return (key in self._node_store_dict or key in self._edge_store_dict
                or (isinstance(key, str) and key in self._global_store))

    # -- views ---------------------------------------------------------------------------
    @property
    def node_types(self) -> List[NodeType]:
        return list(self._node_store_dict)

    @property
    def edge_types(self) -> List[EdgeType]:
        return list(self._edge_store_dict)

    def metadata(self) -> Tuple[List[NodeType], List[EdgeType]]:
        """``(node_types, edge_types)``, the description ``to_hetero`` takes."""
        return self.node_types, self.edge_types

    @property
    def node_stores(self) -> List[NodeStorage]:
        return list(self._node_store_dict.values())

    @property
    def edge_stores(self) -> List[EdgeStorage]:
        return list(self._edge_store_dict.values())

    @property
    def stores(self) -> List[Storage]:
        """The global store, then the node stores, then the edge stores."""
        return [self._global_store] + self.node_stores + self.edge_stores

    def node_items(self) -> List[Tuple[NodeType, NodeStorage]]:
        return list(self._node_store_dict.items())

    def edge_items(self) -> List[Tuple[EdgeType, EdgeStorage]]:
        return list(self._edge_store_dict.items())

    def keys(self) -> List[str]:
        """Every attribute name used by some store, global store included."""
        names: Dict[str, None] = {}
        for store in self.stores:
            names.update(dict.fromkeys(store.keys()))
        return list(names)

    def collect(self, key: str, allow_empty: bool = False) -> Dict[Any, Any]:
        """``{type: store[key]}`` over every node and edge type that has ``key``.

        Args:
            key (str): the attribute name.
            allow_empty (bool, optional): return ``{}`` instead of raising ``KeyError``
                when no type has ``key``. (default: :obj:`False`)
        """
        out = {}
        for type_key, store in (*self.node_items(), *self.edge_items()):
            if key in store:
                out[type_key] = store[key]
        if not out and not allow_empty:
            raise KeyError(f"no node or edge type has an attribute '{key}'")
        return out

    # -- sizes ---------------------------------------------------------------------------
    @property
    def num_nodes(self) -> Optional[int]:
        """Total node count over all node types (``None`` if no type knows its count)."""
        counts = [store.num_nodes for store in self.node_stores]
        known = [c for c in counts if c is not None]
        return sum(known) if known else None

    @property
    def num_edges(self) -> int:
        return sum(store.num_edges for store in self.edge_stores)

    @property
    def num_node_features(self) -> Dict[NodeType, int]:
        return {key: store.num_node_features for key, store in self.node_items()}

    @property
    def num_features(self) -> Dict[NodeType, int]:
        return self.num_node_features

    @property
    def num_edge_features(self) -> Dict[EdgeType, int]:
        return {key: store.num_edge_features for key, store in self.edge_items()}

    # -- batching protocol ---------------------------------------------------------------
    def __cat_dim__(self, key: str, value: Any, store: Optional[Storage] = None) -> Any:
        """As :meth:`gfx.data.Data.__cat_dim__`: ``-1`` for index keys, else ``0``."""
        if isinstance(value, Tensor) and value.is_sparse and "adj" in key:
            return (0, 1)
        return -1 if is_index_key(key) else 0

    def __inc__(self, key: str, value: Any, store: Optional[Storage] = None) -> Any:
        """Offset for ``key`` of this graph in a batch.

        For index keys of an edge type, ``[[num_src_nodes], [num_dst_nodes]]`` (the two
        rows shift by the node counts of their own types); for index keys of a node
        type, its node count; ``max + 1`` for keys containing ``"batch"``; else 0.
        """
        if "batch" in key and isinstance(value, Tensor):
            return int(value.max()) + 1 if value.numel() > 0 else 0
        if not is_index_key(key):
            return 0
        if isinstance(store, EdgeStorage):
            src, dst = store.size()
            _require_count(store.edge_type[0], src)
            _require_count(store.edge_type[2], dst)
            return torch.tensor([[src], [dst]])
        if isinstance(store, NodeStorage):
            return _require_count(store.node_type, store.num_nodes)
        return 0

    # -- conversions ----------------------------------------------------------------------
    def __call__(self, *keys: str):
        """Iterate over ``(key, value)`` of the given attribute names (all if none), in
        every store that has them."""
        for store in self.stores:
            for key in keys or store.keys():
                if key in store:
                    yield key, store[key]

    def to_dict(self) -> Dict[Any, Any]:
        """``{global key: value, node type: {...}, edge type: {...}}``, shallow."""
        from .hetero_convert import hetero_to_dict
        return hetero_to_dict(self)

    @classmethod
    def from_dict(cls, mapping: Dict[Any, Any]) -> "HeteroData":
        """The graph described by a mapping shaped like :meth:`to_dict`'s result."""
        return cls(mapping)

    def update(self, data: "HeteroData") -> "HeteroData":
        """Copy every attribute of every store of ``data`` into this graph; returns self."""
        for key, value in data._global_store.items():
            self[key] = value
        for type_key, store in (*data.node_items(), *data.edge_items()):
            for key, value in store.items():
                self[type_key][key] = value
        return self

    def to_homogeneous(self, node_attrs: Optional[List[str]] = None,
                       edge_attrs: Optional[List[str]] = None, add_node_type: bool = True,
                       add_edge_type: bool = True, dummy_values: bool = True):
        """One :class:`~gfx.data.Data` with all types laid out one after another; see
        :func:`gfx.data.hetero_convert.to_homogeneous` for the arguments."""
        from .hetero_convert import to_homogeneous
        return to_homogeneous(self, node_attrs, edge_attrs, add_node_type, add_edge_type,
                              dummy_values)

    def subgraph(self, subset_dict: Dict[NodeType, Tensor]) -> "HeteroData":
        """Keep only the given nodes of some node types (see
        :func:`gfx.data.hetero_subgraph.subgraph`)."""
        from .hetero_subgraph import subgraph
        return subgraph(self, subset_dict)

    def node_type_subgraph(self, node_types: List[NodeType]) -> "HeteroData":
        """Keep only ``node_types`` and the edge types among them."""
        from .hetero_subgraph import node_type_subgraph
        return node_type_subgraph(self, node_types)

    def edge_type_subgraph(self, edge_types: List[EdgeType]) -> "HeteroData":
        """Keep only ``edge_types`` and the node types they touch."""
        from .hetero_subgraph import edge_type_subgraph
        return edge_type_subgraph(self, edge_types)

    def pin_memory(self, *keys: str) -> "HeteroData":
        """Page-lock every tensor attribute (of ``keys`` if given), in place (needs CUDA)."""
        return self.apply(lambda t: t.pin_memory(), *keys)

    # -- tensor maps and copies ----------------------------------------------------------
    def apply(self, func: Callable[[Tensor], Tensor], *keys: str) -> "HeteroData":
        """Replace every tensor attribute (of ``keys`` if given) by ``func(t)``, in place."""
        for store in self.stores:
            store.apply(func, *keys)
        return self

    def to(self, device: Union[str, torch.device], *keys: str,
           non_blocking: bool = False) -> "HeteroData":
        """Move every tensor attribute (of ``keys`` if given) to ``device``, in place."""
        return self.apply(lambda t: t.to(device, non_blocking=non_blocking), *keys)

    def cpu(self, *keys: str) -> "HeteroData":
        return self.apply(lambda t: t.cpu(), *keys)

    def cuda(self, device: Union[int, str, None] = None, *keys: str,
             non_blocking: bool = False) -> "HeteroData":
        return self.apply(lambda t: t.cuda(device, non_blocking=non_blocking), *keys)

    def contiguous(self, *keys: str) -> "HeteroData":
        return self.apply(lambda t: t.contiguous(), *keys)

    def detach(self, *keys: str) -> "HeteroData":
        return self.apply(lambda t: t.detach(), *keys)

    def clone(self) -> "HeteroData":
        """A deep copy: every tensor is cloned, nothing is shared with ``self``."""
        return copy.deepcopy(self)

    def __copy__(self) -> "HeteroData":
        out = type(self).__new__(type(self))
        out.__dict__.update(self.__dict__)
        for name in ("_node_store_dict", "_edge_store_dict"):
            stores = {k: copy.copy(s) for k, s in getattr(self, name).items()}
            for store in stores.values():
                object.__setattr__(store, "_parent", out)
            object.__setattr__(out, name, stores)
        global_store = copy.copy(self._global_store)
        object.__setattr__(global_store, "_parent", out)
        object.__setattr__(out, "_global_store", global_store)
        return out

    def validate(self, raise_on_error: bool = True) -> bool:
        """Check every edge type: its node types exist and its ``edge_index`` is well formed
        (shape ``[2, E]``, integer dtype, source/destination indices in range).

        Args:
            raise_on_error (bool, optional): raise ``ValueError`` listing every problem;
                otherwise warn and return ``False``. (default: :obj:`True`)
        """
        problems = []
        for edge_type, store in self.edge_items():
            src, _, dst = edge_type
            for node_type in (src, dst):
                if node_type not in self._node_store_dict:
                    problems.append(f"edge type {edge_type}: node type {node_type!r} "
                                    "does not exist")
            if "edge_index" not in store:
                continue
            counts = [self._node_store_dict[t]._infer_num_nodes()
                      if t in self._node_store_dict else None for t in (src, dst)]
            problems += edge_index_problems(f"edge type {edge_type}", store.edge_index,
                                            counts[0], counts[1])
        return _report(problems, raise_on_error)

    def __repr__(self) -> str:
        lines = [f"  {size_repr(k, v)}," for k, v in self._global_store.items()]
        for type_key, store in (*self.node_items(), *self.edge_items()):
            name = type_key if isinstance(type_key, str) else "(" + ", ".join(type_key) + ")"
            inner = ", ".join(size_repr(k, v) for k, v in store.items())
            lines.append(f"  {name}={{ {inner} }},")
        if not lines:
            return f"{type(self).__name__}()"
        lines[-1] = lines[-1][:-1]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


def _require_count(node_type: str, count: Optional[int]) -> int:
    if count is None:
        raise ValueError(f"cannot batch: the node count of node type {node_type!r} is "
                         "unknown; give it an 'x' or set 'num_nodes'")
    return count
