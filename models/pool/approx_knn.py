"""``approx_knn`` and ``approx_knn_graph``: k-NN search whose answers may be approximate.

gfx answers them exactly, with the blocked, batch-aware search of
:func:`gfx.nn.pool.knn` (NOTE [blocked neighbour search]): recall 1.0, bounded memory,
and no extra dependency.  The reference library builds a pynndescent graph per example
instead, which trades recall for speed on large, high-dimensional sets.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.nn.pool.knn import knn, knn_graph


def approx_knn(x: Tensor, y: Tensor, k: int, batch_x: Optional[Tensor] = None,
               batch_y: Optional[Tensor] = None) -> Tensor:
    r"""For each point of ``y``, ``k`` nearest points of ``x`` in the same example.

    .. math::
        \mathcal{N}_k(\mathbf{y}_i) = \operatorname{arg\,min}_{S \subseteq
        \{j : b^x_j = b^y_i\}, |S| = k} \sum_{j \in S}
        \lVert \mathbf{y}_i - \mathbf{x}_j \rVert_2

    Computed exactly (recall 1.0; see the module docstring).  Returns ``[2, num_pairs]``:
    row 0 indexes ``y``, row 1 indexes ``x``, grouped by query in increasing distance.

    Args:
        x (Tensor): candidates ``[N, F]``.
        y (Tensor): queries ``[M, F]``.
        k (int): neighbours per query.
        batch_x (LongTensor, optional): example of each candidate. (default: ``None``)
        batch_y (LongTensor, optional): example of each query. (default: ``None``)
    """
    return knn(x, y, k, batch_x, batch_y)


def approx_knn_graph(x: Tensor, k: int, batch: Optional[Tensor] = None, loop: bool = False,
                     flow: str = "source_to_target") -> Tensor:
    r"""Edges from every point to ``k`` nearest points of its example.

    Computed exactly (recall 1.0), as :func:`gfx.nn.pool.knn_graph`: for
    ``flow="source_to_target"`` ``edge_index[1]`` is the centre and ``edge_index[0]``
    a neighbour; without ``loop`` a point is not its own neighbour.

    Args:
        x (Tensor): points ``[N, F]``.
        k (int): neighbours per point.
        batch (LongTensor, optional): example of each point. (default: ``None``)
        loop (bool, optional): allow self-loops. (default: ``False``)
        flow (str, optional): ``"source_to_target"`` or ``"target_to_source"``.
            (default: ``"source_to_target"``)
    """
    return knn_graph(x, k, batch, loop, flow)


for _name in ("approx_knn", "approx_knn_graph"):
    torch.fx.wrap(_name)

__all__ = ["approx_knn", "approx_knn_graph"]
