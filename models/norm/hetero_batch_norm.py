"""``HeteroBatchNorm``: batch normalisation with separate statistics per node/edge type."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

import gfx.ops
from gfx.nn.norm._running_stats import AffineRunningStats
from gfx.ops._checks import is_tracing


def check_type_vec(owner: str, x: Tensor, type_vec: Tensor, num_types: int) -> None:
    """Eager validation of a per-row type vector against ``x`` and ``num_types``."""
    if is_tracing(x, type_vec):
        return
    if not isinstance(type_vec, Tensor) or type_vec.dtype not in (torch.long, torch.int):
        raise TypeError(f"{owner}: 'type_vec' must be an int64 or int32 tensor, got "
                        f"{getattr(type_vec, 'dtype', type(type_vec).__name__)}")
    if type_vec.dim() != 1 or type_vec.numel() != x.size(0):
        raise ValueError(f"{owner}: 'type_vec' must hold one type per row of 'x' "
                         f"({x.size(0)}), got shape {tuple(type_vec.shape)}")
    if type_vec.numel() and (int(type_vec.min()) < 0 or int(type_vec.max()) >= num_types):
        raise ValueError(f"{owner}: 'type_vec' entries must lie in [0, {num_types - 1}] "
                         f"(num_types={num_types}), got [{int(type_vec.min())}, "
                         f"{int(type_vec.max())}]")


def update_running_stats(running_mean: Tensor, running_var: Tensor,
                         num_batches_tracked: Tensor, mean: Tensor, var: Tensor,
                         type_vec: Tensor, momentum: Optional[float]) -> Tensor:
    """Blend the batch statistics into the running ones, in place; returns ``var``.

    Types without rows keep their statistics.  Declared with ``torch.fx.wrap``: a
    captured training graph holds one call, so the buffers are updated on every run (the
    returned ``var`` keeps the call alive through dead-code elimination).
    """
    with torch.no_grad():
        if momentum is None:  # the count is only needed (and kept) for this case
            num_batches_tracked.add_(1)
            factor = 1.0 / float(num_batches_tracked)
        else:
            factor = momentum
        seen = (torch.bincount(type_vec, minlength=running_mean.size(0)) > 0).unsqueeze(-1)
        new_mean = (1 - factor) * running_mean + factor * mean
        new_var = (1 - factor) * running_var + factor * var
        running_mean.copy_(torch.where(seen, new_mean, running_mean))
        running_var.copy_(torch.where(seen, new_var, running_var))
    return var


torch.fx.wrap("update_running_stats")


class HeteroBatchNorm(AffineRunningStats):
    """Batch normalisation (Ioffe and Szegedy, 2015) of heterogeneous rows: every type
    :math:`t` has its own statistics and affine parameters.

    .. math::
        \\mathbf{x}'_i = \\frac{\\mathbf{x}_i - \\mathrm{E}[\\mathbf{x}_{t_i}]}
        {\\sqrt{\\max(\\mathrm{Var}[\\mathbf{x}_{t_i}], \\epsilon)}} \\odot
        \\gamma_{t_i} + \\beta_{t_i}

    where the mean and biased variance are taken per channel over the rows of type
    :math:`t_i` in training, and are the running estimates in evaluation.  As in the
    reference, :math:`\\epsilon` is a lower bound of the variance (not added to it), the
    running variance is updated with the biased batch variance, a type without rows in
    the batch keeps its running statistics, and ``num_batches_tracked`` only counts when
    ``momentum=None`` (the cumulative average needs it), and backward treats the batch
    mean and variance as constants (unlike :class:`torch.nn.BatchNorm1d`, whose gradient
    also flows through them).

    Args:
        in_channels (int): features per row.
        num_types (int): the number of types.
        eps (float, optional): added to the variance. (default: ``1e-5``)
        momentum (float, optional): weight of the current batch in the running
            statistics; ``None`` for a cumulative average. (default: ``0.1``)
        affine (bool, optional): learn per-type :math:`\\gamma` and :math:`\\beta`.
            (default: ``True``)
        track_running_stats (bool, optional): keep running statistics and use them in
            evaluation. (default: ``True``)
        device (torch.device, optional): where to create the parameters.
            (default: ``None``)

    Shapes: ``x`` ``[N, F]`` and ``type_vec`` ``[N]`` -> ``[N, F]``.
    """

    def __init__(self, in_channels: int, num_types: int, eps: float = 1e-5,
                 momentum: Optional[float] = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Optional[torch.device] = None):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("num_types", num_types)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"HeteroBatchNorm: '{name}' must be a positive int, "
                                 f"got {value!r}")
        self.in_channels = in_channels
        self.num_types = num_types
        self.eps = eps
        self.momentum = momentum
        self._register((num_types, in_channels), affine, track_running_stats, device)

    def forward(self, x: Tensor, type_vec: Tensor) -> Tensor:
        """Normalise ``x`` row-wise with the statistics of each row's type."""
        if not is_tracing(x) and (x.dim() != 2 or x.size(1) != self.in_channels):
            raise ValueError(f"HeteroBatchNorm: expected 'x' of shape [N, "
                             f"{self.in_channels}] (in_channels={self.in_channels}), got "
                             f"{list(x.shape)}")
        check_type_vec("HeteroBatchNorm", x, type_vec, self.num_types)
        if self.training or not self.track_running_stats:
            # the statistics are constants in backward (see the class docstring)
            data = x.detach()
            mean = gfx.ops.scatter(data, type_vec, 0, self.num_types, "mean")
            centred = x - gfx.ops.gather(mean, type_vec, 0)
            deviation = centred.detach()
            var = gfx.ops.scatter(deviation * deviation, type_vec, 0, self.num_types, "mean")
            if self.training and self.track_running_stats:
                var = update_running_stats(self.running_mean, self.running_var,
                                           self.num_batches_tracked, mean, var, type_vec,
                                           self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
            centred = x - gfx.ops.gather(mean, type_vec, 0)
        out = centred * gfx.ops.gather(var.clamp(min=self.eps).rsqrt(), type_vec, 0)
        if self.affine:
            out = out * gfx.ops.gather(self.weight, type_vec, 0) \
                + gfx.ops.gather(self.bias, type_vec, 0)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, num_types={self.num_types})"


__all__ = ["HeteroBatchNorm"]
