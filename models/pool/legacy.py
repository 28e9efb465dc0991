"""Readouts under their early names: ``GlobalAttention`` and ``global_sort_pool``.

Both are the aggregations of :mod:`gfx.nn.aggr` (:class:`AttentionalAggregation`,
:class:`SortAggregation`) with the early call signatures, so ported code keeps working.
"""
from __future__ import annotations

import warnings
from typing import Optional

import torch
from torch import Tensor

from gfx.nn.aggr.attention import AttentionalAggregation
from gfx.nn.aggr.sort import SortAggregation


class GlobalAttention(AttentionalAggregation):
    """Global soft attention readout (Li et al., "Gated Graph Sequence Neural Networks"),
    the early name of :class:`gfx.nn.aggr.AttentionalAggregation`.

    .. math::
        \\mathbf{r}_i = \\sum_{n=1}^{N_i} \\mathrm{softmax}\\left(h_{\\mathrm{gate}}
        (\\mathbf{x}_n)\\right) \\odot h_{\\mathbf{\\Theta}}(\\mathbf{x}_n)

    with the softmax over the nodes of graph :math:`i`.  Called as ``(x, batch, size)``
    (the early form; ``size`` is the number of graphs), or with the aggregation keywords
    ``index``, ``ptr``, ``dim_size``, ``dim``.
    Constructing it issues a ``DeprecationWarning`` pointing to the new name.

    Args:
        gate_nn (torch.nn.Module): :math:`h_{\\mathrm{gate}}`, mapping ``[N, F]`` to
            ``[N, 1]`` (or ``[N, F_out]``).
        nn (torch.nn.Module, optional): :math:`h_{\\mathbf{\\Theta}}`; the identity when
            ``None``. (default: ``None``)
    """

    def __init__(self, gate_nn: torch.nn.Module, nn: Optional[torch.nn.Module] = None):
        warnings.warn("'GlobalAttention' is deprecated; use "
                      "'gfx.nn.aggr.AttentionalAggregation' instead", DeprecationWarning,
                      stacklevel=2)
        super().__init__(gate_nn, nn)

    def __call__(self, x: Tensor, batch: Optional[Tensor] = None, size: Optional[int] = None,
                 *, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                 dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        if batch is not None and index is not None:
            raise ValueError("GlobalAttention: give the graph of each node as 'batch' or "
                             "'index', not both")
        if size is not None and dim_size is not None and size != dim_size:
            raise ValueError(f"GlobalAttention: 'size'={size} and 'dim_size'={dim_size} "
                             f"disagree")
        index = batch if batch is not None else index
        dim_size = size if size is not None else dim_size
        return super().__call__(x, index, ptr, dim_size, dim)


def global_sort_pool(x: Tensor, index: Optional[Tensor], k: int) -> Tensor:
    """Sort pooling (Zhang et al., "An End-to-End Deep Learning Architecture for Graph
    Classification"): the :math:`k` nodes of each graph with the largest last feature,
    in descending order, concatenated into ``[num_graphs, k * F]`` (zero-padded for
    graphs with fewer nodes).  The early functional form of
    :class:`gfx.nn.aggr.SortAggregation`.

    Args:
        x (Tensor): node features ``[N, F]``.
        index (Tensor): the graph of each node ``[N]`` (``None``: one graph).
        k (int): the number of nodes kept per graph.
    """
    return SortAggregation(k)(x, index)


__all__ = ["GlobalAttention", "global_sort_pool"]
