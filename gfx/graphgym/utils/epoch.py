"""When to evaluate and when to checkpoint, from ``cfg.train`` and ``cfg.optim``."""
from __future__ import annotations

from gfx.graphgym.config import cfg


def is_train_eval_epoch(cur_epoch: int) -> bool:
    """Whether training statistics are written for ``cur_epoch`` (0-based)."""
    return is_eval_epoch(cur_epoch) or not cfg.train.skip_train_eval


def is_eval_epoch(cur_epoch: int) -> bool:
    """Whether the model is evaluated after epoch ``cur_epoch`` (0-based).

    True for the first epoch, every ``cfg.train.eval_period``-th epoch and the last one
    (``cfg.optim.max_epoch - 1``).

    Args:
        cur_epoch (int): the epoch that just ended.
    """
    return (cur_epoch == 0 or (cur_epoch + 1) % cfg.train.eval_period == 0
            or cur_epoch + 1 == cfg.optim.max_epoch)


def is_ckpt_epoch(cur_epoch: int) -> bool:
    """Whether a checkpoint is saved after epoch ``cur_epoch`` (0-based).

    True for every ``cfg.train.ckpt_period``-th epoch and the last one.

    Args:
        cur_epoch (int): the epoch that just ended.
    """
    return (cur_epoch + 1) % cfg.train.ckpt_period == 0 or cur_epoch + 1 == cfg.optim.max_epoch
