"""``NeighborLoader``: mini-batches of seed nodes with their sampled multi-hop neighbourhood."""
from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.data.data import Data
from gfx.data.hetero_data import HeteroData
from gfx.data.interop import from_foreign

from .neighbor_sampler import CSC, DisjointNodeSet, NodeSet

SUBGRAPH_TYPES = ("directional", "bidirectional", "induced")
NumNeighbors = Union[List[int], Dict[Tuple[str, str, str], List[int]]]


def _unsupported(name: str, value: Any, default: Any) -> None:
    if value != default:
        raise ValueError(f"NeighborLoader: '{name}={value!r}' is not supported by gfx "
                         f"(only the default {default!r})")


def _graph(data: Any) -> Union[Data, HeteroData]:
    return from_foreign(data, "NeighborLoader: 'data'")


class NeighborSampler:
    """Samples the neighbourhoods of seed nodes hop by hop (NOTE [neighbour sampling]).

    Args:
        data (Data or HeteroData): the full graph.
        num_neighbors (list of int or dict): neighbours per hop (``-1`` for all), one
            list for every edge type or a list per edge type.
        replace (bool, optional): sample with replacement. (default: ``False``)
        subgraph_type (str, optional): ``"directional"`` (the sampled edges),
            ``"bidirectional"`` (also their reverses) or ``"induced"`` (every edge among
            the sampled nodes). (default: ``"directional"``)
        weight_attr (str, optional): edge attribute with sampling weights
            (NOTE [weighted neighbour sampling]). (default: ``None``)
        disjoint (bool, optional): every seed grows its own tree; a node reached from
            several seeds appears once per seed, and ``batch`` says which seed's tree
            each node belongs to. (default: ``False``)
        time_attr (str, optional): node or edge attribute holding times; neighbours later
            than their tree's seed time are never sampled (NOTE [temporal neighbour
            sampling]); implies ``disjoint``. (default: ``None``)
        temporal_strategy (str, optional): ``"uniform"`` or ``"last"`` (most recent
            first). (default: ``"uniform"``)
    """

    def __init__(self, data: Any, num_neighbors: NumNeighbors, replace: bool = False,
                 subgraph_type: str = "directional", weight_attr: Optional[str] = None,
                 disjoint: bool = False, time_attr: Optional[str] = None,
                 temporal_strategy: str = "uniform"):
        if subgraph_type not in SUBGRAPH_TYPES:
            raise ValueError(f"NeighborLoader: 'subgraph_type' must be one of "
                             f"{SUBGRAPH_TYPES}, got {subgraph_type!r}")
        self.data = _graph(data)
        self.replace = replace
        self.subgraph_type = subgraph_type
        if temporal_strategy not in ("uniform", "last"):
            raise ValueError(f"NeighborLoader: 'temporal_strategy' must be 'uniform' or "
                             f"'last', got {temporal_strategy!r}")
        self.time_attr = time_attr
        self.temporal_strategy = temporal_strategy
        disjoint = disjoint or time_attr is not None
        self.disjoint = disjoint
        if disjoint and subgraph_type == "induced":
            raise ValueError("NeighborLoader: 'disjoint=True' works with the "
                             "'directional' and 'bidirectional' subgraph types")
        self.hetero = isinstance(self.data, HeteroData)
        if self.hetero:
            self.edge_types = self.data.edge_types
            sizes = {t: int(self.data[t].num_nodes or 0) for t in self.data.node_types}
        else:
            self.edge_types = [None]
            sizes = {None: int(self.data.num_nodes or 0)}
        self.num_nodes = sizes
        self.num_neighbors = self._per_type(num_neighbors)
        hops = {len(v) for v in self.num_neighbors.values()}
        if len(hops) > 1:
            raise ValueError("NeighborLoader: every edge type needs the same number of hops "
                             f"in 'num_neighbors', got {sorted(hops)}")
        self.num_hops = hops.pop() if hops else 0
        self.csc = {}
        for edge_type in self.edge_types:
            store = self._edge_store(edge_type)
            if "edge_index" not in store:
                where = "the graph" if edge_type is None else f"edge type {edge_type}"
                raise ValueError(f"NeighborLoader: {where} has no 'edge_index'")
            dst = None if edge_type is None else edge_type[-1]
            weight = None
            if weight_attr is not None:
                if weight_attr not in store:
                    raise ValueError(f"NeighborLoader: edge type {edge_type} has no "
                                     f"'{weight_attr}' ('weight_attr')")
                weight = store[weight_attr].cpu()
            self.csc[edge_type] = CSC(store.edge_index.cpu(), sizes[dst], weight)
        self.node_time = {}
        self.edge_time = {}
        if time_attr is not None:
            self._collect_times(time_attr)

    def _collect_times(self, time_attr: str) -> None:
        node_types = self.data.node_types if self.hetero else [None]
        for node_type in node_types:
            store = self.data[node_type] if self.hetero else self.data._store
            if time_attr in store and store.is_node_attr(time_attr):
                self.node_time[node_type] = store[time_attr].cpu()
        for edge_type in self.edge_types:
            store = self._edge_store(edge_type)
            if time_attr in store and store.is_edge_attr(time_attr):
                self.edge_time[edge_type] = store[time_attr].cpu()
        for edge_type in self.edge_types:
            src = None if edge_type is None else edge_type[0]
            if edge_type not in self.edge_time and src not in self.node_time:
                raise ValueError(f"NeighborLoader: 'time_attr' {time_attr!r} is neither a "
                                 f"node attribute of the sources nor an edge attribute of "
                                 f"edge type {edge_type}")

    def seed_time(self, seeds: Tensor, seed_type: Optional[str]) -> Tensor:
        """The time of seed nodes (their node time)."""
        if seed_type not in self.node_time:
            raise ValueError("NeighborLoader: with an edge-level 'time_attr' pass "
                             "'input_time' (the seed times)")
        return self.node_time[seed_type][seeds]

    def _per_type(self, num_neighbors: NumNeighbors) -> Dict[Any, List[int]]:
        if isinstance(num_neighbors, dict):
            if not self.hetero:
                raise ValueError("NeighborLoader: a dict 'num_neighbors' needs a "
                                 "heterogeneous graph")
            return {t: list(num_neighbors.get(t, [0] * len(next(iter(
                num_neighbors.values()))))) for t in self.edge_types}
        return {t: list(num_neighbors) for t in self.edge_types}

    def _edge_store(self, edge_type):
        return self.data._store if edge_type is None else self.data[edge_type]

    def sample(self, seeds: Union[Tensor, Dict[Any, Tensor]], seed_type: Optional[str] = None,
               generator: Optional[torch.Generator] = None,
               seed_time: Optional[Tensor] = None,
               trees: Optional[Dict[Any, Tensor]] = None) -> Dict[str, Any]:
        """Sample around ``seeds`` (node ids of ``seed_type``, or a dict of them per node
        type); returns per-type node ids, per-type edges (local ``row``/``col`` and
        original ``e_id``) and per-hop counts.

        With ``disjoint``, seed ``i`` of each type roots tree ``i`` unless ``trees`` gives
        the tree of every seed (the two ends of a link share one); ``seed_time`` is the
        time of each tree (by default the seeds' node times)."""
        if not isinstance(seeds, dict):
            seeds = {seed_type: seeds}
        if self.disjoint:
            node_sets = {t: DisjointNodeSet(n) for t, n in self.num_nodes.items()}
        else:  # the dense maps are allocated once and cleared after every batch
            if getattr(self, "_node_sets", None) is None:
                self._node_sets = {t: NodeSet(n) for t, n in self.num_nodes.items()}
            node_sets = self._node_sets
        size = {t: max(n, 1) for t, n in self.num_nodes.items()}
        try:
            frontier = {t: torch.zeros(0, dtype=torch.long) for t in node_sets}
            tree_time = seed_time
            seed_local = {}
            for node_type, ids in seeds.items():
                if self.time_attr is not None and tree_time is None:
                    tree_time = self.seed_time(ids, node_type)
                if self.disjoint:
                    tree = trees[node_type] if trees is not None else torch.arange(ids.numel())
                    ids = tree * size[node_type] + ids
                frontier[node_type] = node_sets[node_type].add(ids)
                seed_local[node_type] = node_sets[node_type].lookup(ids)
            nodes_per_hop = {t: [int(f.numel())] for t, f in frontier.items()}
            edges = {t: ([], [], []) for t in self.edge_types}
            edges_per_hop = {t: [] for t in self.edge_types}
            for hop in range(self.num_hops):
                new = {t: [] for t in node_sets}
                for edge_type in self.edge_types:
                    src_t = None if edge_type is None else edge_type[0]
                    dst_t = None if edge_type is None else edge_type[-1]
                    target_keys = frontier[dst_t]
                    k = self.num_neighbors[edge_type][hop]
                    if target_keys.numel() == 0 or k == 0:
                        edges_per_hop[edge_type].append(0)
                        continue
                    targets = target_keys % size[dst_t] if self.disjoint else target_keys
                    if tree_time is not None:
                        tree = torch.div(target_keys, size[dst_t], rounding_mode="floor")
                        per_edge = edge_type in self.edge_time
                        times = (self.edge_time[edge_type] if per_edge
                                 else self.node_time[src_t])
                        source, owner, e_id = self.csc[edge_type].sample_temporal(
                            targets, k, tree_time[tree], times, per_edge,
                            self.temporal_strategy, generator)
                    else:
                        source, owner, e_id = self.csc[edge_type].sample(
                            targets, k, self.replace, generator)
                    source_keys = source
                    if self.disjoint:
                        tree = torch.div(target_keys[owner], size[dst_t], rounding_mode="floor")
                        source_keys = tree * size[src_t] + source
                    new[src_t].append(node_sets[src_t].add(source_keys))
                    rows, cols, ids = edges[edge_type]
                    rows.append(node_sets[src_t].lookup(source_keys))
                    cols.append(node_sets[dst_t].lookup(target_keys[owner]))
                    ids.append(e_id)
                    edges_per_hop[edge_type].append(int(e_id.numel()))
                for t in node_sets:
                    frontier[t] = torch.cat(new[t]) if new[t] else torch.zeros(
                        0, dtype=torch.long)
                    nodes_per_hop[t].append(int(frontier[t].numel()))
            out_nodes = {t: s.n_id() for t, s in node_sets.items()}
            out_batch = ({t: s.batch() for t, s in node_sets.items()} if self.disjoint
                         else None)
            out_edges = {t: tuple(torch.cat(p) if p else torch.zeros(0, dtype=torch.long)
                                  for p in parts) for t, parts in edges.items()}
        finally:
            for node_set in node_sets.values():
                node_set.clear()
        return {"n_id": out_nodes, "edges": out_edges, "num_sampled_nodes": nodes_per_hop,
                "num_sampled_edges": edges_per_hop, "batch": out_batch,
                "seed_local": seed_local}


def build_subgraph(sampler: NeighborSampler, out: Dict[str, Any]) -> Union[Data, HeteroData]:
    """The sampled subgraph as a graph of the input's kind: node attributes indexed by
    ``n_id``, edge attributes by ``e_id``."""
    data = sampler.data
    if sampler.hetero:
        result = HeteroData()
        for key, value in data._global_store.items():
            result[key] = value
        for node_type in data.node_types:
            _fill_nodes(result[node_type], data[node_type], out["n_id"][node_type])
            result[node_type].num_sampled_nodes = out["num_sampled_nodes"][node_type]
            if out.get("batch") is not None:
                result[node_type].batch = out["batch"][node_type]
        for edge_type in data.edge_types:
            _fill_edges(sampler, result[edge_type], data[edge_type], out, edge_type)
            result[edge_type].num_sampled_edges = out["num_sampled_edges"][edge_type]
        return result
    result = copy.copy(data)
    for key in list(result.keys()):
        del result[key]
    store = data._store
    for key, value in store.items():
        if not (store.is_node_attr(key) or store.is_edge_attr(key)):
            result[key] = value
    _fill_nodes(result._store, store, out["n_id"][None])
    _fill_edges(sampler, result._store, store, out, None)
    if "x" not in result:
        result.num_nodes = int(out["n_id"][None].numel())
    result.num_sampled_nodes = out["num_sampled_nodes"][None]
    result.num_sampled_edges = out["num_sampled_edges"][None]
    if out.get("batch") is not None:
        result.batch = out["batch"][None]
    return result


def _fill_nodes(target, source, n_id: Tensor) -> None:
    for key in source.keys():
        if source.is_node_attr(key):
            value = source[key]
            target[key] = value.index_select(source._cat_dim(key, value), n_id.to(value.device))
    if "x" not in target:
        target.num_nodes = int(n_id.numel())
    target.n_id = n_id


def _fill_edges(sampler: NeighborSampler, target, source, out: Dict[str, Any],
                edge_type) -> None:
    row, col, e_id = out["edges"][edge_type]
    if sampler.subgraph_type == "induced":
        row, col, e_id = _induced(source.edge_index.cpu(), out, edge_type)
    elif sampler.subgraph_type == "bidirectional":
        row, col, e_id = torch.cat([row, col]), torch.cat([col, row]), torch.cat([e_id, e_id])
    target.edge_index = torch.stack([row, col]).to(source.edge_index.device)
    for key in source.keys():
        if key != "edge_index" and source.is_edge_attr(key):
            value = source[key]
            target[key] = value.index_select(source._cat_dim(key, value), e_id.to(value.device))
    target.e_id = e_id


def _induced(edge_index: Tensor, out: Dict[str, Any], edge_type) -> Tuple[Tensor, ...]:
    src_t = None if edge_type is None else edge_type[0]
    dst_t = None if edge_type is None else edge_type[-1]
    src_ids, dst_ids = out["n_id"][src_t], out["n_id"][dst_t]
    size = max(int(edge_index.max()) + 1 if edge_index.numel() else 0,
               int(src_ids.max()) + 1 if src_ids.numel() else 0,
               int(dst_ids.max()) + 1 if dst_ids.numel() else 0)
    src_local = torch.full((size,), -1, dtype=torch.long)
    dst_local = torch.full((size,), -1, dtype=torch.long)
    src_local[src_ids] = torch.arange(src_ids.numel())
    dst_local[dst_ids] = torch.arange(dst_ids.numel())
    row, col = src_local[edge_index[0]], dst_local[edge_index[1]]
    keep = ((row >= 0) & (col >= 0)).nonzero().view(-1)
    return row[keep], col[keep], keep


class NeighborLoader(torch.utils.data.DataLoader):
    """Mini-batches of seed nodes, each with its sampled neighbourhood (GraphSAGE style).

    Each batch is a graph of the input's kind whose first ``batch_size`` nodes (of the
    input node type) are the seeds, followed by the nodes reached at hop 1, 2, ...; it
    holds every node attribute of those nodes, the sampled edges (local ids) with their
    edge attributes, and ``n_id`` / ``e_id`` (global ids), ``input_id`` (positions in
    ``input_nodes``), ``batch_size``, ``num_sampled_nodes`` and ``num_sampled_edges``
    (per hop). Sampling follows NOTE [neighbour sampling]; with a fixed
    ``torch.manual_seed`` (or ``generator``) the batches repeat exactly.

    Args:
        data (Data or HeteroData): the graph (gfx's or a look-alike).
        num_neighbors (list of int or dict): neighbours sampled per hop (``-1``: all);
            a dict gives a list per edge type of a heterogeneous graph.
        input_nodes (Tensor or str or (str, Tensor), optional): the seed nodes (ids or
            a bool mask; for a heterogeneous graph the node type, optionally with ids).
            All nodes when omitted. (default: ``None``)
        input_time (Tensor, optional): the time of each seed (one per ``input_nodes``
            entry); the seeds' node times when omitted. (default: ``None``)
        replace (bool, optional): sample with replacement. (default: ``False``)
        subgraph_type (str, optional): ``"directional"``, ``"bidirectional"`` or
            ``"induced"``. (default: ``"directional"``)
        disjoint (bool, optional): one tree per seed: a node reached from several seeds
            appears once per seed, and ``batch`` gives each node's seed position.
            (default: ``False``)
        temporal_strategy (str, optional): ``"uniform"`` or ``"last"`` (the most recent
            neighbours). (default: ``"uniform"``)
        time_attr (str, optional): node or edge attribute with times: a seed's tree only
            holds neighbours no later than the seed (implies ``disjoint``).
            (default: ``None``)
        weight_attr (str, optional): edge attribute holding sampling weights: neighbours
            are drawn with probability proportional to them
            (NOTE [weighted neighbour sampling]). (default: ``None``)
        transform (callable, optional): applied to every batch. (default: ``None``)
        transform_sampler_output (callable, optional): unsupported.
            (default: ``None``)
        is_sorted (bool, optional): accepted for compatibility. (default: ``False``)
        filter_per_worker (bool, optional): accepted for compatibility.
            (default: ``None``)
        neighbor_sampler (NeighborSampler, optional): reuse a built sampler.
            (default: ``None``)
        directed (bool, optional): ``False`` means ``subgraph_type="induced"`` (the
            reference's older flag). (default: ``True``)
        **kwargs: ``batch_size``, ``shuffle``, ``drop_last``, ``generator`` ... of
            ``torch.utils.data.DataLoader``.
    """

    def __init__(self, data: Any, num_neighbors: NumNeighbors, input_nodes: Any = None,
                 input_time: Optional[Tensor] = None, replace: bool = False,
                 subgraph_type: str = "directional", disjoint: bool = False,
                 temporal_strategy: str = "uniform", time_attr: Optional[str] = None,
                 weight_attr: Optional[str] = None, transform: Optional[Callable] = None,
                 transform_sampler_output: Optional[Callable] = None, is_sorted: bool = False,
                 filter_per_worker: Optional[bool] = None,
                 neighbor_sampler: Optional[NeighborSampler] = None, directed: bool = True,
                 **kwargs):
        _unsupported("transform_sampler_output", transform_sampler_output, None)
        if not directed:
            subgraph_type = "induced"
        self.neighbor_sampler = neighbor_sampler or NeighborSampler(
            data, num_neighbors, replace, subgraph_type, weight_attr, disjoint, time_attr,
            temporal_strategy)
        if input_time is not None and self.neighbor_sampler.time_attr is None:
            raise ValueError("NeighborLoader: 'input_time' needs 'time_attr'")
        self.input_time = input_time
        self.data = self.neighbor_sampler.data
        self.transform = transform
        self.input_type, self.input_nodes = resolve_input_nodes(self.data, input_nodes)
        self._generator = kwargs.get("generator")
        kwargs.pop("collate_fn", None)
        super().__init__(range(self.input_nodes.numel()), collate_fn=self._collate, **kwargs)

    def _collate(self, positions: List[int]) -> Union[Data, HeteroData]:
        input_id = torch.as_tensor(positions, dtype=torch.long)
        seeds = self.input_nodes[input_id]
        seed_time = self.input_time[input_id] if self.input_time is not None else None
        out = self.neighbor_sampler.sample(seeds, self.input_type, seed_time=seed_time)
        batch = build_subgraph(self.neighbor_sampler, out)
        store = batch[self.input_type] if self.neighbor_sampler.hetero else batch
        store.input_id = input_id
        store.batch_size = int(seeds.numel())
        return batch if self.transform is None else self.transform(batch)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def resolve_input_nodes(data: Union[Data, HeteroData], input_nodes: Any
                        ) -> Tuple[Optional[str], Tensor]:
    """``(node type, node ids)`` of the seeds named by ``input_nodes``."""
    node_type = None
    if isinstance(data, HeteroData):
        if isinstance(input_nodes, str):
            node_type, input_nodes = input_nodes, None
        elif isinstance(input_nodes, (tuple, list)) and len(input_nodes) == 2 \
                and isinstance(input_nodes[0], str):
            node_type, input_nodes = input_nodes
        else:
            raise ValueError("NeighborLoader: for a heterogeneous graph 'input_nodes' must "
                             "be a node type or (node type, ids)")
        if node_type not in data.node_types:
            raise ValueError(f"NeighborLoader: node type {node_type!r} is not in the graph "
                             f"({data.node_types})")
        num_nodes = int(data[node_type].num_nodes or 0)
    else:
        num_nodes = int(data.num_nodes or 0)
    if input_nodes is None:
        return node_type, torch.arange(num_nodes)
    input_nodes = torch.as_tensor(input_nodes)
    if input_nodes.dtype == torch.bool:
        if input_nodes.numel() != num_nodes:
            raise ValueError(f"NeighborLoader: the bool 'input_nodes' has "
                             f"{input_nodes.numel()} entries for {num_nodes} nodes")
        return node_type, input_nodes.nonzero().view(-1)
    input_nodes = input_nodes.long().view(-1)
    if input_nodes.numel() and (int(input_nodes.max()) >= num_nodes
                                or int(input_nodes.min()) < 0):
        raise ValueError(f"NeighborLoader: 'input_nodes' must lie in [0, {num_nodes})")
    return node_type, input_nodes
