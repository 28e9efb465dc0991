"""Nodes without edges to other nodes."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from .num_nodes import check_edge_index, maybe_num_nodes


def contains_isolated_nodes(edge_index: Tensor, num_nodes: Optional[int] = None) -> bool:
    """Whether some node has no edge to another node (a self-loop alone does not count).

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        num_nodes (int, optional): number of nodes. (default: ``None``)
    """
    check_edge_index("contains_isolated_nodes", edge_index)
    n = maybe_num_nodes(edge_index, num_nodes)
    keep = edge_index[0] != edge_index[1]
    return edge_index[:, keep].unique().numel() < n


def remove_isolated_nodes(edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                          num_nodes: Optional[int] = None
                          ) -> Tuple[Tensor, Optional[Tensor], Tensor]:
    """Drop the nodes without edges to other nodes and renumber the rest consecutively.

    A kept node keeps one self-loop if it had any (with the attributes of its last one),
    placed after the other edges in node order; loops of dropped nodes go with them.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor, optional): per-edge values, filtered alike. (default: ``None``)
        num_nodes (int, optional): number of nodes. (default: ``None``)

    Returns:
        ``(edge_index, edge_attr, mask)`` where ``mask`` marks the kept nodes.
    """
    check_edge_index("remove_isolated_nodes", edge_index)
    n = maybe_num_nodes(edge_index, num_nodes)
    non_loop = edge_index[0] != edge_index[1]
    mask = torch.zeros(n, dtype=torch.bool, device=edge_index.device)
    mask[edge_index[:, non_loop].reshape(-1)] = True
    new_id = torch.full((n,), -1, dtype=torch.long, device=edge_index.device)
    new_id[mask] = torch.arange(int(mask.sum()), device=edge_index.device)
    kept_loop = ~non_loop & mask[edge_index[0]]
    loop_ids = kept_loop.nonzero().view(-1)
    last = torch.full((n,), -1, dtype=torch.long, device=edge_index.device)
    last.scatter_reduce_(0, edge_index[0, loop_ids].long(), loop_ids, "amax")
    last = last[last >= 0]  # one loop per node, in node order
    keep = torch.cat([non_loop.nonzero().view(-1), last])
    out = new_id[edge_index[:, keep]].to(edge_index.dtype)
    return out, edge_attr[keep] if edge_attr is not None else None, mask
