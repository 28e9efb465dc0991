"""Taking graphs from the reference library (or any look-alike) by duck typing.

# NOTE [foreign graphs]
gfx never imports the reference library. A *foreign* graph is an object that is not a
gfx container but looks like one: a heterogeneous graph has ``node_types``,
``edge_types`` and item access by type; a homogeneous graph has ``to_dict()`` and
``__cat_dim__``/``__inc__``. :func:`from_foreign` copies its attributes (tensors are
shared, not cloned) into a gfx :class:`Data`/:class:`HeteroData`. A homogeneous foreign
graph keeps answering the batching questions itself: the copy's ``__cat_dim__`` and
``__inc__`` ask the original, so subclasses with their own increments (pairs of graphs,
``edge_index_s`` / ``edge_index_t``) batch as they would in the reference.

The way back needs no gfx code: ``torch_geometric.data.Data.from_dict(data.to_dict())``
and ``torch_geometric.data.HeteroData(hetero.to_dict())``. Reference transforms take a
gfx ``Data`` as it is (they use the container API), but those that branch on
``isinstance(data, HeteroData)`` treat a gfx ``HeteroData`` as homogeneous (the
reference ``ToUndirected`` then merges bipartite edge types instead of adding reverse
types): convert it first, or use :mod:`gfx.transforms`, which has the same names.
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

from .data import Data
from .hetero_data import HeteroData


def is_foreign_hetero(obj: Any) -> bool:
    """Whether ``obj`` looks like a heterogeneous graph of another library."""
    return (not isinstance(obj, (Data, HeteroData)) and hasattr(obj, "node_types")
            and hasattr(obj, "edge_types") and hasattr(obj, "__getitem__"))


def is_foreign_data(obj: Any) -> bool:
    """Whether ``obj`` looks like a homogeneous graph of another library."""
    return (not isinstance(obj, (Data, HeteroData)) and not is_foreign_hetero(obj)
            and callable(getattr(obj, "to_dict", None)) and hasattr(obj, "__cat_dim__")
            and hasattr(obj, "__inc__"))


def is_graph_like(obj: Any) -> bool:
    """A gfx graph or a foreign one (see NOTE [foreign graphs])."""
    return isinstance(obj, (Data, HeteroData)) or is_foreign_data(obj) \
        or is_foreign_hetero(obj)


class ForeignData(Data):
    """A gfx :class:`Data` copied from a foreign graph that keeps its batching rules."""

    def __cat_dim__(self, key: str, value: Any, store=None):
        origin = self.__dict__.get("_origin")
        if origin is not None and key in _origin_keys(origin):
            return origin.__cat_dim__(key, value)
        return super().__cat_dim__(key, value, store)

    def __inc__(self, key: str, value: Any, store=None):
        origin = self.__dict__.get("_origin")
        if origin is not None and key in _origin_keys(origin):
            return origin.__inc__(key, value)
        return super().__inc__(key, value, store)


_COPY_CLASSES: Dict[type, type] = {}


def _copy_class(foreign_cls: type) -> type:
    """A :class:`ForeignData` subclass named like ``foreign_cls`` (so batches read
    ``DataBatch``, ``PairDataBatch`` ...), made once per foreign class."""
    if foreign_cls not in _COPY_CLASSES:
        _COPY_CLASSES[foreign_cls] = type(foreign_cls.__name__, (ForeignData,), {
            "__doc__": f"gfx copy of a {foreign_cls.__module__}.{foreign_cls.__name__}."})
    return _COPY_CLASSES[foreign_cls]


def _origin_keys(origin: Any) -> Tuple[str, ...]:
    keys = origin.keys() if callable(getattr(origin, "keys", None)) else origin.keys
    return tuple(keys)


def _node_and_edge_types(obj: Any):
    node_types, edge_types = obj.node_types, obj.edge_types
    return list(node_types), [tuple(t) for t in edge_types]


def from_foreign(obj: Any, where: str = "value"):
    """A gfx graph holding the attributes of ``obj`` (see NOTE [foreign graphs]).

    gfx graphs are returned unchanged.

    Args:
        obj: a gfx graph, or a homogeneous / heterogeneous graph of another library.
        where (str, optional): how to name ``obj`` in an error. (default: ``"value"``)
    """
    if isinstance(obj, (Data, HeteroData)):
        return obj
    if is_foreign_hetero(obj):
        node_types, edge_types = _node_and_edge_types(obj)
        content: Dict[Any, Any] = {}
        for type_key in (*node_types, *edge_types):
            content[type_key] = dict(obj[type_key].to_dict())
        out = HeteroData(content)
        global_store = getattr(obj, "_global_store", None)
        if global_store is not None and callable(getattr(global_store, "to_dict", None)):
            for key, value in global_store.to_dict().items():
                out[key] = value
        return out
    if is_foreign_data(obj):
        out = _copy_class(type(obj))(**dict(obj.to_dict()))
        object.__setattr__(out, "_origin", obj)
        return out
    raise TypeError(
        f"{where} is a {type(obj).__name__} (from {type(obj).__module__}), which is not a "
        "graph: "
        "expected gfx.data.Data / HeteroData or an object that looks like one (to_dict(), "
        "__cat_dim__, __inc__; or node_types/edge_types). Build one with "
        "gfx.data.Data(x=..., edge_index=...)")
