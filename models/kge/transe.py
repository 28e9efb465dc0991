"""``TransE``: relations as translations (Bordes et al., NeurIPS 2013)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.kge.base import KGEModel


class TransE(KGEModel):
    """The TransE model of "Translating Embeddings for Modeling Multi-Relational Data".

    A relation moves the head onto the tail; the score is the negative distance

    .. math::
        f(h, r, t) = -\\left\\| \\frac{\\mathbf{e}_h}{\\|\\mathbf{e}_h\\|_p} +
        \\mathbf{e}_r - \\frac{\\mathbf{e}_t}{\\|\\mathbf{e}_t\\|_p} \\right\\|_p

    (entity embeddings normalised to unit :math:`p`-norm).  Trained with the margin
    ranking loss :math:`\\max(0, \\gamma - f(h, r, t) + f(h', r, t'))` against a
    corrupted triple :math:`(h', r, t')`.

    Args:
        num_nodes (int): number of entities.
        num_relations (int): number of relation types.
        hidden_channels (int): embedding size.
        margin (float, optional): the margin :math:`\\gamma`. (default: ``1.0``)
        p_norm (float, optional): the norm :math:`p`. (default: ``1.0``)
        sparse (bool, optional): sparse gradients for the embedding tables.
            (default: ``False``)
    """

    def __init__(self, num_nodes: int, num_relations: int, hidden_channels: int,
                 margin: float = 1.0, p_norm: float = 1.0, sparse: bool = False):
        super().__init__(num_nodes, num_relations, hidden_channels, sparse)
        self.p_norm = p_norm
        self.margin = margin
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in :math:`\\pm 6 / \\sqrt{d}`; relation rows normalised to unit p-norm."""
        bound = 6.0 / math.sqrt(self.hidden_channels)
        torch.nn.init.uniform_(self.node_emb.weight, -bound, bound)
        torch.nn.init.uniform_(self.rel_emb.weight, -bound, bound)
        with torch.no_grad():
            self.rel_emb.weight.copy_(F.normalize(self.rel_emb.weight, p=self.p_norm, dim=-1))

    def forward(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        head = F.normalize(self.node_emb(head_index), p=self.p_norm, dim=-1)
        tail = F.normalize(self.node_emb(tail_index), p=self.p_norm, dim=-1)
        rel = self.rel_emb(rel_type)
        return -((head + rel) - tail).norm(p=self.p_norm, dim=-1)

    def loss(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        pos = self(head_index, rel_type, tail_index)
        neg = self(*self.random_sample(head_index, rel_type, tail_index))
        return F.margin_ranking_loss(pos, neg, torch.ones_like(pos), margin=self.margin)


__all__ = ["TransE"]
