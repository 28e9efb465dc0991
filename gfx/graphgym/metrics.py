"""Evaluation metrics written in torch (no scikit-learn needed).

Binary scores are probabilities of the positive class; a prediction is positive when its
score exceeds ``thresh``.  AUC is the area under the ROC curve, computed as the
Mann-Whitney statistic with average ranks for tied scores:

.. math::
    \\mathrm{AUC} = \\frac{\\sum_{i \\in P} r_i - |P|(|P| + 1)/2}{|P|\\,|N|}
"""
from __future__ import annotations

from typing import Dict

import torch
from torch import Tensor


def accuracy(true: Tensor, pred_label: Tensor) -> float:
    """Fraction of equal entries."""
    return float((true == pred_label).float().mean()) if true.numel() else 0.0


def precision_recall_f1(true: Tensor, pred_label: Tensor) -> Dict[str, float]:
    """Precision, recall and F1 of the positive class (0 where undefined)."""
    tp = float(((pred_label == 1) & (true == 1)).sum())
    fp = float(((pred_label == 1) & (true == 0)).sum())
    fn = float(((pred_label == 0) & (true == 1)).sum())
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def average_ranks(scores: Tensor) -> Tensor:
    """1-based ranks of ``scores`` in ascending order; tied scores share their mean rank."""
    _, inverse, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    last = torch.cumsum(counts, 0).double()
    return (last - (counts.double() - 1) / 2)[inverse]


def roc_auc(true: Tensor, score: Tensor) -> float:
    """Area under the ROC curve of binary labels ``true`` and scores ``score``
    (0.0 when only one class is present)."""
    true = true.view(-1).bool()
    score = score.view(-1).double()
    num_pos, num_neg = int(true.sum()), int((~true).sum())
    if num_pos == 0 or num_neg == 0:
        return 0.0
    ranks = average_ranks(score)
    return float((ranks[true].sum() - num_pos * (num_pos + 1) / 2) / (num_pos * num_neg))


def classification_binary(true: Tensor, score: Tensor, thresh: float) -> Dict[str, float]:
    """accuracy, precision, recall, f1 and auc of binary labels and positive scores."""
    true = true.view(-1).long()
    score = score.view(-1)
    pred_label = (score > thresh).long()
    return {"accuracy": accuracy(true, pred_label), **precision_recall_f1(true, pred_label),
            "auc": roc_auc(true, score)}


def classification_multi(true: Tensor, score: Tensor) -> Dict[str, float]:
    """accuracy of class labels ``true`` ``[N]`` against class scores ``[N, C]``."""
    return {"accuracy": accuracy(true.view(-1), score.argmax(dim=-1).view(-1))}


def classification_multilabel(true: Tensor, score: Tensor, thresh: float) -> Dict[str, float]:
    """Entry-wise accuracy and the mean AUC of the labels that have both classes."""
    pred_label = (score > thresh).long()
    aucs = [roc_auc(true[:, k], score[:, k]) for k in range(true.shape[1])
            if 0 < int(true[:, k].sum()) < true.shape[0]]
    return {"accuracy": accuracy(true.long(), pred_label),
            "auc": sum(aucs) / len(aucs) if aucs else 0.0}


def regression(true: Tensor, pred: Tensor) -> Dict[str, float]:
    """mae, mse, rmse and r2 (coefficient of determination, 0 for constant targets)."""
    true = true.double().view(pred.shape) if true.numel() == pred.numel() else true.double()
    pred = pred.double()
    err = pred - true
    mse = float((err ** 2).mean())
    var = float(((true - true.mean()) ** 2).mean())
    return {"mae": float(err.abs().mean()), "mse": mse, "rmse": mse ** 0.5,
            "r2": 1.0 - mse / var if var > 0 else 0.0}
