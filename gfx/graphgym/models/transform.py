"""Link-prediction transforms of GraphGym: training negatives and their labels."""
from __future__ import annotations

import torch
from torch import Tensor

from gfx.utils import negative_sampling


def create_link_label(pos_edge_index: Tensor, neg_edge_index: Tensor) -> Tensor:
    """Float labels for the concatenation of positive and negative links: 1 for each
    column of ``pos_edge_index``, then 0 for each column of ``neg_edge_index``."""
    label = torch.zeros(pos_edge_index.size(1) + neg_edge_index.size(1),
                        dtype=torch.float, device=pos_edge_index.device)
    label[:pos_edge_index.size(1)] = 1.0
    return label


def neg_sampling_transform(data):
    """Draw one negative link per positive training link of ``data``.

    Reads ``data.train_pos_edge_index`` and sets ``data.train_edge_index`` (positives, then
    the sampled negatives) and ``data.train_edge_label`` (:func:`create_link_label`).
    Returns ``data``.
    """
    if getattr(data, "train_pos_edge_index", None) is None:
        raise AttributeError("neg_sampling_transform: the graph has no "
                             "'train_pos_edge_index' (the positive training links)")
    pos = data.train_pos_edge_index
    neg = negative_sampling(edge_index=pos, num_nodes=data.num_nodes,
                            num_neg_samples=pos.size(1))
    data.train_edge_index = torch.cat([pos, neg], dim=-1)
    data.train_edge_label = create_link_label(pos, neg)
    return data


__all__ = ["create_link_label", "neg_sampling_transform"]
