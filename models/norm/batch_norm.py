"""``BatchNorm``: batch normalisation over all nodes (or edges) of a mini-batch."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.ops._checks import is_tracing


class BatchNorm(torch.nn.Module):
    """Batch normalisation (Ioffe and Szegedy, 2015) over the rows of ``x``.

    .. math::
        \\mathbf{x}'_i = \\frac{\\mathbf{x}_i - \\mathrm{E}[\\mathbf{x}]}
        {\\sqrt{\\mathrm{Var}[\\mathbf{x}] + \\epsilon}} \\odot \\gamma + \\beta

    with mean and (biased) variance taken per channel over all rows of the mini-batch in
    training, and the running estimates in evaluation.  The layer wraps
    :class:`torch.nn.BatchNorm1d` as ``module``, so checkpoints hold ``module.weight``,
    ``module.bias``, ``module.running_mean``, ``module.running_var`` and
    ``module.num_batches_tracked``.

    Args:
        in_channels (int): features per row, :math:`F`.
        eps (float, optional): added to the variance. (default: ``1e-5``)
        momentum (float, optional): weight of the current batch in the running
            statistics; ``None`` for a cumulative average. (default: ``0.1``)
        affine (bool, optional): learn :math:`\\gamma` and :math:`\\beta`.
            (default: ``True``)
        track_running_stats (bool, optional): keep running statistics and use them in
            evaluation; otherwise batch statistics are used in both modes.
            (default: ``True``)
        allow_single_element (bool, optional): a training batch of a single row is
            normalised with the running statistics (which it leaves unchanged) instead
            of failing; needs ``track_running_stats=True``.  While tracing the number of
            rows is unknown, so a traced training graph does not make this exception.
            (default: ``False``)
        device (torch.device, optional): where to create the parameters.
            (default: ``None``)

    Shapes: ``[N, F]`` (or ``[N, F, L]``) -> the same shape.
    """

    def __init__(self, in_channels: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 allow_single_element: bool = False, device: Optional[torch.device] = None):
        super().__init__()
        if allow_single_element and not track_running_stats:
            raise ValueError("BatchNorm: allow_single_element=True needs "
                             "track_running_stats=True (the running statistics stand in "
                             "for a single row)")
        self.in_channels = in_channels
        self.allow_single_element = allow_single_element
        self.module = torch.nn.BatchNorm1d(in_channels, eps, momentum, affine,
                                           track_running_stats, device=device)

    def reset_running_stats(self) -> None:
        """Reset the running mean, variance and batch count."""
        self.module.reset_running_stats()

    def reset_parameters(self) -> None:
        """Reset the running statistics and the affine parameters."""
        self.module.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x`` (``[N, F]``)."""
        if is_tracing(x):
            return self.module(x)
        if x.dim() not in (2, 3) or x.shape[1] != self.in_channels:
            raise ValueError(f"BatchNorm: expected 'x' of shape [N, {self.in_channels}] "
                             f"(in_channels={self.in_channels}), got {list(x.shape)}")
        if self.allow_single_element and self.training and x.shape[0] <= 1:
            m = self.module
            return F.batch_norm(x, m.running_mean, m.running_var, m.weight, m.bias,
                                False, 0.0, m.eps)
        return self.module(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.module.extra_repr()})"


__all__ = ["BatchNorm"]
