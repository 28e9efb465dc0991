"""Cluster-GCN: partition the graph once, then train on unions of clusters.

# NOTE [BFS partitioner]
The reference partitions with METIS (a compiled extension). gfx orders the nodes
breadth-first over the undirected graph (one vectorised step per BFS level; every
connected component in turn, isolated nodes last) and cuts that order into
``num_parts`` consecutive pieces of equal size. Nodes close in the graph land in the
same piece, so most edges stay inside a cluster, though the cut is usually larger
than METIS's. Part sizes differ by at most one node.
"""
from __future__ import annotations

import copy
from typing import Any, List, NamedTuple, Optional

import torch
from torch import Tensor

from gfx.data.data import Data
from gfx.data.interop import from_foreign



def bfs_order(edge_index: Tensor, num_nodes: int) -> Tensor:
    """All nodes in breadth-first order over the undirected graph (NOTE [BFS partitioner])."""
    row = torch.cat([edge_index[0], edge_index[1]]).long()
    col = torch.cat([edge_index[1], edge_index[0]]).long()
    order_edges = torch.argsort(row, stable=True)
    col = col[order_edges]
    deg = torch.bincount(row, minlength=num_nodes)
    rowptr = torch.cat([deg.new_zeros(1), deg.cumsum(0)])
    visited = deg == 0  # isolated nodes go last
    order: List[Tensor] = []
    cursor = 0
    while True:
        remaining = (~visited[cursor:]).nonzero()
        if remaining.numel() == 0:
            break
        cursor += int(remaining[0])
        frontier = torch.tensor([cursor])
        visited[cursor] = True
        while frontier.numel() > 0:
            order.append(frontier)
            start, count = rowptr[frontier], deg[frontier]
            owner = torch.repeat_interleave(torch.arange(frontier.numel()), count)
            offset = torch.arange(owner.numel()) - (torch.cumsum(count, 0) - count)[owner]
            neighbours = col[start[owner] + offset]
            neighbours = neighbours[~visited[neighbours]]
            uniq, inverse = torch.unique(neighbours, return_inverse=True)
            first = torch.full((uniq.numel(),), neighbours.numel(), dtype=torch.long)
            first.scatter_reduce_(0, inverse, torch.arange(neighbours.numel()), "amin")
            frontier = neighbours[first.sort().values]
            visited[frontier] = True
    order.append((deg == 0).nonzero().view(-1))
    return torch.cat(order)


class Partition(NamedTuple):
    """The clustering of a graph: CSR of the node-permuted graph and the cluster bounds."""
    rowptr: Tensor
    col: Tensor
    partptr: Tensor
    node_perm: Tensor
    edge_perm: Tensor
    sparse_format: str


class ClusterData(torch.utils.data.Dataset):
    """Partition a graph into ``num_parts`` clusters (NOTE [BFS partitioner]).

    ``data`` becomes the graph with nodes renumbered cluster by cluster (``node_perm``
    maps new ids to old ones) and edges sorted by source; ``cluster_data[i]`` is the
    subgraph of cluster ``i``.

    Args:
        data (Data): the graph.
        num_parts (int): number of clusters.
        recursive (bool, optional): accepted for compatibility (METIS option).
            (default: ``False``)
        save_dir (str, optional): accepted for compatibility; nothing is cached.
            (default: ``None``)
        filename (str, optional): accepted for compatibility. (default: ``None``)
        log (bool, optional): accepted for compatibility. (default: ``True``)
        keep_inter_cluster_edges (bool, optional): ``cluster_data[i]`` keeps the edges
            leaving the cluster (their targets are then global ids). (default: ``False``)
        sparse_format (str, optional): ``"csr"`` or ``"csc"`` (whether edges are grouped
            by source or by target). (default: ``"csr"``)
    """

    def __init__(self, data: Any, num_parts: int, recursive: bool = False,
                 save_dir: Optional[str] = None, filename: Optional[str] = None,
                 log: bool = True, keep_inter_cluster_edges: bool = False,
                 sparse_format: str = "csr"):
        data = from_foreign(data, "ClusterData: 'data'")
        if not isinstance(data, Data) or data.edge_index is None:
            raise ValueError("ClusterData: 'data' must be a homogeneous graph with "
                             "'edge_index'")
        if sparse_format not in ("csr", "csc"):
            raise ValueError(f"ClusterData: 'sparse_format' must be 'csr' or 'csc', got "
                             f"{sparse_format!r}")
        n = int(data.num_nodes)
        if not 0 < num_parts <= max(n, 1):
            raise ValueError(f"ClusterData: 'num_parts' must lie in [1, {n}], got {num_parts}")
        self.num_parts = num_parts
        self.recursive = recursive
        self.keep_inter_cluster_edges = keep_inter_cluster_edges
        structure = data.edge_index.cpu()  # partitioning runs on the CPU
        node_perm = bfs_order(structure, n)
        new_id = torch.empty(n, dtype=torch.long)
        new_id[node_perm] = torch.arange(n)
        edge_index = new_id[structure]
        key = edge_index[0] if sparse_format == "csr" else edge_index[1]
        edge_perm = torch.argsort(key * max(n, 1) + (edge_index[1] if sparse_format == "csr"
                                                     else edge_index[0]), stable=True)
        self.data = self._permute(data, node_perm, edge_perm, new_id)
        counts = torch.bincount(key, minlength=n)
        rowptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        other = edge_index[:, edge_perm][1 if sparse_format == "csr" else 0]
        partptr = torch.div(torch.arange(num_parts + 1) * n, num_parts, rounding_mode="floor")
        self.partition = Partition(rowptr, other, partptr, node_perm, edge_perm, sparse_format)

    @staticmethod
    def _permute(data: Data, node_perm: Tensor, edge_perm: Tensor, new_id: Tensor) -> Data:
        store = data._store
        out = copy.copy(data)
        for key in list(out.keys()):
            value = store[key]
            if key == "edge_index":
                out[key] = new_id[value.cpu()][:, edge_perm].to(value.device)
            elif store.is_node_attr(key):
                out[key] = value.index_select(store._cat_dim(key, value),
                                              node_perm.to(value.device))
            elif store.is_edge_attr(key):
                out[key] = value.index_select(store._cat_dim(key, value),
                                              edge_perm.to(value.device))
        return out

    def __len__(self) -> int:
        return self.num_parts

    def __getitem__(self, idx: int) -> Data:
        start, end = int(self.partition.partptr[idx]), int(self.partition.partptr[idx + 1])
        nodes = torch.arange(start, end)
        if not self.keep_inter_cluster_edges:
            return cluster_graph(self.data, nodes)
        edge_index = self.data.edge_index.cpu()
        keep = ((edge_index[0] >= start) & (edge_index[0] < end)).nonzero().view(-1)
        out = cluster_graph(self.data, nodes)
        out.edge_index = torch.stack([edge_index[0, keep] - start, edge_index[1, keep]]).to(
            self.data.edge_index.device)
        store = self.data._store
        for key in self.data.keys():
            if key != "edge_index" and store.is_edge_attr(key):
                out[key] = self.data[key][keep.to(self.data[key].device)]
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_parts={self.num_parts})"


def cluster_graph(data: Data, nodes: Tensor) -> Data:
    """The subgraph of ``data`` induced by ``nodes`` (attributes cut alike)."""
    from .subgraph_batch import node_induced_graph
    return node_induced_graph(data, nodes)[0]


class ClusterLoader(torch.utils.data.DataLoader):
    """Batches of ``batch_size`` clusters of a :class:`ClusterData`, merged into the
    subgraph induced by their nodes (edges between the chosen clusters included).

    Args:
        cluster_data (ClusterData): the partitioned graph.
        **kwargs: ``batch_size`` (clusters per batch), ``shuffle`` ... of
            ``torch.utils.data.DataLoader``.
    """

    def __init__(self, cluster_data: ClusterData, **kwargs):
        if not isinstance(cluster_data, ClusterData):
            raise TypeError(f"ClusterLoader: 'cluster_data' must be a ClusterData, got "
                            f"{type(cluster_data).__name__}")
        self.cluster_data = cluster_data
        kwargs.pop("collate_fn", None)
        super().__init__(range(len(cluster_data)), collate_fn=self._collate, **kwargs)

    def _collate(self, clusters: List[int]) -> Data:
        partptr = self.cluster_data.partition.partptr
        nodes = torch.cat([torch.arange(int(partptr[c]), int(partptr[c + 1]))
                           for c in clusters])
        return cluster_graph(self.cluster_data.data, nodes)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
