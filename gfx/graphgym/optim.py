"""Optimizers and learning-rate schedulers by name (``cfg.optim``)."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Iterator, List, Optional

from torch.nn import Parameter
from torch.optim import SGD, Adam, Optimizer
from torch.optim.lr_scheduler import CosineAnnealingLR, MultiStepLR, StepLR

from gfx.graphgym.register import (optimizer_dict, register_optimizer,
                                          register_scheduler, resolve, scheduler_dict)


@dataclass
class OptimizerConfig:
    """The optimizer options (the ``cfg.optim`` group holds the same names).

    Args:
        optimizer (str): a registered optimizer (``adam``, ``sgd``).
        base_lr (float): the learning rate.
        weight_decay (float): the L2 penalty.
        momentum (float): SGD momentum.
    """

    optimizer: str = "adam"
    base_lr: float = 0.01
    weight_decay: float = 5e-4
    momentum: float = 0.9


@dataclass
class SchedulerConfig:
    """The scheduler options (the ``cfg.optim`` group holds the same names).

    Args:
        scheduler (str, optional): a registered scheduler (``none``, ``step``, ``cos``).
        steps (list of int): epochs at which ``step`` decays the rate.
        lr_decay (float): the factor of each ``step`` decay.
        max_epoch (int): the number of epochs (period of ``cos``).
    """

    scheduler: Optional[str] = "cos"
    steps: List[int] = field(default_factory=lambda: [30, 60, 90])
    lr_decay: float = 0.1
    max_epoch: int = 200


@register_optimizer("adam")
def adam_optimizer(params: Iterator[Parameter], base_lr: float,
                   weight_decay: float) -> Adam:
    """Adam with learning rate ``base_lr`` and L2 penalty ``weight_decay``."""
    return Adam(params, lr=base_lr, weight_decay=weight_decay)


@register_optimizer("sgd")
def sgd_optimizer(params: Iterator[Parameter], base_lr: float, momentum: float,
                  weight_decay: float) -> SGD:
    """SGD with momentum."""
    return SGD(params, lr=base_lr, momentum=momentum, weight_decay=weight_decay)


@register_scheduler("none")
def none_scheduler(optimizer: Optimizer, max_epoch: int) -> StepLR:
    """A constant learning rate."""
    return StepLR(optimizer, step_size=max_epoch + 1)


@register_scheduler("step")
def step_scheduler(optimizer: Optimizer, steps: List[int], lr_decay: float) -> MultiStepLR:
    """Multiply the rate by ``lr_decay`` at each epoch of ``steps``."""
    return MultiStepLR(optimizer, milestones=list(steps), gamma=lr_decay)


@register_scheduler("cos")
def cos_scheduler(optimizer: Optimizer, max_epoch: int) -> CosineAnnealingLR:
    """Cosine annealing from the base rate to 0 over ``max_epoch`` epochs."""
    return CosineAnnealingLR(optimizer, T_max=max_epoch)


def _call_with_options(func, first: Any, cfg: Any, owner: str):
    """``func(first, **options)``, each option read from ``cfg`` by parameter name."""
    params = list(inspect.signature(func).parameters.values())[1:]
    kwargs = {}
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if hasattr(cfg, param.name):
            kwargs[param.name] = getattr(cfg, param.name)
        elif param.default is param.empty:
            raise ValueError(f"{owner}: '{func.__name__}' needs option '{param.name}', "
                             f"which the config does not have")
    return func(first, **kwargs)


def create_optimizer(params: Iterator[Parameter], cfg: Any) -> Any:
    """Build the optimizer named by ``cfg.optimizer`` over the trainable ``params``.

    Args:
        params (iterator of Parameter): the model parameters.
        cfg (OptimizerConfig or CfgNode): options, e.g. ``cfg.optim``; the registered
            factory receives the ones it names.
    """
    params = [p for p in params if p.requires_grad]
    func = resolve(optimizer_dict, cfg.optimizer, "cfg.optim.optimizer")
    return _call_with_options(func, params, cfg, "create_optimizer")


def create_scheduler(optimizer: Optimizer, cfg: Any) -> Any:
    """Build the learning-rate scheduler named by ``cfg.scheduler`` (``None`` means
    ``none``).

    Args:
        optimizer (Optimizer): the optimizer to schedule.
        cfg (SchedulerConfig or CfgNode): options, e.g. ``cfg.optim``.
    """
    name = cfg.scheduler if cfg.scheduler is not None else "none"
    func = resolve(scheduler_dict, name, "cfg.optim.scheduler")
    return _call_with_options(func, optimizer, cfg, "create_scheduler")
