"""Splitting batched tensors back into per-graph pieces."""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import Tensor


def _sizes(batch: Tensor, batch_size: Optional[int]) -> Tensor:
    if batch.dim() != 1:
        raise ValueError(f"unbatch: 'batch' must be 1-D, got shape {tuple(batch.shape)}")
    if batch.numel() > 1 and bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("unbatch: 'batch' must be sorted ascending")
    if batch_size is None:
        batch_size = int(batch.max()) + 1 if batch.numel() else 0
    return torch.bincount(batch.long(), minlength=batch_size)


def unbatch(src: Tensor, batch: Tensor, dim: int = 0,
            batch_size: Optional[int] = None) -> List[Tensor]:
    """Split ``src`` along ``dim`` into one piece per graph of the sorted ``batch`` vector.

    Args:
        src (Tensor): the batched values.
        batch (Tensor): graph id of every slice along ``dim``, sorted.
        dim (int, optional): the dimension to split. (default: ``0``)
        batch_size (int, optional): number of graphs. (default: ``None``)
    """
    sizes = _sizes(batch, batch_size)
    if src.size(dim) != batch.numel():
        raise ValueError(f"unbatch: 'src' has {src.size(dim)} entries along dim {dim} but "
                         f"'batch' has {batch.numel()}")
    return list(src.split(sizes.tolist(), dim))


def unbatch_edge_index(edge_index: Tensor, batch: Tensor,
                       batch_size: Optional[int] = None) -> List[Tensor]:
    """Split a batched ``edge_index`` into per-graph ones with graph-local node ids.

    One entry per graph of ``batch`` (or ``batch_size``); the reference instead stops at
    the last graph that has edges when ``batch_size`` is omitted.

    Args:
        edge_index (Tensor): ``[2, E]`` edges of the batch, each inside one graph.
        batch (Tensor): graph id of every node, sorted.
        batch_size (int, optional): number of graphs. (default: ``None``)
    """
    sizes = _sizes(batch, batch_size)
    starts = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])
    graph = batch[edge_index[0]].long()
    order = torch.argsort(graph, stable=True)
    edge_counts = torch.bincount(graph, minlength=sizes.numel())
    local = (edge_index - starts[graph])[:, order]
    return list(local.split(edge_counts.tolist(), dim=1))
