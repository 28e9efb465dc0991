"""``RotatE``: relations as rotations in the complex plane (Sun et al., ICLR 2019)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding

from gfx.nn.kge.base import KGEModel


class RotatE(KGEModel):
    """The RotatE model of "RotatE: Knowledge Graph Embedding by Relational Rotation in
    Complex Space".

    Entities are complex vectors (tables ``node_emb`` and ``node_emb_im``); a relation is
    a vector of phases :math:`\\boldsymbol{\\theta}_r` (table ``rel_emb``) that rotates
    the head:

    .. math::
        f(h, r, t) = \\gamma - \\left\\| \\mathbf{e}_h \\circ e^{i\\boldsymbol{\\theta}_r}
        - \\mathbf{e}_t \\right\\|_2
        = \\gamma - \\sqrt{\\sum_k \\left| e_{h,k}\\, e^{i\\theta_{r,k}} - e_{t,k}
        \\right|^2}

    (the Euclidean norm of the complex difference, as the reference library computes it;
    the paper sums the moduli instead).

    Trained with the logistic loss: binary cross-entropy on the scores, true triples
    labelled 1 and corrupted ones 0.

    Args:
        num_nodes (int): number of entities.
        num_relations (int): number of relation types.
        hidden_channels (int): embedding size (complex entries).
        margin (float, optional): the margin :math:`\\gamma`. (default: ``1.0``)
        sparse (bool, optional): sparse gradients for the embedding tables.
            (default: ``False``)
    """

    def __init__(self, num_nodes: int, num_relations: int, hidden_channels: int,
                 margin: float = 1.0, sparse: bool = False):
        super().__init__(num_nodes, num_relations, hidden_channels, sparse)
        self.margin = margin
        self.node_emb_im = Embedding(num_nodes, hidden_channels, sparse=sparse)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform entity tables; phases uniform in :math:`[0, 2\\pi]`."""
        torch.nn.init.xavier_uniform_(self.node_emb.weight)
        torch.nn.init.xavier_uniform_(self.node_emb_im.weight)
        torch.nn.init.uniform_(self.rel_emb.weight, 0, 2 * math.pi)

    def forward(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        h_re, h_im = self.node_emb(head_index), self.node_emb_im(head_index)
        t_re, t_im = self.node_emb(tail_index), self.node_emb_im(tail_index)
        phase = self.rel_emb(rel_type)
        r_re, r_im = torch.cos(phase), torch.sin(phase)
        d_re = h_re * r_re - h_im * r_im - t_re
        d_im = h_re * r_im + h_im * r_re - t_im
        return self.margin - torch.linalg.vector_norm(torch.cat([d_re, d_im], dim=-1), dim=-1)

    def loss(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        pos = self(head_index, rel_type, tail_index)
        neg = self(*self.random_sample(head_index, rel_type, tail_index))
        scores = torch.cat([pos, neg])
        labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
        return F.binary_cross_entropy_with_logits(scores, labels)


__all__ = ["RotatE"]
