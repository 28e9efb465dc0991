"""``MeanSubtractionNorm``: centre the node features of every graph."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.nn.pool.glob import check_batch, graph_mean_per_node


class MeanSubtractionNorm(torch.nn.Module):
    """Mean subtraction of "Revisiting 'Over-smoothing' in Deep GCNs".

    .. math::
        \\mathbf{x}'_i = \\mathbf{x}_i - \\frac{1}{|\\mathcal{V}_b|}
        \\sum_{j \\in \\mathcal{V}_b} \\mathbf{x}_j

    where :math:`\\mathcal{V}_b` are the nodes of the graph of node :math:`i` (all nodes
    when ``batch`` is ``None``).  No parameters.

    Shapes: ``x`` ``[N, F]``, ``batch`` ``[N]`` -> ``[N, F]``.
    """

    def reset_parameters(self) -> None:
        """Nothing to reset (no parameters)."""

    def forward(self, x: Tensor, batch: Optional[Tensor] = None,
                dim_size: Optional[int] = None) -> Tensor:
        """Subtract each graph's mean; ``dim_size`` is the number of graphs (optional)."""
        check_batch("MeanSubtractionNorm", x, batch, 0)
        return x - graph_mean_per_node(x, batch, dim_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


__all__ = ["MeanSubtractionNorm"]
