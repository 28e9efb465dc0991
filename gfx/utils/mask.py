"""Conversions between index vectors and boolean masks."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def index_to_mask(index: Tensor, size: Optional[int] = None) -> Tensor:
    """A boolean vector of length ``size`` that is ``True`` exactly at ``index``.

    Args:
        index (Tensor): 1-D integer positions.
        size (int, optional): length of the mask; ``index.max() + 1`` when omitted.
            (default: ``None``)
    """
    index = index.view(-1)
    if size is None:
        size = int(index.max()) + 1 if index.numel() > 0 else 0
    elif index.numel() > 0 and int(index.max()) >= size:
        raise ValueError(f"index_to_mask: 'index' holds {int(index.max())}, which does not "
                         f"fit a mask of 'size' {size}")
    mask = torch.zeros(size, dtype=torch.bool, device=index.device)
    mask[index] = True
    return mask


def mask_to_index(mask: Tensor) -> Tensor:
    """The positions (ascending) at which the boolean ``mask`` is ``True``."""
    if mask.dtype != torch.bool:
        raise TypeError(f"mask_to_index: 'mask' must be a bool tensor, got {mask.dtype}")
    return mask.nonzero(as_tuple=False).view(-1)
