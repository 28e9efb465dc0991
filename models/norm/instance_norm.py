"""``InstanceNorm``: normalise every graph of a mini-batch with its own statistics."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

import gfx.ops
from gfx.nn.pool.glob import check_batch, graph_count
from gfx.nn.norm._running_stats import AffineRunningStats
from gfx.ops._checks import is_tracing


def check_features(owner: str, x: Tensor, in_channels: int) -> None:
    """Eager check that ``x`` is ``[N, in_channels]`` (skipped while tracing)."""
    if is_tracing(x):
        return
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: 'x' must be a Tensor, got {type(x).__name__}")
    if x.dim() != 2 or x.shape[-1] != in_channels:
        raise ValueError(f"{owner}: expected 'x' of shape [num_nodes, {in_channels}] "
                         f"(in_channels={in_channels}), got {list(x.shape)}")


class InstanceNorm(AffineRunningStats):
    """Instance normalisation (Ulyanov et al., 2016): each graph is one instance.

    .. math::
        \\mathbf{x}'_i = \\frac{\\mathbf{x}_i - \\mathrm{E}_b[\\mathbf{x}]}
        {\\sqrt{\\mathrm{Var}_b[\\mathbf{x}] + \\epsilon}} \\odot \\gamma + \\beta

    where :math:`\\mathrm{E}_b` and :math:`\\mathrm{Var}_b` (biased) are taken per channel
    over the nodes of the graph :math:`b` of node :math:`i` (all nodes when ``batch`` is
    ``None``).  A graph with a single node normalises to 0 (then :math:`\\beta`).

    With ``track_running_stats=True``, training updates running estimates with the
    average over the graphs of the batch of each graph's mean and unbiased variance
    (:math:`\\frac{n_b}{\\max(n_b - 1, 1)}` times the biased one), and evaluation uses
    them instead of per-graph statistics.  As in the reference library,
    ``num_batches_tracked`` stays 0 with a numeric ``momentum``; ``momentum=None`` (which
    the reference rejects with a TypeError) gives a cumulative average, and then
    ``num_batches_tracked`` counts the training batches.

    Args:
        in_channels (int): features per node, :math:`F`.
        eps (float, optional): added to the variance. (default: ``1e-5``)
        momentum (float, optional): weight of the current batch in the running
            statistics. (default: ``0.1``)
        affine (bool, optional): learn :math:`\\gamma` (``weight``) and :math:`\\beta`
            (``bias``). (default: ``False``)
        track_running_stats (bool, optional): keep running statistics for evaluation.
            (default: ``False``)
        device (torch.device, optional): where to create parameters and buffers.
            (default: ``None``)

    Shapes: ``x`` ``[N, F]``, ``batch`` ``[N]`` -> ``[N, F]``.
    """

    def __init__(self, in_channels: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 device: Optional[torch.device] = None):
        super().__init__()
        self.in_channels = in_channels
        self.eps = eps
        self.momentum = momentum
        self._register((in_channels,), affine, track_running_stats, device)

    def forward(self, x: Tensor, batch: Optional[Tensor] = None,
                batch_size: Optional[int] = None) -> Tensor:
        """Normalise ``x``; ``batch_size`` is the number of graphs (optional)."""
        check_features("InstanceNorm", x, self.in_channels)
        check_batch("InstanceNorm", x, batch, 0)
        if batch is None:
            index = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
            size = 1
        else:
            index, size = batch, graph_count(batch, batch_size)
        if self.training or not self.track_running_stats:
            mean = gfx.ops.scatter(x, index, 0, size, "mean")
            centred = x - gfx.ops.gather(mean, index, 0)
            var = gfx.ops.scatter(centred * centred, index, 0, size, "mean")
            out = centred * gfx.ops.gather((var + self.eps).rsqrt(), index, 0)
            if self.training and self.track_running_stats:
                self._update_running_stats(x, index, size, mean, var)
        else:
            out = (x - self.running_mean) * (self.running_var + self.eps).rsqrt()
        if self.affine:
            out = out * self.weight + self.bias
        return out

    def _update_running_stats(self, x: Tensor, index: Tensor, size, mean: Tensor,
                              var: Tensor) -> None:
        # Statistics enter the buffers detached: written so that fx records it (no
        # torch.no_grad block, which tracing would not keep).
        count = gfx.ops.scatter(x.new_ones(x.shape[0]), index, 0, size, "sum")
        unbiased = var.detach() * (count / (count - 1).clamp(min=1)).unsqueeze(-1)
        if self.momentum is None:
            self.num_batches_tracked.add_(1)
            factor = 1.0 / self.num_batches_tracked.to(x.dtype)
        else:
            factor = self.momentum
        self.running_mean.lerp_(mean.detach().mean(dim=0).to(self.running_mean.dtype), factor)
        self.running_var.lerp_(unbiased.mean(dim=0).to(self.running_var.dtype), factor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels})"


__all__ = ["InstanceNorm"]
