"""The training loss of a GraphGym model, from ``cfg.model.loss_fun``."""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.graphgym.config import cfg
from gfx.graphgym.register import loss_dict

LOSSES = ("cross_entropy", "mse")


def compute_loss(pred: Tensor, true: Tensor) -> Tuple[Tensor, Tensor]:
    """The loss and the normalised prediction score of a batch.

    Registered losses are tried first (the first that does not return ``None`` wins).
    Otherwise, by ``cfg.model.loss_fun``:

    * ``cross_entropy`` with ``pred`` ``[N, C]`` (C > 1) and integer ``true`` ``[N]``:
      softmax cross entropy; the score is the class probabilities ``softmax(pred)``;
    * ``cross_entropy`` otherwise (binary or multi-label): binary cross entropy on
      logits; the score is ``sigmoid(pred)``;
    * ``mse``: mean squared error; the score is ``pred``.

    A trailing dimension of size 1 is dropped from ``pred`` and ``true`` first; the
    reduction is ``cfg.model.size_average`` (``mean`` or ``sum``).

    Args:
        pred (Tensor): unnormalised predictions.
        true (Tensor): ground-truth labels or targets.

    Returns:
        ``(loss, score)``.
    """
    if pred.dim() > 1 and pred.shape[-1] == 1:
        pred = pred.squeeze(-1)
    if true.dim() > 1 and true.shape[-1] == 1:
        true = true.squeeze(-1)
    for func in loss_dict.values():
        result = func(pred, true)
        if result is not None:
            return result
    reduction = cfg.model.size_average
    if reduction not in ("mean", "sum"):
        raise ValueError(f"cfg.model.size_average must be 'mean' or 'sum', got "
                         f"'{reduction}'")
    if cfg.model.loss_fun == "cross_entropy":
        if pred.dim() > 1 and true.dim() == 1 and not true.is_floating_point():
            return F.cross_entropy(pred, true, reduction=reduction), pred.softmax(dim=-1)
        if pred.shape != true.shape:
            raise ValueError(f"compute_loss: binary cross entropy needs predictions and "
                             f"labels of one shape, got {list(pred.shape)} and "
                             f"{list(true.shape)}")
        loss = F.binary_cross_entropy_with_logits(pred, true.to(pred.dtype),
                                                  reduction=reduction)
        return loss, torch.sigmoid(pred)
    if cfg.model.loss_fun == "mse":
        if pred.shape != true.shape:
            raise ValueError(f"compute_loss: mse needs predictions and targets of one "
                             f"shape, got {list(pred.shape)} and {list(true.shape)}")
        return F.mse_loss(pred, true.to(pred.dtype), reduction=reduction), pred
    raise ValueError(f"cfg.model.loss_fun must be one of {LOSSES} or a registered loss "
                     f"handling this case, got '{cfg.model.loss_fun}'")
