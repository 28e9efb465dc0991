"""Global pooling: one readout vector per graph of a mini-batch.

A mini-batch of graphs is described by a ``batch`` vector that assigns every node to its
graph (``batch[n] = b`` for a node ``n`` of graph ``b``).  The readouts here reduce all
nodes of a graph with one :func:`gfx.ops.scatter` along the node axis, so they lower to
a single primitive.  The helpers :func:`graph_count`, :func:`graph_mean_per_node` and
:func:`check_batch` serve the normalisation layers (``gfx.nn.norm``), which need the
same per-graph statistics.

# NOTE [number of graphs while tracing]
Without ``size``, the number of graphs is ``batch.max() + 1``: a value read from the
data, which ``torch.fx`` cannot see while tracing.  :func:`num_graphs` is therefore
declared with ``torch.fx.wrap``: a captured graph holds one call to it, and the count is
computed when the graph runs.  Pass ``size`` (``batch_size``) to avoid reading the data.
The rank of a traced ``x`` is unknown as well, so traced readouts take ``x`` to be
``[N, F]`` (the 1-D and dense ``[B, N, F]`` forms are eager-only).
"""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor

import gfx.ops
from gfx.levels import graph_level_function
from gfx.ops._checks import is_tracing

IntLike = Union[int, torch.fx.Proxy]


def num_graphs(batch: Tensor) -> int:
    """``batch.max() + 1``, or 0 for an empty batch vector (see NOTE [number of graphs
    while tracing])."""
    return int(batch.max()) + 1 if batch.numel() > 0 else 0


torch.fx.wrap("num_graphs")


def graph_count(batch: Tensor, size: Optional[int] = None) -> IntLike:
    """The number of graphs: ``size`` when given, else :func:`num_graphs` of ``batch``.

    Args:
        batch (Tensor): the batch vector.
        size (int, optional): the number of graphs, if known. (default: ``None``)
    """
    if size is not None:
        return size
    return num_graphs(batch)


def check_batch(owner: str, x: Tensor, batch: Optional[Tensor], dim: int = -2) -> None:
    """Eager validation of a ``batch`` vector against the node axis ``dim`` of ``x``.

    Skipped while tracing (an fx proxy has no shape or dtype to check).

    Args:
        owner (str): the layer or function named in error messages.
        x (Tensor): the node features.
        batch (Tensor, optional): the batch vector. (default: ``None``)
        dim (int, optional): the node axis of ``x``. (default: ``-2``)
    """
    if not isinstance(x, Tensor) and not is_tracing(x):
        raise TypeError(f"{owner}: 'x' must be a Tensor, got {type(x).__name__}")
    if batch is None or is_tracing(x, batch):
        return
    if not isinstance(batch, Tensor):
        raise TypeError(f"{owner}: 'batch' must be a Tensor or None, got "
                        f"{type(batch).__name__}")
    if batch.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{owner}: 'batch' must be int64 or int32, got {batch.dtype}")
    if batch.dim() != 1:
        raise ValueError(f"{owner}: 'batch' must be 1-D, got shape {list(batch.shape)}")
    if x.dim() == 0:
        raise ValueError(f"{owner}: 'x' must have a node axis, got a scalar")
    if batch.numel() != x.shape[dim]:
        raise ValueError(f"{owner}: 'batch' has {batch.numel()} entries but 'x' has "
                         f"{x.shape[dim]} nodes (shape {list(x.shape)})")


def _node_axis(x: Tensor) -> int:
    # Traced inputs are taken to be [N, F]: their rank cannot steer Python control flow.
    if is_tracing(x):
        return -2
    return -1 if x.dim() == 1 else -2


def _pool(owner: str, x: Tensor, batch: Optional[Tensor], size: Optional[int],
          reduce: str) -> Tensor:
    dim = _node_axis(x)
    check_batch(owner, x, batch, dim)
    if batch is None:
        index = torch.zeros(x.shape[dim], dtype=torch.long, device=x.device)
        out = gfx.ops.scatter(x, index, dim, 1, reduce)
        # A dense batch [B, N, F] reads out to [B, F]; a single graph [N, F] to [1, F].
        return out if is_tracing(x) or x.dim() <= 2 else out.squeeze(dim)
    return gfx.ops.scatter(x, batch, dim, graph_count(batch, size), reduce)


@graph_level_function
def global_add_pool(x: Tensor, batch: Optional[Tensor], size: Optional[int] = None) -> Tensor:
    """Sum of the node features of each graph.

    .. math::
        \\mathbf{r}_b = \\sum_{n \\,:\\, \\mathrm{batch}_n = b} \\mathbf{x}_n

    Args:
        x (Tensor): node features ``[N, F]`` (also ``[N]``; with ``batch=None`` also a
            dense batch ``[B, N, F]``).
        batch (Tensor, optional): graph id of every node, ``[N]``; ``None`` means that
            all nodes form one graph.
        size (int, optional): the number of graphs :math:`B`; ``batch.max() + 1`` when
            omitted. (default: ``None``)

    Shapes: ``[N, F]`` -> ``[B, F]``; a graph without nodes gives 0.
    """
    return _pool("global_add_pool", x, batch, size, "sum")


@graph_level_function
def global_mean_pool(x: Tensor, batch: Optional[Tensor], size: Optional[int] = None) -> Tensor:
    """Mean of the node features of each graph.

    .. math::
        \\mathbf{r}_b = \\frac{1}{N_b} \\sum_{n \\,:\\, \\mathrm{batch}_n = b} \\mathbf{x}_n

    Args:
        x (Tensor): node features ``[N, F]`` (also ``[N]``; with ``batch=None`` also a
            dense batch ``[B, N, F]``).
        batch (Tensor, optional): graph id of every node, ``[N]``; ``None`` means that
            all nodes form one graph.
        size (int, optional): the number of graphs :math:`B`; ``batch.max() + 1`` when
            omitted. (default: ``None``)

    Shapes: ``[N, F]`` -> ``[B, F]``; a graph without nodes gives 0 (not NaN).
    """
    return _pool("global_mean_pool", x, batch, size, "mean")


@graph_level_function
def global_max_pool(x: Tensor, batch: Optional[Tensor], size: Optional[int] = None) -> Tensor:
    """Channel-wise maximum of the node features of each graph.

    .. math::
        \\mathbf{r}_b = \\max_{n \\,:\\, \\mathrm{batch}_n = b} \\mathbf{x}_n

    Args:
        x (Tensor): node features ``[N, F]`` (also ``[N]``; with ``batch=None`` also a
            dense batch ``[B, N, F]``).
        batch (Tensor, optional): graph id of every node, ``[N]``; ``None`` means that
            all nodes form one graph.
        size (int, optional): the number of graphs :math:`B`; ``batch.max() + 1`` when
            omitted. (default: ``None``)

    Shapes: ``[N, F]`` -> ``[B, F]``; a graph without nodes gives 0 (never ``-inf``),
    also for ``batch=None`` and no nodes at all.  Tied maxima share the gradient equally.
    """
    return _pool("global_max_pool", x, batch, size, "max")


def graph_mean_per_node(x: Tensor, batch: Optional[Tensor],
                        size: Optional[int] = None) -> Tensor:
    """The mean of ``x`` over each node's graph, repeated for every node (``[N, F]``).

    With ``batch=None`` all nodes form one graph and the result is ``[1, F]``
    (it broadcasts against ``x``).

    Args:
        x (Tensor): node features ``[N, F]``.
        batch (Tensor, optional): graph id of every node. (default: ``None``)
        size (int, optional): the number of graphs. (default: ``None``)
    """
    if batch is None:
        return x.mean(dim=0, keepdim=True)
    mean = gfx.ops.scatter(x, batch, 0, graph_count(batch, size), "mean")
    return gfx.ops.gather(mean, batch, 0)


__all__ = ["global_add_pool", "global_mean_pool", "global_max_pool"]
