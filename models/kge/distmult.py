"""``DistMult``: a diagonal bilinear score (Yang et al., ICLR 2015)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.kge.base import KGEModel


class DistMult(KGEModel):
    """The DistMult model of "Embedding Entities and Relations for Learning and Inference
    in Knowledge Bases".

    .. math::
        f(h, r, t) = \\langle \\mathbf{e}_h, \\mathbf{e}_r, \\mathbf{e}_t \\rangle
        = \\sum_k e_{h,k}\\, e_{r,k}\\, e_{t,k}

    Trained with the margin ranking loss :math:`\\max(0, \\gamma - f(h, r, t) +
    f(h', r, t'))` against a corrupted triple.

    Args:
        num_nodes (int): number of entities.
        num_relations (int): number of relation types.
        hidden_channels (int): embedding size.
        margin (float, optional): the margin :math:`\\gamma`. (default: ``1.0``)
        sparse (bool, optional): sparse gradients for the embedding tables.
            (default: ``False``)
    """

    def __init__(self, num_nodes: int, num_relations: int, hidden_channels: int,
                 margin: float = 1.0, sparse: bool = False):
        super().__init__(num_nodes, num_relations, hidden_channels, sparse)
        self.margin = margin
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform entity and relation tables."""
        torch.nn.init.xavier_uniform_(self.node_emb.weight)
        torch.nn.init.xavier_uniform_(self.rel_emb.weight)

    def forward(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        head, rel, tail = self.node_emb(head_index), self.rel_emb(rel_type), \
            self.node_emb(tail_index)
        return (head * rel * tail).sum(dim=-1)

    def loss(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        pos = self(head_index, rel_type, tail_index)
        neg = self(*self.random_sample(head_index, rel_type, tail_index))
        return F.margin_ranking_loss(pos, neg, torch.ones_like(pos), margin=self.margin)


__all__ = ["DistMult"]
