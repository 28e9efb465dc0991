"""Conversions between gfx graphs and scipy sparse matrices / networkx graphs."""
from __future__ import annotations

from typing import Any, Iterable, List, Optional, Tuple, Union

import torch
from torch import Tensor

from .num_nodes import check_edge_index, maybe_num_nodes


def to_scipy_sparse_matrix(edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                           num_nodes: Optional[int] = None):
    """A ``scipy.sparse.coo_matrix`` with ``A[u, v] = edge_attr[e]`` for each edge ``u -> v``.

    Duplicates stay separate entries (scipy sums them on conversion).

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor, optional): ``[E]`` values; ones when omitted. (default: ``None``)
        num_nodes (int, optional): matrix size. (default: ``None``)
    """
    import scipy.sparse
    check_edge_index("to_scipy_sparse_matrix", edge_index)
    row, col = edge_index.cpu().numpy()
    if edge_attr is None:
        edge_attr = torch.ones(edge_index.size(1))
    elif edge_attr.dim() != 1 or edge_attr.numel() != edge_index.size(1):
        raise ValueError(f"to_scipy_sparse_matrix: 'edge_attr' must be 1-D with one entry "
                         f"per edge, got shape {tuple(edge_attr.shape)}")
    n = maybe_num_nodes(edge_index, num_nodes)
    return scipy.sparse.coo_matrix((edge_attr.detach().cpu().numpy(), (row, col)), (n, n))


def from_scipy_sparse_matrix(A) -> Tuple[Tensor, Tensor]:
    """``(edge_index, edge_weight)`` of the stored entries of a scipy sparse matrix.

    Args:
        A (scipy.sparse matrix or array): any sparse format; rows are sources.
    """
    if not hasattr(A, "tocoo"):
        raise TypeError(f"from_scipy_sparse_matrix: 'A' must be a scipy sparse matrix, got "
                        f"{type(A).__name__}")
    coo = A.tocoo()
    row = torch.from_numpy(coo.row.astype("int64"))
    col = torch.from_numpy(coo.col.astype("int64"))
    return torch.stack([row, col]), torch.from_numpy(coo.data)


def _python(value: Any) -> Any:
    return value.tolist() if isinstance(value, Tensor) else value


def to_networkx(data, node_attrs: Optional[Iterable[str]] = None,
                edge_attrs: Optional[Iterable[str]] = None,
                graph_attrs: Optional[Iterable[str]] = None,
                to_undirected: Union[bool, str] = False, to_multi: bool = False,
                remove_self_loops: bool = False):
    """A networkx graph with nodes ``0..N-1`` and the edges (and attributes) of ``data``.

    Args:
        data (Data): a homogeneous graph (gfx's or any object with ``edge_index`` and
            ``num_nodes``).
        node_attrs (list of str, optional): node attributes to copy (as Python values).
            (default: ``None``)
        edge_attrs (list of str, optional): edge attributes to copy. (default: ``None``)
        graph_attrs (list of str, optional): graph attributes to copy. (default: ``None``)
        to_undirected (bool or str, optional): build an undirected graph: ``True`` adds
            every edge (a later copy of ``{u, v}`` overwrites the attributes of an earlier
            one unless ``to_multi``), ``"upper"`` only the edges with ``u <= v``,
            ``"lower"`` only those with ``u >= v``. (default: ``False``)
        to_multi (bool, optional): build a multigraph, keeping duplicate edges.
            (default: ``False``)
        remove_self_loops (bool, optional): leave out the edges ``(i, i)``.
            (default: ``False``)
    """
    import networkx as nx
    if to_undirected not in (False, True, "upper", "lower"):
        raise ValueError(f"to_networkx: 'to_undirected' must be a bool, 'upper' or 'lower', "
                         f"got {to_undirected!r}")
    undirected = to_undirected is not False
    if to_multi:
        graph = nx.MultiGraph() if undirected else nx.MultiDiGraph()
    else:
        graph = nx.Graph() if undirected else nx.DiGraph()
    num_nodes = data.num_nodes or 0
    node_values = {key: _python(data[key]) for key in node_attrs or []}
    graph.add_nodes_from(range(num_nodes))
    for i in range(num_nodes):
        graph.nodes[i].update({key: values[i] for key, values in node_values.items()})
    edge_values = {key: _python(data[key]) for key in edge_attrs or []}
    edge_index = data.edge_index
    pairs = edge_index.t().tolist() if edge_index is not None else []
    for e, (u, v) in enumerate(pairs):
        if (to_undirected == "upper" and u > v) or (to_undirected == "lower" and u < v):
            continue
        if remove_self_loops and u == v:
            continue
        graph.add_edge(u, v, **{key: values[e] for key, values in edge_values.items()})
    for key in graph_attrs or []:
        graph.graph[key] = _python(data[key])
    return graph


def _tensor_or_value(values: List[Any]) -> Any:
    if values and isinstance(values[0], Tensor):
        return torch.stack(values, dim=0)
    try:
        return torch.as_tensor(values)
    except (TypeError, ValueError, RuntimeError):
        return values


def _grouped(data, keys: List[str], what: str) -> Tensor:
    parts = []
    for key in keys:
        value = data[key]
        if not isinstance(value, Tensor):
            raise TypeError(f"from_networkx: attribute {key!r} in '{what}' is not numeric and "
                            f"cannot be stacked into a tensor")
        parts.append(value.view(-1, 1) if value.dim() <= 1 else value.flatten(1))
        del data[key]
    return torch.cat(parts, dim=-1)


def from_networkx(G, group_node_attrs: Union[None, str, List[str]] = None,
                  group_edge_attrs: Union[None, str, List[str]] = None):
    """A :class:`gfx.data.Data` from a networkx graph.

    Nodes are renumbered ``0..N-1`` in ``G.nodes`` order; an undirected graph yields both
    directions of every edge. Every node (edge) attribute becomes a tensor attribute when
    it converts to one; an edge attribute that shares a node attribute's name is stored as
    ``edge_<name>``, a graph attribute as ``graph_<name>``.

    Args:
        G (networkx.Graph): the graph; all nodes (edges) must carry the same attributes.
        group_node_attrs (list of str or "all", optional): node attributes concatenated
            into ``x`` (and removed). (default: ``None``)
        group_edge_attrs (list of str or "all", optional): edge attributes concatenated
            into ``edge_attr``. (default: ``None``)
    """
    import networkx as nx

    from gfx.data import Data
    if not isinstance(G, nx.Graph):
        raise TypeError(f"from_networkx: 'G' must be a networkx graph, got {type(G).__name__}")
    G = G if G.is_directed() else G.to_directed()
    position = {node: i for i, node in enumerate(G.nodes())}
    pairs = [(position[u], position[v]) for u, v in G.edges()]
    edge_index = torch.tensor(pairs, dtype=torch.long).t().reshape(2, -1)
    node_keys = list(next(iter(G.nodes(data=True)))[-1]) if G.number_of_nodes() else []
    edge_keys = list(next(iter(G.edges(data=True)))[-1]) if G.number_of_edges() else []
    values = {}
    for _, attrs in G.nodes(data=True):
        if set(attrs) != set(node_keys):
            raise ValueError("from_networkx: not all nodes carry the same attributes")
        for key, value in attrs.items():
            values.setdefault(str(key), []).append(value)
    edge_names = {}
    for *_, attrs in G.edges(data=True):
        if set(attrs) != set(edge_keys):
            raise ValueError("from_networkx: not all edges carry the same attributes")
        for key, value in attrs.items():
            name = f"edge_{key}" if key in node_keys else str(key)
            edge_names[key] = name
            values.setdefault(name, []).append(value)
    data = Data()
    for key, value in values.items():
        data[key] = _tensor_or_value(value)
    for key, value in G.graph.items():
        if key in ("node_default", "edge_default"):
            continue
        data[f"graph_{key}" if key in node_keys else str(key)] = value
    data.edge_index = edge_index
    if group_node_attrs is not None:
        keys = node_keys if group_node_attrs == "all" else list(group_node_attrs)
        data.x = _grouped(data, [str(k) for k in keys], "group_node_attrs")
    if group_edge_attrs is not None:
        keys = edge_keys if group_edge_attrs == "all" else list(group_edge_attrs)
        data.edge_attr = _grouped(data, [edge_names.get(k, str(k)) for k in keys],
                                  "group_edge_attrs")
    if "x" not in data and "pos" not in data:
        data.num_nodes = G.number_of_nodes()
    return data
