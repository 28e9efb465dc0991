"""``GraphNorm``: per-graph normalisation with a learnable share of the mean."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.nn import inits
from gfx.nn.norm.instance_norm import check_features
from gfx.nn.pool.glob import check_batch, graph_count, graph_mean_per_node


class GraphNorm(torch.nn.Module):
    """Graph normalisation of "GraphNorm: A Principled Approach to Accelerating Graph
    Neural Network Training".

    .. math::
        \\mathbf{x}'_i = \\frac{\\mathbf{x}_i - \\alpha \\odot \\mathrm{E}_b[\\mathbf{x}]}
        {\\sqrt{\\mathrm{E}_b\\big[(\\mathbf{x} - \\alpha \\odot \\mathrm{E}_b[\\mathbf{x}])^2
        \\big] + \\epsilon}} \\odot \\gamma + \\beta

    with per-channel means :math:`\\mathrm{E}_b` over the nodes of the graph of node
    :math:`i` (all nodes when ``batch`` is ``None``) and learnable :math:`\\alpha`
    (``mean_scale``), :math:`\\gamma` (``weight``), :math:`\\beta` (``bias``).

    Args:
        in_channels (int): features per node, :math:`F`.
        eps (float, optional): added to the variance. (default: ``1e-5``)
        device (torch.device, optional): where to create the parameters.
            (default: ``None``)

    Shapes: ``x`` ``[N, F]``, ``batch`` ``[N]`` -> ``[N, F]``.
    """

    def __init__(self, in_channels: int, eps: float = 1e-5,
                 device: Optional[torch.device] = None):
        super().__init__()
        self.in_channels = in_channels
        self.eps = eps
        self.weight = Parameter(torch.empty(in_channels, device=device))
        self.bias = Parameter(torch.empty(in_channels, device=device))
        self.mean_scale = Parameter(torch.empty(in_channels, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """:math:`\\gamma = \\alpha = 1`, :math:`\\beta = 0`."""
        inits.ones(self.weight)
        inits.zeros(self.bias)
        inits.ones(self.mean_scale)

    def forward(self, x: Tensor, batch: Optional[Tensor] = None,
                batch_size: Optional[int] = None) -> Tensor:
        """Normalise ``x``; ``batch_size`` is the number of graphs (optional)."""
        check_features("GraphNorm", x, self.in_channels)
        check_batch("GraphNorm", x, batch, 0)
        size = None if batch is None else graph_count(batch, batch_size)
        out = x - graph_mean_per_node(x, batch, size) * self.mean_scale
        var = graph_mean_per_node(out * out, batch, size)
        return self.weight * out * (var + self.eps).rsqrt() + self.bias

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels})"


__all__ = ["GraphNorm"]
