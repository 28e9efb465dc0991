"""``ARLinkPredictor``: link prediction with attract-repel node embeddings (pseudo-Euclidean
scores; "Pseudo-Euclidean Attract-Repel Embeddings for Undirected Graphs")."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear, ModuleList

__all__ = ["ARLinkPredictor"]


class ARLinkPredictor(torch.nn.Module):
    """Link predictor using attract-repel (AR) embeddings.

    A ReLU MLP maps node features to a hidden representation :math:`\\mathbf{h}_v`, two
    linear heads split it into an *attract* part :math:`\\mathbf{a}_v` and a *repel* part
    :math:`\\mathbf{r}_v`, and the probability of the edge :math:`(u, v)` is

    .. math::
        p(u, v) = \\sigma\\left(\\langle \\mathbf{a}_u, \\mathbf{a}_v \\rangle -
        \\langle \\mathbf{r}_u, \\mathbf{r}_v \\rangle\\right),

    i.e. a score under the pseudo-Euclidean inner product of signature
    ``(attract_dim, repel_dim)``, which (unlike a dot product) can make a node dissimilar
    to itself and so model heterophilous, non-transitive links.

    The MLP has ``max(1, num_layers - 1)`` layers (``Linear -> ReLU -> dropout``); the
    attract head has ``int(out_channels * attract_ratio)`` outputs and the repel head the
    rest.

    Args:
        in_channels (int): size of each input node feature.
        hidden_channels (int): size of the hidden representation.
        out_channels (int, optional): total size of the attract plus repel embedding; if
            ``None``, ``hidden_channels``. (default: ``None``)
        num_layers (int, optional): number of layers counting the attract/repel heads.
            (default: ``2``)
        dropout (float, optional): dropout probability after each hidden layer.
            (default: ``0.0``)
        attract_ratio (float, optional): fraction of ``out_channels`` given to the
            attract part, in :math:`[0, 1]`. (default: ``0.5``)
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: Optional[int] = None, num_layers: int = 2,
                 dropout: float = 0.0, attract_ratio: float = 0.5):
        super().__init__()
        if not 0.0 <= attract_ratio <= 1.0:
            raise ValueError(f"ARLinkPredictor: 'attract_ratio' must be between 0 and 1, "
                             f"got {attract_ratio}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"ARLinkPredictor: 'dropout' must be between 0 and 1, got "
                             f"{dropout}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = hidden_channels if out_channels is None else out_channels
        self.num_layers = num_layers
        self.dropout = dropout
        self.attract_ratio = attract_ratio
        self.attract_dim = int(self.out_channels * attract_ratio)
        self.repel_dim = self.out_channels - self.attract_dim

        self.lins = ModuleList([Linear(in_channels, hidden_channels)])
        for _ in range(num_layers - 2):
            self.lins.append(Linear(hidden_channels, hidden_channels))
        self.lin_attract = Linear(hidden_channels, self.attract_dim)
        self.lin_repel = Linear(hidden_channels, self.repel_dim)

    def reset_parameters(self) -> None:
        """Re-initialises every linear layer as ``torch.nn.Linear`` does."""
        for lin in self.lins:
            lin.reset_parameters()
        self.lin_attract.reset_parameters()
        self.lin_repel.reset_parameters()

    def encode(self, x: Tensor, *args, **kwargs) -> Tuple[Tensor, Tensor]:
        """The attract and repel embeddings ``([N, attract_dim], [N, repel_dim])`` of the
        nodes (extra arguments are accepted and ignored)."""
        for lin in self.lins:
            x = F.dropout(lin(x).relu(), p=self.dropout, training=self.training)
        return self.lin_attract(x), self.lin_repel(x)

    def decode(self, attract_z: Tensor, repel_z: Tensor, edge_index: Tensor) -> Tensor:
        """The AR score :math:`\\langle \\mathbf{a}_u, \\mathbf{a}_v \\rangle -
        \\langle \\mathbf{r}_u, \\mathbf{r}_v \\rangle` (before the sigmoid) of each
        column ``(u, v)`` of ``edge_index``."""
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"ARLinkPredictor: 'edge_index' must have shape [2, E], got "
                             f"{tuple(edge_index.shape)}")
        src, dst = edge_index[0], edge_index[1]
        attract = (attract_z[src] * attract_z[dst]).sum(dim=-1)
        repel = (repel_z[src] * repel_z[dst]).sum(dim=-1)
        return attract - repel

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """The probability of each link in ``edge_index`` (``[E]``)."""
        attract_z, repel_z = self.encode(x)
        return torch.sigmoid(self.decode(attract_z, repel_z, edge_index))

    def calculate_r_fraction(self, attract_z: Tensor, repel_z: Tensor) -> float:
        """The fraction of the embeddings' squared norm that lies in the repel part,
        :math:`\\|\\mathbf{R}\\|_F^2 / (\\|\\mathbf{A}\\|_F^2 + \\|\\mathbf{R}\\|_F^2)`
        (a measure of how heterophilous the learnt graph model is)."""
        attract = attract_z.pow(2).sum()
        repel = repel_z.pow(2).sum()
        return float(repel / (attract + repel))
