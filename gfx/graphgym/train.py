"""Training a GraphGym model with PyTorch Lightning.

:func:`train` fits a :class:`GraphGymModule` on a :class:`GraphGymDataModule` for
``cfg.optim.max_epoch`` epochs.  Two callbacks do GraphGym's bookkeeping:

* :class:`LoggerCallback`: per-split statistics (training every epoch, validation and
  test at evaluation epochs) to ``<cfg.run_dir>/<split>/stats.json``;
* :class:`CheckpointCallback`: ``<cfg.run_dir>/ckpt/<epoch>.ckpt`` at checkpoint
  epochs; with ``cfg.train.auto_resume`` training continues from the last one.

With ``cfg.devices > 1`` training uses Lightning's DDP strategy (``gloo`` on CPU): the
script is started once more per extra process, every process trains on its share of each
batch, and the loggers gather all shares before rank zero writes.
"""
from __future__ import annotations

import logging
import sys
import time
import warnings
from typing import Any, Dict, List, Optional

from gfx.graphgym.imports import pl, require_lightning

require_lightning("gfx.graphgym.train")
from torch.utils.data.distributed import DistributedSampler

from gfx.data import DataLoader

from gfx.graphgym.checkpoint import clean_ckpt, load_ckpt, save_ckpt
from gfx.graphgym.config import cfg
from gfx.graphgym.loader import create_loader
from gfx.graphgym.logger import Logger, create_logger
from gfx.graphgym.model_builder import GraphGymModule
from gfx.graphgym.utils.epoch import (is_ckpt_epoch, is_eval_epoch,
                                             is_train_eval_epoch)
from gfx.graphgym.utils.tools import is_global_zero


class GraphGymDataModule(pl.LightningDataModule):
    """The loaders of :func:`~gfx.graphgym.create_loader` as a Lightning data module.

    With several processes and ``cfg.train.shuffle: false``, process :math:`r` of
    :math:`W` trains on items :math:`r, r + W, \\ldots` in order.  Validation iterates
    the validation and the test loader (both are evaluated at each evaluation epoch);
    ``test_dataloader`` is the last split's loader.
    """

    def __init__(self):
        super().__init__()
        self.loaders = create_loader()

    def train_dataloader(self):
        loader, trainer = self.loaders[0], self.trainer
        if trainer is not None and trainer.world_size > 1 and \
                cfg.train.sampler != "full_batch":
            raise NotImplementedError(
                f"GraphGym: cfg.train.sampler={cfg.train.sampler!r} with {trainer.world_size} "
                f"processes is not supported yet (each process would see every sampled "
                f"batch); use devices: 1, or sampler: full_batch for multi-process runs")
        if trainer is None or trainer.world_size <= 1 or cfg.train.shuffle:
            return loader  # Lightning adds a shuffling DistributedSampler under DDP
        # Unshuffled DDP: process r takes items r, r + world_size, ... of the dataset, so
        # that each global batch holds the items of the single-process batch.
        sampler = DistributedSampler(loader.dataset, num_replicas=trainer.world_size,
                                     rank=trainer.global_rank, shuffle=False)
        return DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=sampler,
                          num_workers=loader.num_workers)

    def val_dataloader(self):
        return self.loaders[1:]

    def test_dataloader(self):
        return self.loaders[-1]


def _last_lr(trainer: "pl.Trainer") -> float:
    configs = trainer.lr_scheduler_configs
    if configs:
        return configs[0].scheduler.get_last_lr()[0]
    return trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else 0.0


class LoggerCallback(pl.Callback):
    """Feeds every step's outputs to one :class:`~gfx.graphgym.Logger` per split and
    writes their statistics at the end of the epochs that
    :func:`~gfx.graphgym.is_eval_epoch` selects (training: every epoch unless
    ``cfg.train.skip_train_eval``)."""

    def __init__(self):
        super().__init__()
        self._loggers: List[Logger] = create_logger()
        self._start = 0.0
        self._lr = 0.0
        self._train_written: Optional[int] = None

    @property
    def train_logger(self) -> Logger:
        """The logger of the training split."""
        return self._loggers[0]

    @property
    def val_logger(self) -> Logger:
        """The logger of the validation split."""
        return self._loggers[1]

    @property
    def test_logger(self) -> Logger:
        """The logger of the last split (test, or validation for two splits)."""
        return self._loggers[-1]

    @staticmethod
    def _epoch(pl_module) -> int:
        return getattr(pl_module, "current_global_epoch", pl_module.current_epoch)

    def _update(self, logger: Logger, outputs: Optional[Dict[str, Any]], lr: float) -> None:
        if outputs is None:
            return
        logger.update_stats(true=outputs["true"], pred=outputs["pred_score"],
                            loss=float(outputs["loss"]), lr=lr,
                            time_used=time.time() - self._start, params=cfg.params)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._start = time.time()
        self._lr = _last_lr(trainer)  # the rate this step uses

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._update(self.train_logger, outputs, self._lr)

    def _write_train(self, epoch: int) -> None:
        """Write (or drop) the training statistics of ``epoch``, once."""
        if self._train_written == epoch:
            return
        self._train_written = epoch
        if is_train_eval_epoch(epoch):
            self.train_logger.write_epoch(epoch)
        else:
            self.train_logger.reset()

    def on_train_epoch_end(self, trainer, pl_module):
        self._write_train(self._epoch(pl_module))

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx,
                                  dataloader_idx=0):
        self._start = time.time()

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx,
                                dataloader_idx=0):
        self._update(self._loggers[1 + dataloader_idx], outputs, _last_lr(trainer))

    def on_validation_epoch_end(self, trainer, pl_module):
        epoch = self._epoch(pl_module)
        if trainer.sanity_checking or not is_eval_epoch(epoch):
            return
        # Lightning validates before the training epoch ends; the training batches are
        # all in, so the training line is written first (train, val, test per epoch).
        if trainer.training or trainer.state.fn == "fit":
            self._write_train(epoch)
        for logger in self._loggers[1:]:
            logger.write_epoch(epoch)

    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self._start = time.time()

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx,
                          dataloader_idx=0):
        self._update(self.test_logger, outputs, _last_lr(trainer))

    def on_test_epoch_end(self, trainer, pl_module):
        self.test_logger.write_epoch(max(self._epoch(pl_module) - 1, 0))

    def teardown(self, trainer, pl_module, stage: str) -> None:
        for logger in self._loggers:
            logger.close()


class CheckpointCallback(pl.Callback):
    """Saves GraphGym checkpoints at :func:`~gfx.graphgym.is_ckpt_epoch` epochs (rank
    zero) and, given ``resume_epoch``, restores the model, optimizer and scheduler of that
    checkpoint when training starts.

    Args:
        resume_epoch (int, optional): the checkpoint to resume from. (default: ``None``)
    """

    def __init__(self, resume_epoch: Optional[int] = None):
        super().__init__()
        self.resume_epoch = resume_epoch

    @staticmethod
    def _scheduler(trainer):
        configs = trainer.lr_scheduler_configs
        return configs[0].scheduler if configs else None

    def on_train_start(self, trainer, pl_module):
        if self.resume_epoch is not None:
            load_ckpt(pl_module, trainer.optimizers[0], self._scheduler(trainer),
                      self.resume_epoch)

    def on_train_epoch_end(self, trainer, pl_module):
        epoch = LoggerCallback._epoch(pl_module)
        if is_ckpt_epoch(epoch) and trainer.is_global_zero:
            save_ckpt(pl_module, trainer.optimizers[0], self._scheduler(trainer), epoch)


class EpochProgressBar(pl.callbacks.TQDMProgressBar):
    """Lightning's progress bar for training epochs, without the bars of the evaluation
    loaders (the statistics of each evaluated split are logged instead)."""

    def on_validation_start(self, trainer, pl_module):
        pass

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx,
                                  dataloader_idx=0):
        pass

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx,
                                dataloader_idx=0):
        pass

    def on_validation_end(self, trainer, pl_module):
        pass


def train(model: GraphGymModule, datamodule: GraphGymDataModule, logger: bool = True,
          trainer_config: Optional[Dict[str, Any]] = None) -> "pl.Trainer":
    """Train ``model`` on ``datamodule`` with PyTorch Lightning; returns the trainer.

    Args:
        model (GraphGymModule): the GraphGym model.
        datamodule (GraphGymDataModule): the GraphGym data module.
        logger (bool, optional): whether to write statistics with
            :class:`LoggerCallback`. (default: ``True``)
        trainer_config (dict, optional): extra ``lightning.pytorch.Trainer`` arguments,
            overriding the defaults below. (default: ``None``)

    The trainer runs ``cfg.optim.max_epoch`` epochs on ``cfg.accelerator`` with
    ``cfg.devices`` devices (the DDP strategy when there are several), no sanity
    validation and no Lightning logger or checkpointing of its own.
    """
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*GPU available but not used.*")
    warnings.filterwarnings("ignore", ".*LeafSpec.*is deprecated.*")
    # Lightning's banner (devices, tips) adds nothing to GraphGym's own log.
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    start_epoch = 0
    resume_epoch = None
    if cfg.train.auto_resume:
        start_epoch = load_ckpt(model, epoch=cfg.train.epoch_resume)
        resume_epoch = start_epoch - 1 if start_epoch > 0 else None
    model.epoch_offset = start_epoch
    callbacks: List[pl.Callback] = []
    if logger:
        callbacks.append(LoggerCallback())
    if cfg.train.enable_ckpt:
        callbacks.append(CheckpointCallback(resume_epoch))
    # Progress bars redraw with carriage returns: only on a terminal, never in a log file.
    show_bar = (trainer_config or {}).get("enable_progress_bar", sys.stdout.isatty())
    if show_bar:
        callbacks.append(EpochProgressBar())
    devices = cfg.devices
    settings: Dict[str, Any] = dict(
        max_epochs=cfg.optim.max_epoch - start_epoch, accelerator=cfg.accelerator,
        devices=devices, strategy="ddp" if isinstance(devices, int) and devices > 1
        else "auto", logger=False, enable_checkpointing=False, num_sanity_val_steps=0,
        enable_model_summary=False, default_root_dir=cfg.out_dir, callbacks=callbacks,
        enable_progress_bar=show_bar)
    settings.update(trainer_config or {})
    trainer = pl.Trainer(**settings)
    if settings["max_epochs"] > 0:
        trainer.fit(model, datamodule=datamodule)
    if cfg.train.enable_ckpt and cfg.train.ckpt_clean and is_global_zero():
        clean_ckpt()
    return trainer
