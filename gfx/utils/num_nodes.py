"""Inferring the number of nodes of an ``edge_index`` and the 'argument not given' marker."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


class _Missing:
    """Marker for an optional argument that was not passed at all (unlike ``None``)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def maybe_num_nodes(edge_index: Tensor, num_nodes: Optional[int] = None) -> int:
    """``num_nodes`` when given, else ``edge_index.max() + 1`` (``0`` for no edges).

    Args:
        edge_index (Tensor): node ids of any shape (usually ``[2, E]``).
        num_nodes (int, optional): the known number of nodes. (default: ``None``)
    """
    if num_nodes is not None:
        return int(num_nodes)
    return int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0


def check_edge_index(fn: str, edge_index) -> Tensor:
    """Raise a clear error unless ``edge_index`` is an integer ``[2, E]`` tensor."""
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"{fn}: 'edge_index' must be a Tensor, got {type(edge_index).__name__}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"{fn}: 'edge_index' must have shape [2, num_edges], "
                         f"got {tuple(edge_index.shape)}")
    if edge_index.is_floating_point() or edge_index.dtype == torch.bool:
        raise TypeError(f"{fn}: 'edge_index' must hold integer node ids, got {edge_index.dtype}")
    return edge_index
