"""Link prediction splits of one graph: message edges, and labelled node pairs per split.

The undirected node pairs of the graph (self-loops dropped) are split by
``cfg.dataset.split``.  Every split gets ``<split>_edge_index`` (``[2, P + Q]``: its
``P`` positive pairs, then ``Q = round(P * cfg.dataset.edge_negative_sampling_ratio)``
node pairs that are not edges of the graph) and ``<split>_edge_label`` (1 for the
positives, 0 for the negatives).

Messages flow only over training pairs, so validation and test pairs stay unseen:

* ``edge_train_mode: all``: training pairs are message edges and supervision pairs;
* ``edge_train_mode: disjoint``: a ``cfg.dataset.edge_message_ratio`` share of the
  training pairs carries messages during training and the rest is supervised;
  validation and test use all training pairs as message edges.

A message edge keeps the direction(s) and ``edge_attr`` it has in the original graph.
With ``cfg.dataset.resample_negative`` the training negatives are drawn again every time
the training graph is loaded (every epoch).
"""
from __future__ import annotations

import copy
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from gfx.graphgym.config import cfg
from gfx.graphgym.splits import SPLIT_NAMES, split_indices

EDGE_TRAIN_MODES = ("all", "disjoint")


def pair_codes(edge_index: Tensor, num_nodes: int) -> Tensor:
    """An integer per edge that is the same for ``(u, v)`` and ``(v, u)``."""
    low = torch.minimum(edge_index[0], edge_index[1])
    high = torch.maximum(edge_index[0], edge_index[1])
    return low * num_nodes + high


def undirected_pairs(edge_index: Tensor, num_nodes: int) -> Tensor:
    """The distinct pairs ``u < v`` joined by an edge in either direction, ``[2, P]``."""
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    codes = torch.unique(pair_codes(edge_index, num_nodes))
    return torch.stack([codes // num_nodes, codes % num_nodes])


def sample_negatives(num: int, num_nodes: int, forbidden: Tensor,
                     generator: Optional[torch.Generator] = None) -> Tensor:
    """``num`` distinct node pairs ``(u, v)``, ``u != v``, whose :func:`pair_codes` are
    not in ``forbidden``, ``[2, num]``.

    Args:
        num (int): how many pairs.
        num_nodes (int): the number of nodes.
        forbidden (Tensor): sorted pair codes of the graph's edges.
        generator (torch.Generator, optional): source of randomness (the global one if
            ``None``). (default: ``None``)
    """
    capacity = num_nodes * (num_nodes - 1) // 2 - forbidden.numel()
    if num > capacity:
        raise ValueError(f"link prediction: cannot draw {num} negative pairs, the graph "
                         f"has only {capacity} unconnected pairs")
    chosen = torch.empty(0, dtype=torch.long)
    while chosen.numel() < num:
        draw = torch.randint(num_nodes, (2, 2 * (num - chosen.numel()) + 16),
                             generator=generator)
        draw = draw[:, draw[0] != draw[1]]
        codes = pair_codes(draw, num_nodes)
        codes = codes[~torch.isin(codes, forbidden) & ~torch.isin(codes, chosen)]
        codes = torch.unique(codes)  # sorted: shuffle so that the cut below is random
        codes = codes[torch.randperm(codes.numel(), generator=generator)]
        chosen = torch.cat([chosen, codes[:num - chosen.numel()]])
    return torch.stack([chosen // num_nodes, chosen % num_nodes])


class NegativeResampler:
    """A transform that replaces the negative pairs of ``<split>_edge_index`` by fresh
    ones (the positives stay).

    Args:
        split (str): the split whose pairs are resampled.
        num_pos (int): the number of positive pairs (they come first).
        forbidden (Tensor): sorted pair codes of the graph's edges.
    """

    def __init__(self, split: str, num_pos: int, forbidden: Tensor):
        self.split, self.num_pos, self.forbidden = split, num_pos, forbidden

    def __call__(self, data):
        index = data[f"{self.split}_edge_index"]
        negatives = sample_negatives(index.shape[1] - self.num_pos, data.num_nodes,
                                     self.forbidden)
        data[f"{self.split}_edge_index"] = torch.cat([index[:, :self.num_pos], negatives], 1)
        return data


def _message_graph(data, pairs: Tensor):
    """``data`` keeping only the edges whose node pair is among ``pairs``."""
    graph = copy.copy(data)
    n = data.num_nodes
    keep = torch.isin(pair_codes(data.edge_index, n), pair_codes(pairs, n))
    graph.edge_index = data.edge_index[:, keep]
    if data.edge_attr is not None:
        graph.edge_attr = data.edge_attr[keep]
    return graph


def make_link_splits(data) -> List[Tuple[object, Optional[NegativeResampler]]]:
    """``(graph, transform)`` for each split of ``cfg.dataset.split`` (see the module
    docstring); ``transform`` resamples training negatives or is ``None``."""
    mode = cfg.dataset.edge_train_mode
    if mode not in EDGE_TRAIN_MODES:
        raise ValueError(f"cfg.dataset.edge_train_mode must be one of {EDGE_TRAIN_MODES}, "
                         f"got '{mode}'")
    n = data.num_nodes
    pairs = undirected_pairs(data.edge_index, n)
    forbidden = torch.unique(pair_codes(pairs, n))
    positives = [pairs[:, index] for index in split_indices(pairs.shape[1])]
    train_pos = positives[0]
    generator = torch.Generator().manual_seed(cfg.seed + 1)
    message = train_pos
    if mode == "disjoint":
        order = torch.randperm(train_pos.shape[1], generator=generator)
        cut = int(round(cfg.dataset.edge_message_ratio * train_pos.shape[1]))
        message, positives[0] = train_pos[:, order[:cut]], train_pos[:, order[cut:]]
    out = []
    for i, (name, pos) in enumerate(zip(SPLIT_NAMES, positives)):
        graph = _message_graph(data, message if i == 0 else train_pos)
        num_neg = int(round(pos.shape[1] * cfg.dataset.edge_negative_sampling_ratio))
        neg = sample_negatives(num_neg, n, forbidden, generator)
        graph[f"{name}_edge_index"] = torch.cat([pos, neg], dim=1)
        graph[f"{name}_edge_label"] = torch.cat([torch.ones(pos.shape[1], dtype=torch.long),
                                                 torch.zeros(num_neg, dtype=torch.long)])
        resample = i == 0 and cfg.dataset.resample_negative
        out.append((graph, NegativeResampler(name, pos.shape[1], forbidden)
                    if resample else None))
    return out
