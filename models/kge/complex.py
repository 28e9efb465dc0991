"""``ComplEx``: complex-valued bilinear scores (Trouillon et al., ICML 2016)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding

from gfx.nn.kge.base import KGEModel


class ComplEx(KGEModel):
    """The ComplEx model of "Complex Embeddings for Simple Link Prediction".

    Entities and relations are complex vectors
    :math:`\\mathbf{e} = \\mathbf{e}^{re} + i\\, \\mathbf{e}^{im}` (tables ``node_emb``,
    ``node_emb_im``, ``rel_emb``, ``rel_emb_im``), and

    .. math::
        f(h, r, t) = \\mathrm{Re}\\left(\\sum_k e_{h,k}\\, e_{r,k}\\,
        \\overline{e_{t,k}}\\right)

    Trained with the logistic loss: binary cross-entropy on the scores, true triples
    labelled 1 and corrupted ones 0.

    Args:
        num_nodes (int): number of entities.
        num_relations (int): number of relation types.
        hidden_channels (int): embedding size (complex entries).
        sparse (bool, optional): sparse gradients for the embedding tables.
            (default: ``False``)
    """

    def __init__(self, num_nodes: int, num_relations: int, hidden_channels: int,
                 sparse: bool = False):
        super().__init__(num_nodes, num_relations, hidden_channels, sparse)
        self.node_emb_im = Embedding(num_nodes, hidden_channels, sparse=sparse)
        self.rel_emb_im = Embedding(num_relations, hidden_channels, sparse=sparse)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform real and imaginary tables."""
        for table in (self.node_emb, self.node_emb_im, self.rel_emb, self.rel_emb_im):
            torch.nn.init.xavier_uniform_(table.weight)

    def forward(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        h_re, h_im = self.node_emb(head_index), self.node_emb_im(head_index)
        r_re, r_im = self.rel_emb(rel_type), self.rel_emb_im(rel_type)
        t_re, t_im = self.node_emb(tail_index), self.node_emb_im(tail_index)
        # Re((h_re + i h_im)(r_re + i r_im)(t_re - i t_im))
        return ((h_re * r_re - h_im * r_im) * t_re
                + (h_re * r_im + h_im * r_re) * t_im).sum(dim=-1)

    def loss(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        pos = self(head_index, rel_type, tail_index)
        neg = self(*self.random_sample(head_index, rel_type, tail_index))
        scores = torch.cat([pos, neg])
        labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
        return F.binary_cross_entropy_with_logits(scores, labels)


__all__ = ["ComplEx"]
