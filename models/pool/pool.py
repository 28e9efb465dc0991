"""Shared steps of cluster pooling: renumber clusters, pool edges, batch and positions.

Used by :func:`~gfx.nn.pool.max_pool`, :func:`~gfx.nn.pool.avg_pool` and their ``_x``
variants.  A clustering is a vector ``cluster`` with one cluster id per node; ids need
not be consecutive.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from gfx.ops import scatter
from gfx.utils import coalesce, remove_self_loops

__all__: list = []


def check_cluster(owner: str, cluster: Tensor, num_nodes: int) -> None:
    """Refuse a cluster vector that is not a 1-D integer tensor with one id per node."""
    if not isinstance(cluster, Tensor):
        raise TypeError(f"{owner}: 'cluster' must be a Tensor, got {type(cluster).__name__}")
    if cluster.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{owner}: 'cluster' must be int64 or int32, got {cluster.dtype}")
    if cluster.dim() != 1 or cluster.numel() != num_nodes:
        raise ValueError(f"{owner}: 'cluster' must hold one id per node ({num_nodes}), "
                         f"got shape {list(cluster.shape)}")
    if cluster.numel() and int(cluster.min()) < 0:
        raise ValueError(f"{owner}: 'cluster' must not hold negative ids")


def consecutive_cluster(src: Tensor) -> Tuple[Tensor, Tensor]:
    """Renumber cluster ids to ``0 .. C-1`` in ascending order of the original ids.

    Returns ``(cluster, perm)``: the new id of every node, and for every new cluster one
    representative node (the one with the largest node id), used to pool ``batch``.

    Args:
        src (Tensor): ``[N]`` cluster ids.
    """
    unique, cluster = torch.unique(src, sorted=True, return_inverse=True)
    nodes = torch.arange(cluster.numel(), device=src.device)
    perm = scatter(nodes, cluster, 0, unique.numel(), "max")
    return cluster, perm


def pool_edge(cluster: Tensor, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
              reduce: str = "sum") -> Tuple[Tensor, Optional[Tensor]]:
    """The edges between clusters: endpoints mapped to their clusters, edges inside a
    cluster dropped, parallel edges merged (attributes reduced by ``reduce``), sorted.

    Args:
        cluster (Tensor): ``[N]`` consecutive cluster ids.
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor, optional): ``[E, ...]`` edge features. (default: ``None``)
        reduce (str, optional): how parallel edges' attributes merge. (default: ``"sum"``)
    """
    num_clusters = int(cluster.max()) + 1 if cluster.numel() else 0
    edge_index = cluster[edge_index.long()]
    edge_index, edge_attr = remove_self_loops(edge_index, edge_attr)
    if edge_index.numel() == 0:
        return edge_index.view(2, 0), edge_attr
    return coalesce(edge_index, edge_attr, num_clusters, reduce=reduce)


def pool_batch(perm: Tensor, batch: Optional[Tensor]) -> Optional[Tensor]:
    """The batch vector of the clusters: the graph of each cluster's representative."""
    return None if batch is None else batch[perm]


def pool_pos(cluster: Tensor, pos: Optional[Tensor]) -> Optional[Tensor]:
    """Cluster positions: the mean position of each cluster's nodes."""
    if pos is None:
        return None
    num_clusters = int(cluster.max()) + 1 if cluster.numel() else 0
    return scatter(pos, cluster, 0, num_clusters, "mean")


def pool_x(cluster: Tensor, x: Tensor, batch: Optional[Tensor], batch_size: Optional[int],
           size: Optional[int], reduce: str, owner: str
           ) -> Tuple[Tensor, Optional[Tensor]]:
    """The common body of ``max_pool_x`` and ``avg_pool_x`` (see there)."""
    if not isinstance(x, Tensor) or x.dim() == 0:
        raise ValueError(f"{owner}: 'x' must be a [num_nodes, channels] tensor, got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    check_cluster(owner, cluster, x.shape[0])
    if batch is not None and (batch.dim() != 1 or batch.numel() != x.shape[0]):
        raise ValueError(f"{owner}: 'batch' must hold one graph id per node "
                         f"({x.shape[0]}), got shape {list(batch.shape)}")
    if size is not None:
        if batch is None:
            batch = cluster.new_zeros(cluster.numel())
        if batch_size is None:
            batch_size = int(batch.max()) + 1 if batch.numel() else 0
        if cluster.numel() and int(cluster.max()) >= batch_size * size:
            raise ValueError(f"{owner}: cluster id {int(cluster.max())} does not fit "
                             f"batch_size * 'size' = {batch_size} * {size} rows")
        return scatter(x, cluster.long(), 0, batch_size * size, reduce), None
    cluster, perm = consecutive_cluster(cluster)
    out = scatter(x, cluster, 0, perm.numel(), reduce)
    return out, pool_batch(perm, batch)


def pool_data(cluster: Tensor, data, transform, reduce: str, owner: str):
    """The common body of ``max_pool`` and ``avg_pool`` (see there)."""
    from gfx.data import Batch
    num_nodes = data.num_nodes
    check_cluster(owner, cluster, num_nodes)
    cluster, perm = consecutive_cluster(cluster)
    x = None if data.x is None else scatter(data.x, cluster, 0, perm.numel(), reduce)
    edge_index, edge_attr = (None, None) if data.edge_index is None else \
        pool_edge(cluster, data.edge_index, data.edge_attr)
    out = Batch(batch=pool_batch(perm, data.batch), x=x, edge_index=edge_index,
                edge_attr=edge_attr, pos=pool_pos(cluster, data.pos))
    return transform(out) if transform is not None else out


def pool_neighbor_x(data, flow: Optional[str], reduce: str, owner: str):
    """The common body of ``max_pool_neighbor_x`` and ``avg_pool_neighbor_x``."""
    from gfx.utils import add_self_loops
    if flow not in ("source_to_target", "target_to_source"):
        raise ValueError(f"{owner}: 'flow' must be 'source_to_target' or "
                         f"'target_to_source', got {flow!r}")
    x, num_nodes = data.x, data.num_nodes
    edge_index, _ = add_self_loops(data.edge_index, num_nodes=num_nodes)
    src, dst = edge_index[0], edge_index[1]
    if flow == "target_to_source":
        src, dst = dst, src
    data.x = scatter(x[src], dst, 0, num_nodes, reduce)
    return data
