"""Making ``edge_index`` undirected and testing whether it is."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from .coalesce import _apply, coalesce, sort_edge_index
from .num_nodes import MISSING, check_edge_index, maybe_num_nodes


def to_undirected(edge_index: Tensor, edge_attr=MISSING, num_nodes: Optional[int] = None,
                  reduce: str = "add"):
    r"""Add the reverse of every edge, then coalesce.

    .. math::
        \mathcal{E}' = \mathcal{E} \cup \{(v, u) : (u, v) \in \mathcal{E}\}

    An edge and its reverse that both existed have their attributes reduced.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor or list of Tensor, optional): per-edge values; when not passed
            at all, only ``edge_index`` is returned.
        num_nodes (int, optional): number of nodes. (default: ``None``)
        reduce (str, optional): how attributes of merged edges combine (see
            :func:`coalesce`). (default: ``"add"``)
    """
    check_edge_index("to_undirected", edge_index)
    if isinstance(edge_attr, int) and not isinstance(edge_attr, bool):
        edge_attr, num_nodes = MISSING, edge_attr  # the reference's old positional form
    both = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    doubled = _apply(edge_attr, lambda value: torch.cat([value, value], dim=0))
    return coalesce(both, doubled, maybe_num_nodes(edge_index, num_nodes), reduce)


def is_undirected(edge_index: Tensor, edge_attr=None, num_nodes: Optional[int] = None) -> bool:
    """Whether the edges, as a multiset, equal their reverses (attributes included).

    Each copy of ``(u, v)`` needs its own copy of ``(v, u)``: edges are sorted (stably)
    both ways round and compared position by position, attributes alike.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor or list of Tensor, optional): per-edge values that must match
            too. (default: ``None``)
        num_nodes (int, optional): number of nodes. (default: ``None``)
    """
    check_edge_index("is_undirected", edge_index)
    n = maybe_num_nodes(edge_index, num_nodes)
    attr = [] if edge_attr is None else (
        list(edge_attr) if isinstance(edge_attr, (list, tuple)) else [edge_attr])
    forward, forward_attr = sort_edge_index(edge_index, attr, n)
    backward, backward_attr = sort_edge_index(edge_index.flip(0), attr, n)
    if not torch.equal(forward, backward):
        return False
    return all(torch.equal(a, b) for a, b in zip(forward_attr, backward_attr))


__all__ = ["to_undirected", "is_undirected"]
