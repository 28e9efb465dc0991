"""Node degrees."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def degree(index: Tensor, num_nodes: Optional[int] = None,
           dtype: Optional[torch.dtype] = None) -> Tensor:
    """Count the occurrences of each node id in the 1-D ``index``.

    Args:
        index (Tensor): node ids, e.g. ``edge_index[1]`` for in-degrees.
        num_nodes (int, optional): output length; ``index.max() + 1`` when omitted.
            (default: ``None``)
        dtype (torch.dtype, optional): output dtype. (default: ``torch.float``)
    """
    if index.dim() != 1:
        raise ValueError(f"degree: 'index' must be 1-D, got shape {tuple(index.shape)}")
    n = num_nodes if num_nodes is not None else (int(index.max()) + 1 if index.numel() else 0)
    out = torch.zeros(n, dtype=dtype or torch.float, device=index.device)
    return out.scatter_add_(0, index.long(), out.new_ones(index.shape[0]))
