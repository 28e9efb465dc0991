"""Padding a batch of node feature matrices into one dense ``[B, N_max, F]`` tensor."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor


def _graph_sizes(batch: Tensor, batch_size: int) -> Tensor:
    return torch.zeros(batch_size, dtype=torch.long, device=batch.device).scatter_add_(
        0, batch, torch.ones_like(batch))


def to_dense_batch(x: Tensor, batch: Optional[Tensor] = None, fill_value: float = 0.0,
                   max_num_nodes: Optional[int] = None, batch_size: Optional[int] = None
                   ) -> Tuple[Tensor, Tensor]:
    r"""Turn stacked node features of many graphs into a padded dense tensor and a mask.

    Node :math:`v` (the :math:`k`-th node of graph :math:`b = \mathrm{batch}_v`) lands at
    ``out[b, k]``; unused slots hold ``fill_value`` and ``mask[b, k]`` says which slots
    are real nodes.

    Args:
        x (Tensor): node features ``[N, *]``.
        batch (Tensor, optional): graph id of every node, sorted ascending; all nodes in
            one graph when omitted. (default: ``None``)
        fill_value (float, optional): value of the padding slots. (default: ``0.0``)
        max_num_nodes (int, optional): size of the node dimension; nodes past it are
            dropped. The largest graph's size when omitted. (default: ``None``)
        batch_size (int, optional): number of graphs ``B``; ``batch.max() + 1`` when
            omitted. (default: ``None``)

    Returns:
        ``(out [B, N_max, *], mask [B, N_max])``
    """
    if batch is None and max_num_nodes is None:
        return x.unsqueeze(0), torch.ones(1, x.size(0), dtype=torch.bool, device=x.device)
    if batch is None:
        batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
    batch = batch.long()
    if batch.dim() != 1 or batch.numel() != x.size(0):
        raise ValueError(f"to_dense_batch: 'batch' must be 1-D with one entry per row of "
                         f"'x' ({x.size(0)}), got shape {tuple(batch.shape)}")
    if batch.numel() > 1 and bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("to_dense_batch: 'batch' must be sorted ascending (nodes of one "
                         "graph stored together)")
    if batch_size is None:
        batch_size = int(batch.max()) + 1 if batch.numel() > 0 else 1
    sizes = _graph_sizes(batch, batch_size)
    starts = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])
    if max_num_nodes is None:
        max_num_nodes = int(sizes.max()) if sizes.numel() > 0 else 0
    position = torch.arange(batch.numel(), device=x.device) - starts[batch]
    keep = position < max_num_nodes
    slot = batch[keep] * max_num_nodes + position[keep]
    out = x.new_full((batch_size * max_num_nodes,) + tuple(x.shape[1:]), fill_value)
    out[slot] = x[keep]
    mask = torch.zeros(batch_size * max_num_nodes, dtype=torch.bool, device=x.device)
    mask[slot] = True
    return (out.view((batch_size, max_num_nodes) + tuple(x.shape[1:])),
            mask.view(batch_size, max_num_nodes))
