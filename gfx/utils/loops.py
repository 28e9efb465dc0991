"""Self-loop handling for ``edge_index`` tensors."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor

FillValue = Union[None, float, Tensor, str]


def _num_nodes(edge_index: Tensor, num_nodes) -> int:
    if num_nodes is not None:
        return num_nodes
    return int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0


def remove_self_loops(edge_index: Tensor, edge_attr: Optional[Tensor] = None
                      ) -> Tuple[Tensor, Optional[Tensor]]:
    """Drop every edge ``(i, i)``; ``edge_attr`` rows follow their edges."""
    keep = edge_index[0] != edge_index[1]
    return edge_index[:, keep], None if edge_attr is None else edge_attr[keep]


def _loop_attr(edge_attr: Tensor, fill_value: FillValue, loop_index: Tensor, index: Tensor,
               num_nodes: int) -> Tensor:
    """Attributes of the new self-loops: a constant, or a reduction of incoming ones."""
    shape = (num_nodes,) + tuple(edge_attr.shape[1:])
    if fill_value is None:
        return edge_attr.new_ones(shape)
    if isinstance(fill_value, (int, float)):
        return edge_attr.new_full(shape, float(fill_value))
    if isinstance(fill_value, Tensor):
        return fill_value.to(edge_attr.dtype).expand(shape).clone()
    from gfx.ops import scatter
    return scatter(edge_attr, index, 0, num_nodes, fill_value)


def add_self_loops(edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                   fill_value: FillValue = None,
                   num_nodes: Union[None, int, Tuple[int, int]] = None
                   ) -> Tuple[Tensor, Optional[Tensor]]:
    """Append one self-loop ``(i, i)`` per node, after the existing edges.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor, optional): per-edge weights or features. (default: ``None``)
        fill_value (float or Tensor or str, optional): attribute of the new loops: a
            constant, or a reduction (``"sum"``, ``"mean"``, ``"max"``, ...) of each node's
            incoming attributes; ``None`` means 1. (default: ``None``)
        num_nodes (int or (int, int), optional): number of nodes; for a bipartite
            ``(N_src, N_dst)`` size, ``min`` of the two get loops. (default: ``None``)
    """
    if isinstance(num_nodes, (tuple, list)):
        n = min(num_nodes)
    else:
        n = _num_nodes(edge_index, num_nodes)
    loop = torch.arange(n, device=edge_index.device, dtype=edge_index.dtype)
    loop_index = torch.stack([loop, loop])
    if edge_attr is not None:
        loops = _loop_attr(edge_attr, fill_value, loop_index, edge_index[1], n)
        edge_attr = torch.cat([edge_attr, loops], dim=0)
    return torch.cat([edge_index, loop_index], dim=1), edge_attr


def add_remaining_self_loops(edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                             fill_value: FillValue = None, num_nodes: Optional[int] = None
                             ) -> Tuple[Tensor, Optional[Tensor]]:
    """Give every node exactly one self-loop, keeping the attribute of an existing one.

    Existing loops are removed and re-added after the other edges; a node that already
    had a loop keeps that loop's attribute (the last one, if it had several), the others
    get ``fill_value``.
    """
    n = _num_nodes(edge_index, num_nodes)
    is_loop = edge_index[0] == edge_index[1]
    loop = torch.arange(n, device=edge_index.device, dtype=edge_index.dtype)
    loop_index = torch.stack([loop, loop])
    if edge_attr is not None:
        loops = _loop_attr(edge_attr, fill_value, loop_index, edge_index[1], n)
        existing = is_loop.nonzero().view(-1)
        loops[edge_index[0, existing]] = edge_attr[existing]
        edge_attr = torch.cat([edge_attr[~is_loop], loops], dim=0)
    return torch.cat([edge_index[:, ~is_loop], loop_index], dim=1), edge_attr


def contains_self_loops(edge_index: Tensor) -> bool:
    return bool((edge_index[0] == edge_index[1]).any())


def segregate_self_loops(edge_index: Tensor, edge_attr: Optional[Tensor] = None
                         ) -> Tuple[Tensor, Optional[Tensor], Tensor, Optional[Tensor]]:
    """Split the edges into the non-loops and the self-loops.

    Returns:
        ``(edge_index, edge_attr, loop_edge_index, loop_edge_attr)``, each part in input
        order.
    """
    is_loop = edge_index[0] == edge_index[1]
    if edge_attr is None:
        return edge_index[:, ~is_loop], None, edge_index[:, is_loop], None
    return edge_index[:, ~is_loop], edge_attr[~is_loop], edge_index[:, is_loop], \
        edge_attr[is_loop]


def get_self_loop_attr(edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                       num_nodes: Optional[int] = None) -> Tensor:
    """The attribute of each node's self-loop (its last one), zero for nodes without.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor, optional): per-edge values; ones when omitted.
            (default: ``None``)
        num_nodes (int, optional): number of nodes. (default: ``None``)
    """
    n = _num_nodes(edge_index, num_nodes)
    loops = (edge_index[0] == edge_index[1]).nonzero().view(-1)
    if edge_attr is None:
        edge_attr = torch.ones(edge_index.size(1), device=edge_index.device)
    out = edge_attr.new_zeros((n,) + tuple(edge_attr.shape[1:]))
    out[edge_index[0, loops]] = edge_attr[loops]  # later loops overwrite earlier ones
    return out
