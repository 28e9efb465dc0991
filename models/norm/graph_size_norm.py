"""``GraphSizeNorm``: divide node features by the square root of the graph size."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

import gfx.ops
from gfx.nn.pool.glob import check_batch, graph_count


class GraphSizeNorm(torch.nn.Module):
    """Graph size normalisation of "Benchmarking Graph Neural Networks".

    .. math::
        \\mathbf{x}'_i = \\frac{\\mathbf{x}_i}{\\sqrt{|\\mathcal{V}_b|}}

    where :math:`|\\mathcal{V}_b|` is the number of nodes of the graph of node :math:`i`
    (all nodes when ``batch`` is ``None``).  No parameters.

    Shapes: ``x`` ``[N, F]``, ``batch`` ``[N]`` -> ``[N, F]``.
    """

    def reset_parameters(self) -> None:
        """Nothing to reset (no parameters)."""

    def forward(self, x: Tensor, batch: Optional[Tensor] = None,
                batch_size: Optional[int] = None) -> Tensor:
        """Scale ``x``; ``batch_size`` is the number of graphs (optional)."""
        check_batch("GraphSizeNorm", x, batch, 0)
        if batch is None:
            index = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
            size = 1
        else:
            index, size = batch, graph_count(batch, batch_size)
        nodes = gfx.ops.scatter(x.new_ones(x.shape[0]), index, 0, size, "sum")
        return x * gfx.ops.gather(nodes.clamp(min=1).rsqrt(), index, 0).unsqueeze(-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


__all__ = ["GraphSizeNorm"]
