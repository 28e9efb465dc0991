"""``SignedGCN``: graph convolution on signed networks (Derr et al., ICDM 2018)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.conv.signed_conv import SignedConv
from gfx.nn.dense.linear import Linear
from gfx.nn.models.autoencoder import roc_auc_score
from gfx.utils import coalesce, negative_sampling, structured_negative_sampling


class SignedGCN(torch.nn.Module):
    """The signed graph convolutional network of "Signed Graph Convolutional Network".

    ``num_layers`` :class:`~gfx.nn.conv.SignedConv` layers (each with
    ``hidden_channels // 2`` balanced and ``hidden_channels // 2`` unbalanced features,
    ReLU after each) embed the nodes; a linear classifier on :math:`[\\mathbf{z}_i,
    \\mathbf{z}_j]` tells positive, negative and absent links apart.  The loss is

    .. math::
        \\mathcal{L} = \\mathcal{L}_{nll} + \\lambda\\left(\\mathcal{L}_{+} +
        \\mathcal{L}_{-}\\right)

    with :math:`\\mathcal{L}_{nll}` the mean of the three classes' negative log
    likelihoods (absent links drawn by negative sampling) and, for triples
    :math:`(i, j, k)` of an edge :math:`(i, j)` and a non-neighbour :math:`k`,

    .. math::
        \\mathcal{L}_{+} = \\mathrm{mean}\\,\\max(0, \\|\\mathbf{z}_i - \\mathbf{z}_j\\|^2
        - \\|\\mathbf{z}_i - \\mathbf{z}_k\\|^2), \\quad
        \\mathcal{L}_{-} = \\mathrm{mean}\\,\\max(0, \\|\\mathbf{z}_i - \\mathbf{z}_k\\|^2
        - \\|\\mathbf{z}_i - \\mathbf{z}_j\\|^2)

    over positive and negative edges respectively.

    Args:
        in_channels (int): input features per node.
        hidden_channels (int): embedding size (even).
        num_layers (int): the number of layers.
        lamb (float, optional): the weight :math:`\\lambda`. (default: ``5``)
        bias (bool, optional): learn additive biases. (default: ``True``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int,
                 lamb: float = 5, bias: bool = True):
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"SignedGCN: 'num_layers' must be an int >= 1, got {num_layers!r}")
        if hidden_channels < 2:
            raise ValueError(f"SignedGCN: 'hidden_channels' must be >= 2, got {hidden_channels}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.lamb = lamb
        self.conv1 = SignedConv(in_channels, hidden_channels // 2, first_aggr=True, bias=bias)
        self.convs = torch.nn.ModuleList([
            SignedConv(hidden_channels // 2, hidden_channels // 2, first_aggr=False, bias=bias)
            for _ in range(num_layers - 1)])
        self.lin = Linear(2 * hidden_channels, 3)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset every layer."""
        self.conv1.reset_parameters()
        for conv in self.convs:
            conv.reset_parameters()
        self.lin.reset_parameters()

    def split_edges(self, edge_index: Tensor, test_ratio: float = 0.2
                    ) -> Tuple[Tensor, Tensor]:
        """A random ``(train, test)`` split of the columns of ``edge_index``, with
        ``int(test_ratio * E)`` test edges. (default ``test_ratio``: ``0.2``)"""
        if not 0.0 <= test_ratio <= 1.0:
            raise ValueError(f"SignedGCN.split_edges: 'test_ratio' must be in [0, 1], got "
                             f"{test_ratio}")
        mask = torch.ones(edge_index.size(1), dtype=torch.bool, device=edge_index.device)
        mask[torch.randperm(mask.size(0))[:int(test_ratio * mask.size(0))]] = False
        return edge_index[:, mask], edge_index[:, ~mask]

    def create_spectral_features(self, pos_edge_index: Tensor, neg_edge_index: Tensor,
                                 num_nodes: Optional[int] = None) -> Tensor:
        """``in_channels`` spectral node features: the leading right singular vectors of
        the symmetrised signed adjacency (+1 per positive, -1 per negative edge, summed
        over duplicates and both directions), ``[N, in_channels]``.  Computed with a dense
        SVD (no scikit-learn); singular vectors are defined up to sign."""
        edge_index = torch.cat([pos_edge_index, neg_edge_index], dim=1)
        if num_nodes is None:
            num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
        if self.in_channels > num_nodes:
            raise ValueError(f"SignedGCN.create_spectral_features: needs at least "
                             f"in_channels={self.in_channels} nodes, got {num_nodes}")
        value = torch.cat([torch.ones(pos_edge_index.size(1)),
                           -torch.ones(neg_edge_index.size(1))])
        edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
        edge_index, value = coalesce(edge_index.cpu(), torch.cat([value, value]), num_nodes)
        adj = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
        adj[edge_index[0], edge_index[1]] = value.double()
        _, _, vh = torch.linalg.svd(adj)
        return vh[:self.in_channels].t().to(torch.float).to(pos_edge_index.device)

    def forward(self, x: Tensor, pos_edge_index: Tensor, neg_edge_index: Tensor) -> Tensor:
        """The node embeddings ``[N, hidden_channels]``."""
        z = F.relu(self.conv1(x, pos_edge_index, neg_edge_index))
        for conv in self.convs:
            z = F.relu(conv(z, pos_edge_index, neg_edge_index))
        return z

    def discriminate(self, z: Tensor, edge_index: Tensor) -> Tensor:
        """Log-probabilities ``[E, 3]`` of (positive, negative, absent) for each pair."""
        value = torch.cat([z[edge_index[0]], z[edge_index[1]]], dim=1)
        return torch.log_softmax(self.lin(value), dim=1)

    def nll_loss(self, z: Tensor, pos_edge_index: Tensor, neg_edge_index: Tensor) -> Tensor:
        """:math:`\\mathcal{L}_{nll}`, absent links sampled outside both edge sets."""
        edge_index = torch.cat([pos_edge_index, neg_edge_index], dim=1)
        none_edge_index = negative_sampling(edge_index, z.size(0))
        nll = F.nll_loss(self.discriminate(z, pos_edge_index),
                         pos_edge_index.new_full((pos_edge_index.size(1), ), 0))
        nll = nll + F.nll_loss(self.discriminate(z, neg_edge_index),
                               neg_edge_index.new_full((neg_edge_index.size(1), ), 1))
        nll = nll + F.nll_loss(self.discriminate(z, none_edge_index),
                               none_edge_index.new_full((none_edge_index.size(1), ), 2))
        return nll / 3.0

    def pos_embedding_loss(self, z: Tensor, pos_edge_index: Tensor) -> Tensor:
        """:math:`\\mathcal{L}_{+}`."""
        i, j, k = structured_negative_sampling(pos_edge_index, z.size(0))
        out = (z[i] - z[j]).pow(2).sum(dim=1) - (z[i] - z[k]).pow(2).sum(dim=1)
        return torch.clamp(out, min=0).mean()

    def neg_embedding_loss(self, z: Tensor, neg_edge_index: Tensor) -> Tensor:
        """:math:`\\mathcal{L}_{-}`."""
        i, j, k = structured_negative_sampling(neg_edge_index, z.size(0))
        out = (z[i] - z[k]).pow(2).sum(dim=1) - (z[i] - z[j]).pow(2).sum(dim=1)
        return torch.clamp(out, min=0).mean()

    def loss(self, z: Tensor, pos_edge_index: Tensor, neg_edge_index: Tensor) -> Tensor:
        """:math:`\\mathcal{L}` of the class docstring."""
        nll_loss = self.nll_loss(z, pos_edge_index, neg_edge_index)
        loss_1 = self.pos_embedding_loss(z, pos_edge_index)
        loss_2 = self.neg_embedding_loss(z, neg_edge_index)
        return nll_loss + self.lamb * (loss_1 + loss_2)

    @torch.no_grad()
    def test(self, z: Tensor, pos_edge_index: Tensor, neg_edge_index: Tensor
             ) -> Tuple[float, float]:
        """``(AUC, F1)`` of telling positive from negative links: each link is predicted
        positive when the classifier prefers "positive" to "negative" (F1 is 0 when no
        link is predicted positive)."""
        pos_p = self.discriminate(z, pos_edge_index)[:, :2].max(dim=1)[1]
        neg_p = self.discriminate(z, neg_edge_index)[:, :2].max(dim=1)[1]
        pred = (1 - torch.cat([pos_p, neg_p])).cpu()
        y = torch.cat([pred.new_ones(pos_p.size(0)), pred.new_zeros(neg_p.size(0))])
        auc = roc_auc_score(y, pred.double())
        true_pos = int((pred * y).sum())
        f1 = 2 * true_pos / (int(pred.sum()) + int(y.sum())) if pred.sum() > 0 else 0.0
        return auc, f1

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, "
                f"num_layers={self.num_layers})")


__all__ = ["SignedGCN"]
