"""``RECT_L``: the supervised part of RECT (Wang et al., TKDE 2020)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.conv.gcn_conv import GCNConv
from gfx.nn.dense.linear import Linear
from gfx.ops import scatter


class RECT_L(torch.nn.Module):
    """The RECT-L model of "Network Embedding with Completely-imbalanced Labels": a GCN
    layer whose embeddings are trained to reconstruct semantic class knowledge,

    .. math::
        \\mathbf{H} = \\hat{\\mathbf{D}}^{-1/2}\\hat{\\mathbf{A}}\\hat{\\mathbf{D}}^{-1/2}
        \\mathbf{X}\\mathbf{\\Theta}_1 + \\mathbf{b}_1, \\qquad
        \\mathbf{Y} = \\mathrm{Dropout}(\\mathbf{H})\\mathbf{\\Theta}_2 + \\mathbf{b}_2

    mapping back to ``in_channels`` (the class semantics are given in the input space,
    see :meth:`get_semantic_labels`).

    Args:
        in_channels (int): input features per node.
        hidden_channels (int): embedding size.
        normalize (bool, optional): add self-loops and normalise symmetrically.
            (default: ``True``)
        dropout (float, optional): dropout probability on the embeddings.
            (default: ``0.0``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, normalize: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"RECT_L: 'dropout' must be in [0, 1], got {dropout}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.dropout = dropout
        self.conv = GCNConv(in_channels, hidden_channels, normalize=normalize)
        self.lin = Linear(hidden_channels, in_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset the GCN layer; Xavier-uniform output weights."""
        self.conv.reset_parameters()
        self.lin.reset_parameters()
        torch.nn.init.xavier_uniform_(self.lin.weight.data)

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        x = self.conv(x, edge_index, edge_weight)
        x = F.dropout(x, p=self.dropout, training=self.training)
        return self.lin(x)

    @torch.no_grad()
    def embed(self, x: Tensor, edge_index: Tensor,
              edge_weight: Optional[Tensor] = None) -> Tensor:
        """The embeddings :math:`\\mathbf{H}` (no gradient)."""
        return self.conv(x, edge_index, edge_weight)

    @torch.no_grad()
    def get_semantic_labels(self, x: Tensor, y: Tensor, mask: Tensor) -> Tensor:
        """The semantic label of each node in ``mask`` (``[M, F]``): the mean of ``x``
        over the nodes of ``mask`` that share its class."""
        y = y[mask] - y[mask].min()
        return scatter(x[mask], y, 0, int(y.max()) + 1, "mean")[y]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.hidden_channels})"


__all__ = ["RECT_L"]
