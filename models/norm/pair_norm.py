"""``PairNorm``: centre and rescale node features against over-smoothing."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.nn.pool.glob import check_batch, graph_count, graph_mean_per_node


class PairNorm(torch.nn.Module):
    """Pair normalisation of "PairNorm: Tackling Oversmoothing in GNNs".

    .. math::
        \\mathbf{x}^c_i = \\mathbf{x}_i - \\frac{1}{|\\mathcal{V}_b|}
        \\sum_{j \\in \\mathcal{V}_b} \\mathbf{x}_j, \\qquad
        \\mathbf{x}'_i = s \\cdot \\frac{\\mathbf{x}^c_i}{\\sqrt{\\epsilon +
        \\frac{1}{|\\mathcal{V}_b|} \\sum_{j \\in \\mathcal{V}_b}
        \\lVert \\mathbf{x}^c_j \\rVert_2^2}}

    over the nodes :math:`\\mathcal{V}_b` of the graph of node :math:`i` (all nodes when
    ``batch`` is ``None``).  With ``scale_individually=True`` every node is scaled by its
    own norm: :math:`\\mathbf{x}'_i = s \\cdot \\mathbf{x}^c_i / (\\epsilon +
    \\lVert \\mathbf{x}^c_i \\rVert_2)`.

    Args:
        scale (float, optional): the scale :math:`s`. (default: ``1.0``)
        scale_individually (bool, optional): scale each node by its own norm.
            (default: ``False``)
        eps (float, optional): for numerical stability, placed as above.
            (default: ``1e-5``)

    Shapes: ``x`` ``[N, F]``, ``batch`` ``[N]`` -> ``[N, F]``.
    """

    def __init__(self, scale: float = 1.0, scale_individually: bool = False,
                 eps: float = 1e-5):
        super().__init__()
        self.scale = scale
        self.scale_individually = scale_individually
        self.eps = eps

    def reset_parameters(self) -> None:
        """Nothing to reset (no parameters)."""

    def forward(self, x: Tensor, batch: Optional[Tensor] = None,
                batch_size: Optional[int] = None) -> Tensor:
        """Normalise ``x``; ``batch_size`` is the number of graphs (optional)."""
        check_batch("PairNorm", x, batch, 0)
        size = None if batch is None else graph_count(batch, batch_size)
        centred = x - graph_mean_per_node(x, batch, size)
        if self.scale_individually:
            return self.scale * centred / (self.eps + centred.norm(p=2, dim=-1, keepdim=True))
        power = graph_mean_per_node((centred * centred).sum(dim=-1, keepdim=True), batch, size)
        return self.scale * centred * (self.eps + power).rsqrt()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


__all__ = ["PairNorm"]
