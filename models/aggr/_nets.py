"""Calling user networks inside aggregations: the reference's MLP gets the grouping too."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def is_mlp(module: Optional[torch.nn.Module]) -> bool:
    """True for a :class:`gfx.nn.models.MLP` (imported lazily: models import aggregations)."""
    if module is None:
        return False
    from gfx.nn.models.mlp import MLP
    return isinstance(module, MLP)


def apply_net(module: torch.nn.Module, x: Tensor, index: Optional[Tensor] = None,
              dim_size: Optional[int] = None) -> Tensor:
    """``module(x)``; an :class:`MLP` also receives ``batch=index, batch_size=dim_size``
    so that per-graph normalisations inside it see the groups."""
    if is_mlp(module):
        return module(x, batch=index, batch_size=dim_size)
    return module(x)
