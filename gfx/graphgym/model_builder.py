"""``GraphGymModule``: a GraphGym network as a Lightning module, and :func:`create_model`.

Every step sets ``batch.split`` (``train``, ``val`` or ``test``), runs the network to a
``(prediction, label)`` pair and returns the loss with the labels and normalised scores,
which :class:`~gfx.graphgym.train.LoggerCallback` turns into statistics.
Validation runs on the validation and the test loader at evaluation epochs only
(:func:`~gfx.graphgym.is_eval_epoch`).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from gfx.graphgym.imports import LightningModule
import torch

from gfx.graphgym.config import cfg as global_cfg
from gfx.graphgym.loss import compute_loss
from gfx.graphgym.models.layer import MessagePassingLayer
from gfx.graphgym.optim import create_optimizer, create_scheduler
from gfx.graphgym.register import network_dict, resolve
from gfx.graphgym.splits import SPLIT_NAMES
from gfx.graphgym.utils.epoch import is_eval_epoch


def compile_layers(model: torch.nn.Module, backend: str = "auto") -> int:
    """Compile every message passing layer of ``model`` with :func:`gfx.compile` (see
    NOTE [compiled graphgym layers]); returns how many were compiled."""
    count = 0
    for module in model.modules():
        if isinstance(module, MessagePassingLayer):
            module.gfx_compile(backend)
            count += 1
    return count


class GraphGymModule(LightningModule):
    """A network from ``network_dict[cfg.model.type]`` with GraphGym's optimisation.

    Args:
        dim_in (int): the input feature dimension.
        dim_out (int): the output dimension.
        cfg (CfgNode): the configuration (``cfg.optim`` for the optimizer and the
            scheduler, ``cfg.gfx`` for compilation).
    """

    def __init__(self, dim_in: int, dim_out: int, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = resolve(network_dict, cfg.model.type, "cfg.model.type")(
            dim_in=dim_in, dim_out=dim_out)
        self.epoch_offset = 0  # the first epoch when training resumes from a checkpoint
        if cfg.gfx.compile:
            compile_layers(self.model, cfg.gfx.backend)

    def forward(self, *args, **kwargs):
        return self.model(*args, **kwargs)

    def configure_optimizers(self):
        optimizer = create_optimizer(self.model.parameters(), self.cfg.optim)
        scheduler = create_scheduler(optimizer, self.cfg.optim)
        return [optimizer], [scheduler]

    @property
    def current_global_epoch(self) -> int:
        """The epoch counted from the start of the run, resumed epochs included."""
        return self.epoch_offset + self.current_epoch

    def _shared_step(self, batch, split: str) -> Dict[str, Any]:
        batch.split = split
        pred, true = self(batch)
        loss, pred_score = compute_loss(pred, true)
        return {"loss": loss, "true": true.detach(), "pred_score": pred_score.detach()}

    def training_step(self, batch, *args, **kwargs):
        out = self._shared_step(batch, "train")
        self.log("loss", out["loss"].detach(), prog_bar=True, on_step=True,
                 batch_size=out["true"].shape[0])
        return out

    def validation_step(self, batch, batch_idx: int = 0,
                        dataloader_idx: int = 0) -> Optional[Dict[str, Any]]:
        if not is_eval_epoch(self.current_global_epoch):
            return None
        return self._shared_step(batch, SPLIT_NAMES[1 + dataloader_idx])

    def test_step(self, batch, *args, **kwargs):
        return self._shared_step(batch, "test")

    @property
    def encoder(self) -> torch.nn.Module:
        """The network's feature encoder."""
        return self.model.encoder

    @property
    def mp(self) -> torch.nn.Module:
        """The network's message passing stage."""
        return self.model.mp

    @property
    def post_mp(self) -> torch.nn.Module:
        """The network's head."""
        return self.model.post_mp

    @property
    def pre_mp(self) -> torch.nn.Module:
        """The network's pre-processing layers."""
        return self.model.pre_mp


def create_model(to_device: bool = True, dim_in: Optional[int] = None,
                 dim_out: Optional[int] = None) -> GraphGymModule:
    """Create the model of the current configuration.

    A classification task with two classes gets one output (a binary logit).

    Args:
        to_device (bool, optional): move the model to ``cfg.accelerator``.
            (default: ``True``)
        dim_in (int, optional): input dimension (default: ``cfg.share.dim_in``).
        dim_out (int, optional): output dimension (default: ``cfg.share.dim_out``).
    """
    dim_in = global_cfg.share.dim_in if dim_in is None else dim_in
    dim_out = global_cfg.share.dim_out if dim_out is None else dim_out
    if global_cfg.dataset.task_type == "classification" and dim_out == 2:
        dim_out = 1
    model = GraphGymModule(dim_in, dim_out, global_cfg)
    if to_device and global_cfg.accelerator not in ("auto", "gpu"):
        model.to(torch.device(global_cfg.accelerator))
    return model
