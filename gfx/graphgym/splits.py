"""Random splits of items (nodes, edges, graphs) by ``cfg.dataset.split``."""
from __future__ import annotations

from typing import List

import torch
from torch import Tensor

from gfx.graphgym.config import cfg

SPLIT_NAMES = ("train", "val", "test")


def _fractions(num_items: int) -> List[int]:
    """Sizes of the splits of ``num_items`` items by ``cfg.dataset.split``."""
    split = [float(f) for f in cfg.dataset.split]
    if any(f < 0 for f in split) or sum(split) > 1 + 1e-6:
        raise ValueError(f"cfg.dataset.split must be non-negative fractions summing to at "
                         f"most 1, got {split}")
    sizes = [int(round(f * num_items)) for f in split]
    sizes[-1] = min(sizes[-1], num_items - sum(sizes[:-1]))
    return sizes


def _permutation(num_items: int) -> Tensor:
    if not cfg.dataset.shuffle_split:
        return torch.arange(num_items)
    return torch.randperm(num_items, generator=torch.Generator().manual_seed(cfg.seed))


def split_indices(num_items: int) -> List[Tensor]:
    """Item indices of each split (``cfg.dataset.split``, seeded by ``cfg.seed``)."""
    perm, out, start = _permutation(num_items), [], 0
    for size in _fractions(num_items):
        out.append(perm[start:start + size])
        start += size
    return out
