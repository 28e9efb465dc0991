"""``PMLP``: an MLP in training, a GNN at test time (Yang et al., ICLR 2023)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.dense.linear import Linear
from gfx.ops import scatter
from gfx.utils import is_tracing


class PMLP(torch.nn.Module):
    """The propagational MLP of "Graph Neural Networks are Inherently Good Generalizers:
    Insights by Bridging GNNs and MLPs".

    Layer :math:`\\ell` computes

    .. math::
        \\mathbf{H}^{(\\ell)} = \\mathrm{Dropout}\\left(\\mathrm{ReLU}\\left(
        \\mathrm{Norm}\\left(P(\\mathbf{H}^{(\\ell-1)}\\mathbf{W}_\\ell) +
        \\mathbf{b}_\\ell\\right)\\right)\\right)

    (the last layer stops after the bias), where :math:`P` is the identity in training
    mode and, in evaluation mode, the mean over each node and its in-neighbours,
    :math:`(\\mathbf{D} + \\mathbf{I})^{-1}(\\mathbf{A} + \\mathbf{I})` (a self-loop is
    added to every node, existing loops and duplicate edges count; the reference
    library's propagation).  Norm is a batch normalisation without affine parameters or
    running statistics.

    Args:
        in_channels (int): input features per node.
        hidden_channels (int): hidden features.
        out_channels (int): output features.
        num_layers (int): the number of layers.
        dropout (float, optional): dropout probability of the hidden embeddings.
            (default: ``0.``)
        norm (bool, optional): apply the batch normalisation. (default: ``True``)
        bias (bool, optional): learn additive biases. (default: ``True``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int, dropout: float = 0., norm: bool = True, bias: bool = True):
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"PMLP: 'num_layers' must be an int >= 1, got {num_layers!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"PMLP: 'dropout' must be in [0, 1], got {dropout}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.dropout = dropout
        self.bias = bias
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.lins = torch.nn.ModuleList([Linear(a, b, bias=bias) for a, b in
                                         zip(sizes[:-1], sizes[1:])])
        self.norm = None
        if norm:
            self.norm = torch.nn.BatchNorm1d(hidden_channels, affine=False,
                                             track_running_stats=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weights, zero biases."""
        for lin in self.lins:
            torch.nn.init.xavier_uniform_(lin.weight, gain=1.414)
            if lin.bias is not None:
                torch.nn.init.zeros_(lin.bias)

    def forward(self, x: Tensor, edge_index: Optional[Tensor] = None) -> Tensor:
        if not self.training and edge_index is None:
            raise ValueError("PMLP: 'edge_index' is needed in evaluation mode (PMLP "
                             "propagates at test time)")
        for i, lin in enumerate(self.lins):
            x = x @ lin.weight.t()
            if not self.training:
                x = self._propagate(x, edge_index)
            if lin.bias is not None:
                x = x + lin.bias
            if i != self.num_layers - 1:
                if self.norm is not None:
                    x = self.norm(x)
                x = x.relu()
                x = F.dropout(x, p=self.dropout, training=self.training)
        return x

    @staticmethod
    def _propagate(x: Tensor, edge_index: Tensor) -> Tensor:
        """:math:`(\\mathbf{D} + \\mathbf{I})^{-1}(\\mathbf{A} + \\mathbf{I})\\mathbf{X}`."""
        if not is_tracing(edge_index) and (edge_index.dim() != 2 or edge_index.shape[0] != 2):
            raise ValueError(f"PMLP: 'edge_index' must have shape [2, E], got "
                             f"{list(edge_index.shape)}")
        loops = torch.arange(x.size(0), device=edge_index.device)
        src = torch.cat([edge_index[0], loops])
        dst = torch.cat([edge_index[1], loops])
        return scatter(x[src], dst, 0, x.size(0), "mean")

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"num_layers={self.num_layers})")


__all__ = ["PMLP"]
