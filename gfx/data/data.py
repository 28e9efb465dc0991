"""``Data``: one homogeneous graph as a bag of named tensors."""
from __future__ import annotations

import copy
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

import torch
from torch import Tensor

from .storage import (Storage, edge_count, edge_index_problems, feature_width,
                      max_index_plus_one, size_repr)

# Attributes that read as ``None`` when absent instead of raising ``AttributeError``.
STANDARD_KEYS = ("x", "edge_index", "edge_attr", "edge_weight", "y", "pos", "batch",
                 "face", "ptr", "train_mask", "val_mask", "test_mask")


def is_index_key(key: str) -> bool:
    """Keys holding node indices: they shift by the node count when graphs are batched."""
    return "index" in key or key == "face"


class Data:
    r"""A homogeneous graph: node features, connectivity and any other named attribute.

    Attributes are read and written as ``data.key`` or ``data["key"]``; assigning
    ``None`` removes one.  The standard names (``x``, ``edge_index``, ``edge_attr``,
    ``y``, ``pos``, ``batch`` ...) read as ``None`` when absent; other missing names
    raise ``AttributeError``.

    Batching (:class:`~gfx.data.Batch`) asks each attribute two questions, which
    subclasses may override:

    * :meth:`__cat_dim__`: the dimension along which graphs are concatenated
      (``-1`` for index keys, ``0`` otherwise, ``None`` to stack along a new dimension);
    * :meth:`__inc__`: the offset added to the value of graph :math:`i` on top of the
      offsets of graphs :math:`0..i-1` (the node count for index keys, so that
      ``edge_index`` of every graph points at its own block of nodes).

    Args:
        x (torch.Tensor, optional): node features ``[num_nodes, num_node_features]``.
            (default: :obj:`None`)
        edge_index (torch.Tensor, optional): connectivity ``[2, num_edges]`` as
            (source, destination) rows. (default: :obj:`None`)
        edge_attr (torch.Tensor, optional): edge features ``[num_edges, F_e]``.
            (default: :obj:`None`)
        y (torch.Tensor, optional): targets of any shape. (default: :obj:`None`)
        pos (torch.Tensor, optional): node positions ``[num_nodes, D]``.
            (default: :obj:`None`)
        **kwargs: further attributes, e.g. ``num_nodes`` or ``train_mask``.
    """

    def __init__(self, x: Optional[Tensor] = None, edge_index: Optional[Tensor] = None,
                 edge_attr: Optional[Tensor] = None, y: Optional[Tensor] = None,
                 pos: Optional[Tensor] = None, **kwargs):
        object.__setattr__(self, "_store", Storage(parent=self))
        for key, value in (("x", x), ("edge_index", edge_index), ("edge_attr", edge_attr),
                           ("y", y), ("pos", pos)):
            if value is not None:
                self._store[key] = value
        for key, value in kwargs.items():
            setattr(self, key, value)

    # -- attribute and item access -------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        store = self.__dict__.get("_store")
        if store is not None and name in store:
            return store[name]
        if name in STANDARD_KEYS:
            return None
        have = sorted(store.keys()) if store is not None else []
        raise AttributeError(f"'{type(self).__name__}' has no attribute '{name}' "
                             f"(it has: {have or 'nothing'})")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
        else:
            self._store[name] = value

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            del self._store[name]

    def __getitem__(self, key: str) -> Any:
        return self._store[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._store[key] = value

    def __delitem__(self, key: str) -> None:
        del self._store[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` when absent."""
        return self._store.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self._store

    def __len__(self) -> int:
        """The number of attributes that hold a value."""
        return len(self._store)

    def __iter__(self) -> Iterator[Tuple[str, Any]]:
        """Iterate over ``(key, value)`` pairs."""
        return iter(self._store.items())

    def keys(self) -> List[str]:
        """The names of the attributes that hold a value, in insertion order."""
        return self._store.keys()

    def __call__(self, *keys: str) -> Iterator[Tuple[str, Any]]:
        """Iterate over ``(key, value)`` of the given attributes that exist (all if none).

        ``for key, mask in data("train_mask", "val_mask"): ...``
        """
        for key in keys or list(self._store.keys()):
            if key in self._store:
                yield key, self._store[key]

    @classmethod
    def from_dict(cls, mapping: Dict[str, Any]) -> "Data":
        """A graph holding the attributes of ``mapping``."""
        return cls(**mapping)

    def update(self, data: Union["Data", Dict[str, Any]]) -> "Data":
        """Copy every attribute of ``data`` (a graph or a dict) into this one; returns self."""
        items = data.items() if isinstance(data, dict) else data.to_dict().items()
        for key, value in items:
            self[key] = value
        return self

    def to_namedtuple(self):
        """The attributes as a ``DataTuple`` namedtuple, fields in insertion order."""
        from collections import namedtuple
        keys = list(self._store.keys())
        return namedtuple("DataTuple", keys)(*(self._store[k] for k in keys))

    def size(self, dim: Optional[int] = None):
        """``(num_nodes, num_nodes)``: the adjacency's shape, or one entry of it."""
        size = (self.num_nodes, self.num_nodes)
        return size if dim is None else size[dim]

    def is_node_attr(self, key: str) -> bool:
        """Whether ``key`` holds one entry per node (see :meth:`Storage.is_node_attr`)."""
        return self._store.is_node_attr(key)

    def is_edge_attr(self, key: str) -> bool:
        """Whether ``key`` holds one entry per edge (see :meth:`Storage.is_edge_attr`)."""
        return self._store.is_edge_attr(key)

    def node_attrs(self) -> List[str]:
        return self._store.node_attrs()

    def edge_attrs(self) -> List[str]:
        return self._store.edge_attrs()

    def to_dict(self) -> Dict[str, Any]:
        """A shallow ``dict`` of all attributes."""
        return self._store.to_dict()

    @property
    def stores(self) -> List[Storage]:
        """The attribute stores of this graph (one for a homogeneous graph)."""
        return [self._store]

    @property
    def node_stores(self) -> List[Storage]:
        return [self._store]

    @property
    def edge_stores(self) -> List[Storage]:
        return [self._store]

    # -- sizes ---------------------------------------------------------------------------
    @property
    def num_nodes(self) -> Optional[int]:
        """The node count.

        In order: an explicit ``num_nodes`` attribute, the rows of ``x``, ``pos`` (or
        another node-level tensor), else the largest index in ``edge_index`` plus one.
        ``None`` when nothing tells.
        """
        count = self._store._infer_num_nodes()
        if count is not None:
            return count
        edge_index = self._store._mapping.get("edge_index")
        if isinstance(edge_index, Tensor) and edge_index.dim() == 2:
            return max(max_index_plus_one(edge_index, 0), max_index_plus_one(edge_index, 1))
        return None

    @num_nodes.setter
    def num_nodes(self, value: Optional[int]) -> None:
        self._store["num_nodes"] = None if value is None else int(value)

    @property
    def num_edges(self) -> int:
        """Columns of ``edge_index``, else rows of ``edge_attr``, else 0."""
        return edge_count(self._store._mapping)

    @property
    def num_node_features(self) -> int:
        """Width of ``x``: its last dimension, 1 for a 1-D ``x``, 0 without ``x``."""
        return feature_width(self.x)

    @property
    def num_features(self) -> int:
        """Alias of :attr:`num_node_features`."""
        return self.num_node_features

    @property
    def num_edge_features(self) -> int:
        """Width of ``edge_attr``: its last dimension, 1 if 1-D, 0 without it."""
        return feature_width(self.edge_attr)

    # -- batching protocol ---------------------------------------------------------------
    def __cat_dim__(self, key: str, value: Any, store: Optional[Storage] = None
                    ) -> Union[int, Tuple[int, int], None]:
        """Dimension along which ``key`` is concatenated when graphs are batched.

        ``(0, 1)`` (block diagonal) for sparse ``adj`` tensors, ``-1`` for index keys
        (any key containing ``"index"``, and ``"face"``), ``0`` for everything else.
        """
        if isinstance(value, Tensor) and value.is_sparse and "adj" in key:
            return (0, 1)
        if is_index_key(key):
            return -1
        return 0

    def __inc__(self, key: str, value: Any, store: Optional[Storage] = None) -> Any:
        """Offset added to ``key`` of this graph when it follows others in a batch.

        The node count for index keys, ``max + 1`` for keys containing ``"batch"``,
        0 otherwise.
        """
        if "batch" in key and isinstance(value, Tensor):
            return int(value.max()) + 1 if value.numel() > 0 else 0
        if is_index_key(key):
            return self.num_nodes
        return 0

    # -- tensor maps ---------------------------------------------------------------------
    def apply(self, func: Callable[[Tensor], Tensor], *keys: str) -> "Data":
        """Replace every tensor attribute (of ``keys`` if given) by ``func(t)``, in place."""
        for store in self.stores:
            store.apply(func, *keys)
        return self

    def to(self, device: Union[str, torch.device], *keys: str,
           non_blocking: bool = False) -> "Data":
        """Move the tensor attributes (of ``keys`` if given) to ``device``, in place."""
        return self.apply(lambda t: t.to(device, non_blocking=non_blocking), *keys)

    def cpu(self, *keys: str) -> "Data":
        return self.apply(lambda t: t.cpu(), *keys)

    def cuda(self, device: Union[int, str, None] = None, *keys: str,
             non_blocking: bool = False) -> "Data":
        return self.apply(lambda t: t.cuda(device, non_blocking=non_blocking), *keys)

    def contiguous(self, *keys: str) -> "Data":
        return self.apply(lambda t: t.contiguous(), *keys)

    def detach(self, *keys: str) -> "Data":
        return self.apply(lambda t: t.detach(), *keys)

    def pin_memory(self, *keys: str) -> "Data":
        """Page-lock the tensor attributes (of ``keys`` if given), in place (needs CUDA)."""
        return self.apply(lambda t: t.pin_memory(), *keys)

    def clone(self) -> "Data":
        """A deep copy: every tensor is cloned, nothing is shared with ``self``."""
        return copy.deepcopy(self)

    def __copy__(self) -> "Data":
        out = type(self).__new__(type(self))
        out.__dict__.update(self.__dict__)
        store = copy.copy(self._store)
        object.__setattr__(store, "_parent", out)
        object.__setattr__(out, "_store", store)
        return out

    # -- structure queries ---------------------------------------------------------------
    def _require_edge_index(self, what: str) -> Tensor:
        if self.edge_index is None:
            raise ValueError(f"Data.{what}: the graph has no 'edge_index'")
        return self.edge_index

    def has_self_loops(self) -> bool:
        """Whether some edge joins a node to itself."""
        edge_index = self._require_edge_index("has_self_loops")
        return bool((edge_index[0] == edge_index[1]).any())

    def has_isolated_nodes(self) -> bool:
        """Whether some node has no edge to another node (a self loop alone does not count)."""
        edge_index = self._require_edge_index("has_isolated_nodes")
        keep = edge_index[0] != edge_index[1]
        touched = torch.unique(edge_index[:, keep])
        return touched.numel() < (self.num_nodes or 0)

    def is_undirected(self) -> bool:
        """Whether every edge ``(i, j)`` has its reverse ``(j, i)`` with equal ``edge_attr``.

        Duplicate edges are compared as multisets.
        """
        edge_index = self._require_edge_index("is_undirected")
        n = max(self.num_nodes or 0, 1)
        forward = edge_index[0].long() * n + edge_index[1].long()
        backward = edge_index[1].long() * n + edge_index[0].long()
        forward_sorted, forward_perm = torch.sort(forward, stable=True)
        backward_sorted, backward_perm = torch.sort(backward, stable=True)
        if not torch.equal(forward_sorted, backward_sorted):
            return False
        edge_attr = self.edge_attr
        if isinstance(edge_attr, Tensor) and edge_attr.size(0) == edge_index.size(1):
            return torch.equal(edge_attr[forward_perm], edge_attr[backward_perm])
        return True

    def is_directed(self) -> bool:
        return not self.is_undirected()

    def to_heterogeneous(self, node_type: Optional[Tensor] = None,
                         edge_type: Optional[Tensor] = None,
                         node_type_names: Optional[List[str]] = None,
                         edge_type_names: Optional[List[Tuple[str, str, str]]] = None):
        """Split into a :class:`~gfx.data.HeteroData` by node and edge type; see
        :func:`gfx.data.hetero_convert.to_heterogeneous`."""
        from .hetero_convert import to_heterogeneous
        return to_heterogeneous(self, node_type, edge_type, node_type_names, edge_type_names)

    def is_coalesced(self) -> bool:
        """Whether ``edge_index`` is sorted by (source, target) without duplicates."""
        from gfx.utils import coalesce
        edge_index = self._require_edge_index("is_coalesced")
        return torch.equal(coalesce(edge_index, num_nodes=self.num_nodes), edge_index)

    def coalesce(self) -> "Data":
        """Sort the edges and merge duplicates, summing their edge attributes; in place."""
        from gfx.utils import coalesce
        edge_index = self._require_edge_index("coalesce")
        keys = [k for k in self.edge_attrs() if k != "edge_index"]
        out, values = coalesce(edge_index, [self[k] for k in keys], self.num_nodes)
        self.edge_index = out
        for key, value in zip(keys, values):
            self[key] = value
        return self

    def subgraph(self, subset: Tensor) -> "Data":
        """The subgraph induced by ``subset`` (node ids, in the order given, or a bool mask).

        Node attributes keep the rows of ``subset``, edge attributes the rows of the edges
        between kept nodes, and ``edge_index`` is renumbered; other attributes are shared.
        """
        from gfx.utils import subgraph
        edge_index = self._require_edge_index("subgraph")
        subset = torch.as_tensor(subset, device=edge_index.device)
        num_nodes = self.num_nodes
        node_keys, edge_keys = self.node_attrs(), self.edge_attrs()
        new_index, _, edge_mask = subgraph(subset, edge_index, relabel_nodes=True,
                                           num_nodes=num_nodes, return_edge_mask=True)
        rows = subset.nonzero().view(-1) if subset.dtype == torch.bool else subset.long()
        edges = edge_mask.nonzero().view(-1)
        return self._select(node_keys, rows, edge_keys, edges, new_index)

    def edge_subgraph(self, subset: Tensor) -> "Data":
        """The graph with only the edges in ``subset`` (edge ids or a bool mask); all nodes
        are kept."""
        edge_index = self._require_edge_index("edge_subgraph")
        subset = torch.as_tensor(subset, device=edge_index.device)
        if subset.dtype == torch.bool:
            if subset.numel() != edge_index.size(1):
                raise ValueError(f"Data.edge_subgraph: the bool 'subset' has {subset.numel()} "
                                 f"entries for {edge_index.size(1)} edges")
            subset = subset.nonzero().view(-1)
        edges = subset.long().view(-1)
        return self._select([], None, self.edge_attrs(), edges, edge_index[:, edges])

    def _select(self, node_keys: List[str], rows: Optional[Tensor], edge_keys: List[str],
                edges: Tensor, edge_index: Tensor) -> "Data":
        out = copy.copy(self)
        for key in node_keys:
            value = self[key]
            out[key] = value.index_select(self._store._cat_dim(key, value), rows)
        for key in edge_keys:
            value = self[key]
            out[key] = value.index_select(self._store._cat_dim(key, value), edges)
        out.edge_index = edge_index
        if rows is not None and "num_nodes" in self._store:
            out.num_nodes = rows.numel()
        return out

    def validate(self, raise_on_error: bool = True) -> bool:
        """Check that the graph is well formed.

        Checks ``edge_index`` (a tensor of dtype int64/int32 and shape ``[2, E]`` whose
        indices lie in ``[0, num_nodes)``), that an explicit ``num_nodes`` agrees with
        ``x``, and that ``edge_attr`` has one row per edge.

        Args:
            raise_on_error (bool, optional): raise ``ValueError`` listing every problem;
                otherwise warn and return ``False``. (default: :obj:`True`)
        """
        problems = []
        mapping = self._store._mapping
        explicit = mapping.get("num_nodes")
        x = mapping.get("x")
        if explicit is not None and int(explicit) < 0:
            problems.append(f"Data: 'num_nodes' must be non-negative, got {explicit}")
        if explicit is not None and isinstance(x, Tensor) and x.dim() > 0 \
                and x.size(0) != int(explicit):
            problems.append(f"Data: 'num_nodes' is {explicit} but 'x' has {x.size(0)} rows")
        if "edge_index" in mapping:
            num_nodes = self._store._infer_num_nodes()
            problems += edge_index_problems("Data", mapping["edge_index"], num_nodes, num_nodes)
        edge_attr = mapping.get("edge_attr")
        if isinstance(edge_attr, Tensor) and isinstance(mapping.get("edge_index"), Tensor) \
                and edge_attr.dim() > 0 and edge_attr.size(0) != mapping["edge_index"].size(-1):
            problems.append(f"Data: 'edge_attr' has {edge_attr.size(0)} rows but 'edge_index' "
                            f"has {mapping['edge_index'].size(-1)} edges")
        return _report(problems, raise_on_error)

    def __repr__(self) -> str:
        inner = ", ".join(size_repr(k, v) for k, v in self._store.items())
        return f"{type(self).__name__}({inner})"


def _report(problems: List[str], raise_on_error: bool) -> bool:
    """Raise or warn about validation problems; ``True`` when there are none."""
    if not problems:
        return True
    message = "invalid graph:\n  " + "\n  ".join(problems)
    if raise_on_error:
        raise ValueError(message)
    warnings.warn(message, stacklevel=3)
    return False
