"""Average pooling over a clustering: ``avg_pool``, ``avg_pool_x``, ``avg_pool_neighbor_x``."""
from __future__ import annotations

from typing import Callable, Optional, Tuple

from torch import Tensor

from gfx.nn.pool.pool import pool_data, pool_neighbor_x, pool_x

__all__ = ["avg_pool", "avg_pool_x", "avg_pool_neighbor_x"]


def avg_pool_x(cluster: Tensor, x: Tensor, batch: Optional[Tensor],
               batch_size: Optional[int] = None, size: Optional[int] = None
               ) -> Tuple[Tensor, Optional[Tensor]]:
    """Average node features over the clusters given by ``cluster``.

    .. math::
        \\mathbf{x}'_c = \\frac{1}{|\\{i : c_i = c\\}|} \\sum_{i \\,:\\, c_i = c}
        \\mathbf{x}_i

    Outputs as in :func:`~gfx.nn.pool.max_pool_x`: ``(x', batch')`` with renumbered
    clusters, or with ``size`` a dense ``[batch_size * size, F]`` result indexed by the
    ids as given (zeros for empty rows) and ``None``.

    Args:
        cluster (Tensor): ``[N]`` cluster id of every node.
        x (Tensor): ``[N, F]`` node features.
        batch (Tensor, optional): ``[N]`` graph id of every node.
        batch_size (int, optional): number of graphs, with ``size``.
            (default: ``batch.max() + 1``)
        size (int, optional): the maximum number of clusters per graph. (default: ``None``)
    """
    return pool_x(cluster, x, batch, batch_size, size, "mean", "avg_pool_x")


def avg_pool(cluster: Tensor, data, transform: Optional[Callable] = None):
    """Coarsen a graph: every cluster of ``cluster`` becomes one node with the mean
    features of its nodes.

    .. math::
        \\mathbf{x}'_c = \\frac{1}{|\\{i : c_i = c\\}|} \\sum_{i \\,:\\, c_i = c}
        \\mathbf{x}_i

    Edges, positions and the batch vector are pooled as in
    :func:`~gfx.nn.pool.max_pool`.

    Args:
        cluster (Tensor): ``[N]`` cluster id of every node.
        data (Data): the graph.
        transform (callable, optional): applied to the coarsened graph.
            (default: ``None``)
    """
    return pool_data(cluster, data, transform, "mean", "avg_pool")


def avg_pool_neighbor_x(data, flow: Optional[str] = "source_to_target"):
    """Replace every node's features by the mean over itself and its neighbours.

    .. math::
        \\mathbf{x}'_i = \\frac{1}{|\\mathcal{N}(i)| + 1} \\left(\\mathbf{x}_i +
        \\sum_{j \\in \\mathcal{N}(i)} \\mathbf{x}_j\\right)

    with :math:`\\mathcal{N}(i)` the sources of the edges into ``i`` counted with
    multiplicity (an existing self-loop counts as a neighbour; the added
    :math:`\\mathbf{x}_i` term is always there), or the targets of the edges out of
    ``i`` for ``flow="target_to_source"``.  ``data.x`` is replaced in place and
    ``data`` is returned.

    Args:
        data (Data): the graph.
        flow (str, optional): ``"source_to_target"`` or ``"target_to_source"``.
            (default: ``"source_to_target"``)
    """
    return pool_neighbor_x(data, flow, "mean", "avg_pool_neighbor_x")
