"""Randomly dropping edges or nodes of a graph during training."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from .num_nodes import check_edge_index, maybe_num_nodes
from .subgraph import subgraph


def _check_p(fn: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: dropout probability 'p' has to be between 0 and 1, got {p}")


def dropout_edge(edge_index: Tensor, p: float = 0.5, force_undirected: bool = False,
                 training: bool = True) -> Tuple[Tensor, Tensor]:
    """Drop each edge independently with probability ``p``.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        p (float, optional): drop probability. (default: ``0.5``)
        force_undirected (bool, optional): decide once per edge with ``u <= v`` and
            return the kept ones in both directions; edges with ``u > v`` are dropped
            (their reverse stands for them). (default: ``False``)
        training (bool, optional): drop nothing when ``False``. (default: ``True``)

    Returns:
        ``(edge_index, edge_mask)``; with ``force_undirected`` the second value holds the
        ids of the original edges each output edge comes from instead of a mask.
    """
    check_edge_index("dropout_edge", edge_index)
    _check_p("dropout_edge", p)
    if not training or p == 0.0:
        return edge_index, torch.ones(edge_index.size(1), dtype=torch.bool,
                                      device=edge_index.device)
    keep = torch.rand(edge_index.size(1), device=edge_index.device) >= p
    if force_undirected:
        keep &= edge_index[0] <= edge_index[1]
    out = edge_index[:, keep]
    if not force_undirected:
        return out, keep
    ids = keep.nonzero().view(-1)
    return torch.cat([out, out.flip(0)], dim=1), torch.cat([ids, ids])


def dropout_node(edge_index: Tensor, p: float = 0.5, num_nodes: Optional[int] = None,
                 training: bool = True, relabel_nodes: bool = False
                 ) -> Tuple[Tensor, Tensor, Tensor]:
    """Drop each node independently with probability ``p``, and the edges touching it.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        p (float, optional): drop probability. (default: ``0.5``)
        num_nodes (int, optional): number of nodes. (default: ``None``)
        training (bool, optional): drop nothing when ``False``. (default: ``True``)
        relabel_nodes (bool, optional): renumber the kept nodes consecutively.
            (default: ``False``)

    Returns:
        ``(edge_index, edge_mask, node_mask)``: kept edges and the masks of kept edges
        and kept nodes.
    """
    check_edge_index("dropout_node", edge_index)
    _check_p("dropout_node", p)
    n = maybe_num_nodes(edge_index, num_nodes)
    if not training or p == 0.0:
        ones = torch.ones(n, dtype=torch.bool, device=edge_index.device)
        return edge_index, torch.ones(edge_index.size(1), dtype=torch.bool,
                                      device=edge_index.device), ones
    node_mask = torch.rand(n, device=edge_index.device) >= p
    out, _, edge_mask = subgraph(node_mask, edge_index, num_nodes=n,
                                 relabel_nodes=relabel_nodes, return_edge_mask=True)
    return out, edge_mask, node_mask
