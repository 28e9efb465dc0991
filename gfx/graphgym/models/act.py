"""Activations by name: each registry entry returns a fresh ``torch.nn.Module``.

``relu``, ``selu``, ``prelu``, ``elu``, ``lrelu_01``/``lrelu_025``/``lrelu_05`` (leaky
ReLU with slope 0.1/0.25/0.5), ``swish`` (SiLU), ``gelu``, ``tanh``, ``sigmoid`` and
``identity``.  The in-place variants follow ``cfg.mem.inplace``.
"""
from __future__ import annotations

import torch

from gfx.graphgym.config import cfg
from gfx.graphgym.register import act_dict, register_act, register_replaceable_default


def relu() -> torch.nn.Module:
    """:math:`\\max(x, 0)`."""
    return torch.nn.ReLU(inplace=cfg.mem.inplace)


def selu() -> torch.nn.Module:
    """Scaled exponential linear unit."""
    return torch.nn.SELU(inplace=cfg.mem.inplace)


def prelu() -> torch.nn.Module:
    """Leaky ReLU with a learned slope (one parameter, initialised to 0.25)."""
    return torch.nn.PReLU()


def elu() -> torch.nn.Module:
    """Exponential linear unit."""
    return torch.nn.ELU(inplace=cfg.mem.inplace)


def lrelu_01() -> torch.nn.Module:
    """Leaky ReLU with slope 0.1."""
    return torch.nn.LeakyReLU(0.1, inplace=cfg.mem.inplace)


def lrelu_025() -> torch.nn.Module:
    """Leaky ReLU with slope 0.25."""
    return torch.nn.LeakyReLU(0.25, inplace=cfg.mem.inplace)


def lrelu_05() -> torch.nn.Module:
    """Leaky ReLU with slope 0.5."""
    return torch.nn.LeakyReLU(0.5, inplace=cfg.mem.inplace)


def swish() -> torch.nn.Module:
    """:math:`x \\, \\sigma(x)` (SiLU)."""
    return torch.nn.SiLU(inplace=cfg.mem.inplace)


for _name, _factory in (("relu", relu), ("selu", selu), ("prelu", prelu), ("elu", elu),
                        ("lrelu_01", lrelu_01), ("lrelu_025", lrelu_025),
                        ("lrelu_05", lrelu_05)):
    register_act(_name, _factory)
# Beyond the reference's defaults: user code may register these names itself.
for _name, _factory in (("swish", swish), ("gelu", torch.nn.GELU), ("tanh", torch.nn.Tanh),
                        ("sigmoid", torch.nn.Sigmoid), ("identity", torch.nn.Identity)):
    register_replaceable_default(act_dict, _name, _factory)
