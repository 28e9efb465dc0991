"""Logging of a GraphGym run: printing setup, and per-split statistics per epoch.

A :class:`Logger` collects the labels, scores and losses of one split over an epoch and
writes one JSON line of statistics to ``<cfg.run_dir>/<split>/stats.json`` (and to
TensorBoard with ``cfg.tensorboard_each_run``).  In a multi-process run every rank
collects its share; :meth:`Logger.write_epoch` gathers them and rank zero writes.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Any, Dict, List, Optional

import torch
from torch import Tensor

from gfx.graphgym import metrics
from gfx.graphgym.config import cfg
from gfx.graphgym.register import metric_dict, resolve
from gfx.graphgym.splits import SPLIT_NAMES
from gfx.graphgym.utils.device import get_current_gpu_usage
from gfx.graphgym.utils.io import dict_to_json, dict_to_tb
from gfx.graphgym.utils.tools import is_global_zero

PRINT_MODES = ("stdout", "file", "both")


def set_printing() -> None:
    """Send log records to stdout, to ``<cfg.out_dir>/logging.log``, or both
    (``cfg.print``); the other ranks of a multi-process run stay silent."""
    if cfg.print not in PRINT_MODES:
        raise ValueError(f"cfg.print must be one of {PRINT_MODES}, got '{cfg.print}'")
    handlers: List[logging.Handler] = []
    if cfg.print in ("file", "both") and is_global_zero():
        os.makedirs(cfg.out_dir, exist_ok=True)
        handlers.append(logging.FileHandler(os.path.join(cfg.out_dir, "logging.log")))
    if cfg.print in ("stdout", "both") and is_global_zero():
        handlers.append(logging.StreamHandler(sys.stdout))
    if not handlers:  # keeps logging.info from installing a default stderr handler
        handlers.append(logging.NullHandler())
    logging.basicConfig(format="%(message)s", level=logging.INFO, handlers=handlers,
                        force=True)


def infer_task() -> str:
    """The evaluation task: ``classification_binary`` (one output),
    ``classification_multi`` (several classes), ``classification_multilabel`` or
    ``regression``."""
    task_type = cfg.dataset.task_type
    if task_type == "classification":
        return "classification_binary" if cfg.share.dim_out <= 2 else "classification_multi"
    return task_type


# The metric named on each epoch line when cfg.metric_best is "auto" (as agg_runs picks).
AUTO_METRICS = ("auc", "accuracy", "mae")


def main_metric(stats: Dict[str, Any]) -> Optional[str]:
    """The metric an epoch line shows: ``cfg.metric_best``, or with ``auto`` the first of
    ``auc``, ``accuracy``, ``mae`` that ``stats`` reports (``None``: none)."""
    if cfg.metric_best != "auto":
        return cfg.metric_best if cfg.metric_best in stats else None
    return next((m for m in AUTO_METRICS if m in stats), None)


def format_epoch_line(split: str, stats: Dict[str, Any]) -> str:
    """One readable line of an epoch's statistics: epoch, split, loss, the main metric
    and the seconds spent, e.g. ``epoch   3/100  val    loss 1.1188  accuracy 0.4800
    (1.16 s)``; all statistics are in ``stats.json``."""
    width = len(str(cfg.optim.max_epoch))
    parts = [f"epoch {stats['epoch'] + 1:>{width}}/{cfg.optim.max_epoch}", f"{split:<5}",
             f"loss {stats['loss']:.4f}"]
    metric = main_metric(stats)
    if metric is not None:
        parts.append(f"{metric} {stats[metric]:.4f}")
    parts.append(f"({stats['time_epoch']:.2f} s)")
    return "  ".join(parts)


def _distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized() and \
        torch.distributed.get_world_size() > 1


class Logger:
    """Statistics of one split of one run.

    Args:
        name (str, optional): the split (``train``, ``val``, ``test``); also the
            folder under ``cfg.run_dir``. (default: ``"train"``)
        task_type (str, optional): see :func:`infer_task`. (default: ``None``, inferred)
    """

    def __init__(self, name: str = "train", task_type: Optional[str] = None):
        self.name = name
        self.task_type = task_type or infer_task()
        self.out_dir = os.path.join(cfg.run_dir, name)
        self._time_total = 0.0
        self._tb_writer = None
        if is_global_zero():
            os.makedirs(self.out_dir, exist_ok=True)
        self.reset()

    def reset(self) -> None:
        """Forget the statistics collected so far (called after each epoch)."""
        self._iter = 0
        self._size = 0
        self._loss = 0.0
        self._lr = 0.0
        self._params = 0
        self._time_used = 0.0
        self._true: List[Tensor] = []
        self._pred: List[Tensor] = []
        self._custom: Dict[str, float] = {}

    def update_stats(self, true: Tensor, pred: Tensor, loss: float, lr: float,
                     time_used: float, params: int, dataset_name: Optional[str] = None,
                     **kwargs: Any) -> None:
        """Add one batch: labels, normalised scores, mean loss, learning rate, seconds
        spent and parameter count; extra keyword values are averaged per item.
        ``dataset_name`` is accepted for compatibility and not recorded."""
        size = true.shape[0]
        self._iter += 1
        self._true.append(true.detach().cpu())
        self._pred.append(pred.detach().cpu())
        self._size += size
        self._loss += float(loss) * size
        self._lr = float(lr)
        self._params = int(params)
        self._time_used += float(time_used)
        self._time_total += float(time_used)
        for key, value in kwargs.items():
            self._custom[key] = self._custom.get(key, 0.0) + float(value) * size

    def _gather(self) -> None:
        """Merge the collections of all ranks into every rank (multi-process runs)."""
        if not _distributed():
            return
        state = (self._true, self._pred, self._size, self._loss, self._iter, self._custom)
        states: List[Any] = [None] * torch.distributed.get_world_size()
        torch.distributed.all_gather_object(states, state)
        self._true = [t for s in states for t in s[0]]
        self._pred = [p for s in states for p in s[1]]
        self._size = sum(s[2] for s in states)
        self._loss = sum(s[3] for s in states)
        self._iter = max(s[4] for s in states)
        self._custom = {k: sum(s[5].get(k, 0.0) for s in states) for k in self._custom}

    def basic(self) -> Dict[str, Any]:
        """Loss, learning rate, parameter count and seconds per iteration."""
        digits = max(8, cfg.round)
        stats = {"loss": round(self._loss / max(self._size, 1), digits),
                 "lr": round(self._lr, digits), "params": self._params,
                 "time_iter": round(self._time_used / max(self._iter, 1), cfg.round)}
        usage = get_current_gpu_usage()
        if usage > 0:
            stats["gpu_memory"] = usage
        return stats

    def task_stats(self) -> Dict[str, float]:
        """The metrics of the task, on everything collected this epoch."""
        if not self._true:
            return {}
        true, pred = torch.cat(self._true), torch.cat(self._pred)
        if self.task_type == "classification_binary":
            stats = metrics.classification_binary(true, pred, cfg.model.thresh)
        elif self.task_type == "classification_multi":
            stats = metrics.classification_multi(true, pred)
        elif self.task_type == "classification_multilabel":
            stats = metrics.classification_multilabel(true, pred, cfg.model.thresh)
        elif self.task_type == "regression":
            stats = metrics.regression(true, pred)
        else:
            raise ValueError(f"Logger: unknown task type '{self.task_type}'")
        for name in cfg.custom_metrics:
            stats[name] = float(resolve(metric_dict, name, "cfg.custom_metrics")(
                true, pred, self.task_type))
        return {k: round(v, cfg.round) for k, v in stats.items()}

    def write_epoch(self, cur_epoch: int) -> Dict[str, Any]:
        """Write this epoch's statistics (rank zero) and reset; returns them.

        Args:
            cur_epoch (int): the epoch (0-based).
        """
        self._gather()
        stats = {"epoch": cur_epoch,
                 "time_epoch": round(self._time_used, cfg.round),
                 "eta": round(self._time_total / (cur_epoch + 1)
                              * (cfg.optim.max_epoch - cur_epoch - 1), cfg.round),
                 **self.basic(), **self.task_stats(),
                 **{k: round(v / max(self._size, 1), cfg.round)
                    for k, v in self._custom.items()}}
        if is_global_zero():
            logging.info("%s", format_epoch_line(self.name, stats))
            dict_to_json(stats, os.path.join(self.out_dir, "stats.json"))
            if cfg.tensorboard_each_run:
                dict_to_tb(stats, self._writer(), cur_epoch)
        self.reset()
        return stats

    def _writer(self):
        if self._tb_writer is None:
            from torch.utils.tensorboard import SummaryWriter
            self._tb_writer = SummaryWriter(self.out_dir)
        return self._tb_writer

    def close(self) -> None:
        """Flush and close the TensorBoard writer, if any."""
        if self._tb_writer is not None:
            self._tb_writer.close()
            self._tb_writer = None


def create_logger() -> List[Logger]:
    """One :class:`Logger` per split of the experiment (``cfg.share.num_splits``)."""
    task_type = infer_task()
    return [Logger(name=name, task_type=task_type)
            for name in SPLIT_NAMES[:cfg.share.num_splits]]
