"""Checkpoints of a run: ``<cfg.run_dir>/ckpt/<epoch>.ckpt``.

A checkpoint is a dict of plain state dicts (``epoch``, ``model_state``,
``optimizer_state``, ``scheduler_state``), so it loads with ``weights_only=True``:
no arbitrary code runs when reading one.
"""
from __future__ import annotations

import glob
import os
from typing import Any, List, Optional

import torch

from gfx.graphgym.config import cfg

MODEL_STATE = "model_state"
OPTIMIZER_STATE = "optimizer_state"
SCHEDULER_STATE = "scheduler_state"


def get_ckpt_dir() -> str:
    """The checkpoint folder of the current run."""
    return os.path.join(cfg.run_dir, "ckpt")


def get_ckpt_path(epoch: int) -> str:
    """The checkpoint file of ``epoch``."""
    return os.path.join(get_ckpt_dir(), f"{epoch}.ckpt")


def get_ckpt_epochs() -> List[int]:
    """The epochs that have a checkpoint, sorted."""
    epochs = []
    for path in glob.glob(os.path.join(get_ckpt_dir(), "*.ckpt")):
        stem = os.path.basename(path)[:-5]
        if stem.lstrip("-").isdigit():
            epochs.append(int(stem))
    return sorted(epochs)


def get_ckpt_epoch(epoch: int) -> int:
    """``epoch``, or the last saved epoch for a negative index (``-1``: the last)."""
    if epoch >= 0:
        return epoch
    epochs = get_ckpt_epochs()
    if len(epochs) < -epoch:
        raise FileNotFoundError(f"no checkpoint {epoch} in '{get_ckpt_dir()}' (found "
                                f"epochs {epochs})")
    return epochs[epoch]


def load_ckpt(model: torch.nn.Module, optimizer: Optional[torch.optim.Optimizer] = None,
              scheduler: Optional[Any] = None, epoch: int = -1) -> int:
    """Load the checkpoint of ``epoch`` into the model (and optimizer and scheduler).

    Args:
        model (nn.Module): the model.
        optimizer (Optimizer, optional): restored too if given. (default: ``None``)
        scheduler (optional): restored too if given. (default: ``None``)
        epoch (int, optional): the epoch; negative counts from the last saved one.
            (default: ``-1``)

    Returns:
        the epoch to continue from (``epoch + 1``), or 0 when there is no checkpoint.
    """
    if epoch < 0 and len(get_ckpt_epochs()) < -epoch:
        return 0
    epoch = get_ckpt_epoch(epoch)
    path = get_ckpt_path(epoch)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_ckpt: no checkpoint for epoch {epoch} ('{path}')")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(ckpt[MODEL_STATE])
    if optimizer is not None and OPTIMIZER_STATE in ckpt:
        optimizer.load_state_dict(ckpt[OPTIMIZER_STATE])
    if scheduler is not None and SCHEDULER_STATE in ckpt:
        scheduler.load_state_dict(ckpt[SCHEDULER_STATE])
    return epoch + 1


def save_ckpt(model: torch.nn.Module, optimizer: Optional[torch.optim.Optimizer] = None,
              scheduler: Optional[Any] = None, epoch: int = 0) -> None:
    """Save the model (and optimizer and scheduler) state as the checkpoint of ``epoch``.

    Args:
        model (nn.Module): the model.
        optimizer (Optimizer, optional): saved too if given. (default: ``None``)
        scheduler (optional): saved too if given. (default: ``None``)
        epoch (int, optional): the epoch. (default: ``0``)
    """
    if epoch < 0:
        raise ValueError(f"save_ckpt: epoch must be >= 0, got {epoch}")
    ckpt = {"epoch": epoch, MODEL_STATE: model.state_dict()}
    if optimizer is not None:
        ckpt[OPTIMIZER_STATE] = optimizer.state_dict()
    if scheduler is not None:
        ckpt[SCHEDULER_STATE] = scheduler.state_dict()
    os.makedirs(get_ckpt_dir(), exist_ok=True)
    torch.save(ckpt, get_ckpt_path(epoch))


def remove_ckpt(epoch: int = -1) -> None:
    """Delete the checkpoint of ``epoch`` (negative: counted from the last one).

    Args:
        epoch (int, optional): the epoch. (default: ``-1``)
    """
    path = get_ckpt_path(get_ckpt_epoch(epoch))
    if os.path.isfile(path):
        os.remove(path)


def clean_ckpt() -> None:
    """Delete every checkpoint but the last one."""
    for epoch in get_ckpt_epochs()[:-1]:
        os.remove(get_ckpt_path(epoch))
