"""Parameter initialisers shared by the catalogue."""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor


def glorot(value: Any) -> None:
    """Glorot/Xavier uniform: ``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``."""
    if isinstance(value, Tensor):
        bound = math.sqrt(6.0 / (value.size(-2) + value.size(-1)))
        with torch.no_grad():
            value.uniform_(-bound, bound)
    elif value is not None:
        for v in value.parameters() if hasattr(value, "parameters") else value:
            glorot(v)


def uniform(size: int, value: Any) -> None:
    """``U(-1/sqrt(size), 1/sqrt(size))``."""
    if isinstance(value, Tensor):
        bound = 1.0 / math.sqrt(size) if size > 0 else 0.0
        with torch.no_grad():
            value.uniform_(-bound, bound)
    elif value is not None:
        for v in value.parameters() if hasattr(value, "parameters") else value:
            uniform(size, v)


def kaiming_uniform(value: Tensor, fan: int, a: float) -> None:
    """He uniform with leaky-ReLU slope ``a``, as ``torch.nn.Linear`` initialises weights."""
    bound = math.sqrt(6.0 / ((1 + a * a) * fan)) if fan > 0 else 0.0
    with torch.no_grad():
        value.uniform_(-bound, bound)


def zeros(value: Any) -> None:
    if isinstance(value, Tensor):
        with torch.no_grad():
            value.zero_()
    elif value is not None:
        for v in value.parameters() if hasattr(value, "parameters") else value:
            zeros(v)


def ones(value: Any) -> None:
    if isinstance(value, Tensor):
        with torch.no_grad():
            value.fill_(1.0)
    elif value is not None:
        for v in value.parameters() if hasattr(value, "parameters") else value:
            ones(v)


def reset(value: Any) -> None:
    """Call ``reset_parameters()`` on a module and, recursively, on its children."""
    if value is None:
        return
    if hasattr(value, "reset_parameters"):
        value.reset_parameters()
        return
    for child in value.children() if hasattr(value, "children") else []:
        reset(child)
