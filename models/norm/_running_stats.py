"""What InstanceNorm and HeteroBatchNorm share: optional affine parameters and running
statistics, created, reset and laid out in the checkpoint as torch's batch norms do."""
from __future__ import annotations

from typing import Optional, Tuple

import torch


class AffineRunningStats(torch.nn.Module):
    """Registers ``weight``/``bias`` (when ``affine``) and ``running_mean``/
    ``running_var``/``num_batches_tracked`` (when ``track_running_stats``) of ``shape``;
    :meth:`reset_parameters` sets them to 1, 0, 0, 1 and 0."""

    def _register(self, shape: Tuple[int, ...], affine: bool, track_running_stats: bool,
                  device: Optional[torch.device]) -> None:
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = torch.nn.Parameter(torch.empty(shape, device=device))
            self.bias = torch.nn.Parameter(torch.empty(shape, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(shape, device=device))
            self.register_buffer("running_var", torch.ones(shape, device=device))
            self.register_buffer("num_batches_tracked",
                                 torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running means 0, variances 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics; :math:`\\gamma = 1`, :math:`\\beta = 0`."""
        self.reset_running_stats()
        if self.affine:
            torch.nn.init.ones_(self.weight)
            torch.nn.init.zeros_(self.bias)
