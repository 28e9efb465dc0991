"""One-hot encoding of class ids."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def one_hot(index: Tensor, num_classes: Optional[int] = None,
            dtype: Optional[torch.dtype] = None) -> Tensor:
    """``out[i, index[i]] = 1``, zeros elsewhere.

    Args:
        index (Tensor): 1-D integer class ids.
        num_classes (int, optional): width; ``index.max() + 1`` when omitted.
            (default: ``None``)
        dtype (torch.dtype, optional): output dtype. (default: ``torch.float``)
    """
    if index.dim() != 1:
        raise ValueError(f"one_hot: 'index' must be 1-D, got shape {tuple(index.shape)}")
    if index.is_floating_point():
        raise TypeError(f"one_hot: 'index' must hold integers, got {index.dtype}")
    if num_classes is None:
        num_classes = int(index.max()) + 1 if index.numel() > 0 else 0
    elif index.numel() > 0 and (int(index.max()) >= num_classes or int(index.min()) < 0):
        raise ValueError(f"one_hot: 'index' values must lie in [0, {num_classes}), got "
                         f"[{int(index.min())}, {int(index.max())}]")
    out = torch.zeros(index.numel(), num_classes, dtype=dtype or torch.float,
                      device=index.device)
    return out.scatter_(1, index.long().view(-1, 1), 1)
