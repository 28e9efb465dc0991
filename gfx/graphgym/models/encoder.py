"""Feature encoders: integer (categorical) node and edge features to dense embeddings.

An encoder accepts a tensor (and returns the embedding) or a graph batch (and replaces
``batch.x``, or ``batch.edge_attr`` for edge encoders).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from gfx.graphgym.register import register_edge_encoder, register_node_encoder

# Category counts of the 9 atom and 3 bond features of the OGB molecule datasets
# (atomic number, chirality, degree, formal charge, #H, radical electrons,
# hybridisation, aromatic, in ring; bond type, stereo, conjugated), each with its
# "misc" bucket.
ATOM_FEATURE_DIMS = (119, 5, 12, 12, 10, 6, 6, 2, 2)
BOND_FEATURE_DIMS = (5, 6, 2)


def _embed_columns(embeddings: torch.nn.ModuleList, x: Tensor, owner: str) -> Tensor:
    """Sum of ``embeddings[i](x[:, i])`` over the columns of ``x``."""
    if x.dim() != 2 or x.shape[1] > len(embeddings) or x.shape[1] == 0:
        raise ValueError(f"{owner}: expected integer features [N, 1..{len(embeddings)}], "
                         f"got shape {list(x.shape)}")
    if x.is_floating_point():
        x = x.long()
    for i in range(x.shape[1]):
        top, count = int(x[:, i].max()) if x.shape[0] else 0, embeddings[i].num_embeddings
        if top >= count or (x.shape[0] and int(x[:, i].min()) < 0):
            raise ValueError(f"{owner}: feature column {i} holds {top} but has {count} "
                             f"categories (values 0..{count - 1})")
    out = embeddings[0](x[:, 0])
    for i in range(1, x.shape[1]):
        out = out + embeddings[i](x[:, i])
    return out


class _CategoricalEncoder(torch.nn.Module):
    """One embedding table per feature column; the embeddings are summed."""

    key = "x"

    def __init__(self, emb_dim: int, dims: Sequence[int]):
        super().__init__()
        self.embeddings = torch.nn.ModuleList(torch.nn.Embedding(d, emb_dim) for d in dims)
        for table in self.embeddings:
            torch.nn.init.xavier_uniform_(table.weight)

    def forward(self, batch):
        if isinstance(batch, Tensor):
            return _embed_columns(self.embeddings, batch, type(self).__name__)
        batch[self.key] = _embed_columns(self.embeddings, batch[self.key],
                                         type(self).__name__)
        return batch


@register_node_encoder("Integer")
class IntegerFeatureEncoder(torch.nn.Module):
    """Embeds an integer node feature (the first column of ``x``) into ``emb_dim``
    dimensions.

    Args:
        emb_dim (int): the embedding width.
        num_classes (int): the number of distinct integers (values ``0..num_classes-1``).
    """

    def __init__(self, emb_dim: int, num_classes: int):
        super().__init__()
        self.encoder = torch.nn.Embedding(num_classes, emb_dim)
        torch.nn.init.xavier_uniform_(self.encoder.weight)

    def _encode(self, x: Tensor) -> Tensor:
        column = x[:, 0] if x.dim() == 2 else x
        return self.encoder(column.long())

    def forward(self, batch):
        if isinstance(batch, Tensor):
            return self._encode(batch)
        batch.x = self._encode(batch.x)
        return batch


@register_node_encoder("Atom")
class AtomEncoder(_CategoricalEncoder):
    """The atom encoder of the OGB molecule datasets: one embedding per atom feature
    column (up to 9), summed.

    Args:
        emb_dim (int): the embedding width.
    """

    def __init__(self, emb_dim: int, *args, **kwargs):
        super().__init__(emb_dim, ATOM_FEATURE_DIMS)


@register_edge_encoder("Bond")
class BondEncoder(_CategoricalEncoder):
    """The bond encoder of the OGB molecule datasets: one embedding per bond feature
    column (up to 3), summed, written to ``edge_attr``.

    Args:
        emb_dim (int): the embedding width.
    """

    key = "edge_attr"

    def __init__(self, emb_dim: int):
        super().__init__(emb_dim, BOND_FEATURE_DIMS)
