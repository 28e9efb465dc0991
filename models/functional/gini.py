"""``gini``: the Gini coefficient of each row of a weight matrix, averaged."""
from __future__ import annotations

import torch
from torch import Tensor


def gini(w: Tensor) -> Tensor:
    """The Gini coefficient regulariser (Henderson et al., "Improving Molecular Graph
    Neural Network Explainability with Orthonormalization and Induced Sparsity").

    For each row :math:`\\mathbf{w}_i` of :math:`n` entries,

    .. math::
        \\mathcal{L}_{\\mathrm{Gini}}^i = \\sum_{j=1}^{n} \\sum_{j'=1}^{n}
        \\frac{|w_{ij} - w_{ij'}|}{(2n^2 - n)\\,\\bar{w}_i}

    with :math:`\\bar{w}_i` the mean of the row; the result is the mean over rows (0 for
    a row of equal entries, larger for sparser rows).  This is the documented formula;
    the reference's implementation divides by :math:`2(n^2 - n)` times the mean of
    :math:`|w_{ij}|` (plus a float32 epsilon) instead, so its values are larger by the
    factor :math:`(2n^2 - n) / (2n^2 - 2n)` for non-negative weights.

    Args:
        w (Tensor): a two-dimensional tensor ``[m, n]``.

    Returns:
        A scalar tensor.
    """
    if not isinstance(w, Tensor) or w.dim() != 2:
        raise ValueError(f"gini: 'w' must be a two-dimensional tensor, got "
                         f"{tuple(w.shape) if isinstance(w, Tensor) else type(w).__name__}")
    n = w.size(1)
    diffs = (w.unsqueeze(2) - w.unsqueeze(1)).abs().sum(dim=(1, 2))
    return (diffs / ((2 * n * n - n) * w.mean(dim=1))).mean()


__all__ = ["gini"]
