"""Max pooling over a clustering: ``max_pool``, ``max_pool_x``, ``max_pool_neighbor_x``."""
from __future__ import annotations

from typing import Callable, Optional, Tuple

from torch import Tensor

from gfx.nn.pool.pool import pool_data, pool_neighbor_x, pool_x

__all__ = ["max_pool", "max_pool_x", "max_pool_neighbor_x"]


def max_pool_x(cluster: Tensor, x: Tensor, batch: Optional[Tensor],
               batch_size: Optional[int] = None, size: Optional[int] = None
               ) -> Tuple[Tensor, Optional[Tensor]]:
    """Max-pool node features over the clusters given by ``cluster``.

    .. math::
        \\mathbf{x}'_c = \\max_{i \\,:\\, c_i = c} \\mathbf{x}_i

    Without ``size``, cluster ids are renumbered to ``0 .. C-1`` (ascending) and the
    result is ``(x', batch')`` with ``batch'`` the graph of each cluster (that of its
    node with the largest id).  With ``size``, ids are not renumbered: they index the
    rows of a dense ``[batch_size * size, F]`` result directly (zeros for empty rows),
    so the ids of graph ``b`` should lie in ``[b * size, (b + 1) * size)``, as
    :func:`~gfx.nn.pool.voxel_grid` ids with ``batch`` do; the second entry is then
    ``None``.

    Args:
        cluster (Tensor): ``[N]`` cluster id of every node.
        x (Tensor): ``[N, F]`` node features.
        batch (Tensor, optional): ``[N]`` graph id of every node.
        batch_size (int, optional): number of graphs, with ``size``.
            (default: ``batch.max() + 1``)
        size (int, optional): the maximum number of clusters per graph. (default: ``None``)
    """
    return pool_x(cluster, x, batch, batch_size, size, "max", "max_pool_x")


def max_pool(cluster: Tensor, data, transform: Optional[Callable] = None):
    """Coarsen a graph: every cluster of ``cluster`` becomes one node.

    Node features are the clusters' maxima
    (:math:`\\mathbf{x}'_c = \\max_{i : c_i = c} \\mathbf{x}_i`), positions their means,
    and the edges those between different clusters (an edge ``(i, j)`` becomes
    ``(c_i, c_j)``; edges inside a cluster are dropped, parallel ones merged with their
    ``edge_attr`` summed, sorted by source then target).  Cluster ids are renumbered to
    ``0 .. C-1`` in ascending order; ``batch`` is pooled as in :func:`max_pool_x`.
    Returns a new :class:`~gfx.data.Batch` with ``x``, ``edge_index``, ``edge_attr``,
    ``pos`` and ``batch`` (those that ``data`` has); other attributes are not carried.

    Args:
        cluster (Tensor): ``[N]`` cluster id of every node.
        data (Data): the graph.
        transform (callable, optional): applied to the coarsened graph.
            (default: ``None``)
    """
    return pool_data(cluster, data, transform, "max", "max_pool")


def max_pool_neighbor_x(data, flow: Optional[str] = "source_to_target"):
    """Replace every node's features by the maximum over itself and its neighbours.

    .. math::
        \\mathbf{x}'_i = \\max\\left(\\mathbf{x}_i, \\max_{j \\in \\mathcal{N}(i)}
        \\mathbf{x}_j\\right)

    with :math:`\\mathcal{N}(i)` the sources of the edges into ``i`` (the targets of the
    edges out of ``i`` for ``flow="target_to_source"``).  ``data.x`` is replaced in
    place and ``data`` is returned.

    Args:
        data (Data): the graph.
        flow (str, optional): ``"source_to_target"`` or ``"target_to_source"``.
            (default: ``"source_to_target"``)
    """
    return pool_neighbor_x(data, flow, "max", "max_pool_neighbor_x")
