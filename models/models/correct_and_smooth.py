"""``CorrectAndSmooth``: post-processing of a base predictor by residual and label
propagation (Huang et al., ICLR 2021)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.models.label_prop import LabelPropagation


def _num_masked(mask: Tensor) -> int:
    return int(mask.sum()) if mask.dtype == torch.bool else mask.numel()


class CorrectAndSmooth(torch.nn.Module):
    """The correct-and-smooth model of "Combining Label Propagation And Simple Models
    Out-performs Graph Neural Networks".

    **Correct.** With training residuals :math:`\\mathbf{e}^{(0)}_i = \\mathbf{y}_i -
    \\mathbf{z}_i` on the training nodes (0 elsewhere), propagate

    .. math::
        \\mathbf{E}^{(\\ell)} = \\alpha_1 \\mathbf{D}^{-1/2}\\mathbf{A}\\mathbf{D}^{-1/2}
        \\mathbf{E}^{(\\ell-1)} + (1 - \\alpha_1)\\mathbf{E}^{(0)}, \\qquad
        \\hat{\\mathbf{Z}} = \\mathbf{Z} + \\gamma \\odot \\mathbf{E}^{(L_1)}

    With ``autoscale`` the propagated errors are clamped to :math:`[-1, 1]` after every
    step and row :math:`i` is scaled by :math:`\\gamma_i = \\sigma / \\|\\mathbf{e}_i^{(L_1)}\\|_1`,
    :math:`\\sigma` the mean :math:`\\ell_1` norm of the training residuals (rows whose
    scale is infinite, undefined or above 1000 use 1; the reference library leaves the
    undefined 0/0 case as NaN, which then spreads into the output); otherwise the
    training rows are reset to their residuals after every step and :math:`\\gamma` is
    ``scale``.

    **Smooth.** Training rows of :math:`\\hat{\\mathbf{Z}}` are replaced by their labels
    and the result is propagated with :class:`LabelPropagation` (:math:`L_2`,
    :math:`\\alpha_2`).

    Args:
        num_correction_layers (int): the number of propagations :math:`L_1`.
        correction_alpha (float): the coefficient :math:`\\alpha_1`.
        num_smoothing_layers (int): the number of propagations :math:`L_2`.
        smoothing_alpha (float): the coefficient :math:`\\alpha_2`.
        autoscale (bool, optional): choose :math:`\\gamma` automatically.
            (default: ``True``)
        scale (float, optional): :math:`\\gamma` when ``autoscale=False``.
            (default: ``1.0``)
    """

    def __init__(self, num_correction_layers: int, correction_alpha: float,
                 num_smoothing_layers: int, smoothing_alpha: float, autoscale: bool = True,
                 scale: float = 1.0):
        super().__init__()
        self.autoscale = autoscale
        self.scale = scale
        self.prop1 = LabelPropagation(num_correction_layers, correction_alpha)
        self.prop2 = LabelPropagation(num_smoothing_layers, smoothing_alpha)

    def forward(self, y_soft: Tensor, *args) -> Tensor:
        """:meth:`correct`, then :meth:`smooth`, with the same further arguments
        ``(y_true, mask, edge_index, edge_weight=None)``."""
        return self.smooth(self.correct(y_soft, *args), *args)

    @staticmethod
    def _labels(name: str, y_soft: Tensor, y_true: Tensor, mask: Tensor) -> Tensor:
        if y_true.dtype == torch.long and y_true.numel() == y_true.size(0):
            y_true = F.one_hot(y_true.view(-1), y_soft.size(-1)).to(y_soft.dtype)
        if y_true.size(0) != _num_masked(mask):
            raise ValueError(f"CorrectAndSmooth.{name}: 'y_true' must hold the labels of "
                             f"the {_num_masked(mask)} nodes in 'mask', got "
                             f"{y_true.size(0)} rows")
        return y_true

    @torch.no_grad()
    def correct(self, y_soft: Tensor, y_true: Tensor, mask: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        """The correction step.

        Args:
            y_soft (Tensor): ``[N, C]`` soft predictions :math:`\\mathbf{Z}` (probabilities).
            y_true (Tensor): labels of the nodes in ``mask``: ``[M]`` class ids or
                ``[M, C]``.
            mask (Tensor): the training nodes, a boolean ``[N]`` mask or an index.
            edge_index (Tensor): ``[2, E]`` connectivity or a sparse ``adj_t``.
            edge_weight (Tensor, optional): ``[E]`` weights. (default: ``None``)
        """
        y_true = self._labels("correct", y_soft, y_true, mask)
        num = _num_masked(mask)
        error = torch.zeros_like(y_soft)
        error[mask] = y_true - y_soft[mask]
        if self.autoscale:
            smoothed = self.prop1(error, edge_index, edge_weight=edge_weight,
                                  post_step=lambda x: x.clamp(-1.0, 1.0))
            sigma = error[mask].abs().sum() / max(num, 1)
            scale = sigma / smoothed.abs().sum(dim=1, keepdim=True)
            scale[scale.isinf() | scale.isnan() | (scale > 1000)] = 1.0
            return y_soft + scale * smoothed

        def fix_input(x: Tensor) -> Tensor:
            x[mask] = error[mask]
            return x

        smoothed = self.prop1(error, edge_index, edge_weight=edge_weight, post_step=fix_input)
        return y_soft + self.scale * smoothed

    @torch.no_grad()
    def smooth(self, y_soft: Tensor, y_true: Tensor, mask: Tensor, edge_index: Tensor,
               edge_weight: Optional[Tensor] = None) -> Tensor:
        """The smoothing step (arguments as :meth:`correct`)."""
        y_true = self._labels("smooth", y_soft, y_true, mask)
        y_soft = y_soft.clone()
        y_soft[mask] = y_true
        return self.prop2(y_soft, edge_index, edge_weight=edge_weight)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(\n"
                f"  correct: num_layers={self.prop1.num_layers}, alpha={self.prop1.alpha}\n"
                f"  smooth:  num_layers={self.prop2.num_layers}, alpha={self.prop2.alpha}\n"
                f"  autoscale={self.autoscale}, scale={self.scale}\n)")


__all__ = ["CorrectAndSmooth"]
