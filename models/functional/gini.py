"""``gini``: the Gini coefficient of each row of a weight matrix, averaged."""
from __future__ import annotations

import torch
from torch import Tensor


def gini(w: Tensor) -> Tensor:
    """The Gini coefficient regulariser (Henderson et al., "Improving Molecular Graph
    Neural Network Explainability with Orthonormalization and Induced Sparsity").

    For each row :math:`\\mathbf{w}_i` of :math:`n` entries,

    .. math::
        \\mathcal{L}_{\\mathrm{Gini}}^i = \\frac{\\sum_{j=1}^{n} \\sum_{j'=1}^{n}
        |w_{ij} - w_{ij'}|}{2(n^2 - n)\\,\\overline{|w_i|} + \\varepsilon}

    with :math:`\\overline{|w_i|}` the mean absolute entry of the row and
    :math:`\\varepsilon` the float32 machine epsilon; the result is the mean over rows
    (0 for a row of equal entries, larger for sparser rows).  This is what the reference
    computes; its documentation prints the normaliser as :math:`(2n^2 - n)\\bar{w}_i`.

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
    scale = 2 * (n * n - n) * w.abs().mean(dim=1) + torch.finfo(torch.float32).eps
    return (diffs / scale).mean()


__all__ = ["gini"]
