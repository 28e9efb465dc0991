"""Splitting the undirected edges of a graph into train / validation / test sets."""
from __future__ import annotations

import math

import torch

from .undirected import to_undirected


def train_test_split_edges(data, val_ratio: float = 0.05, test_ratio: float = 0.1):
    """Split ``data.edge_index`` into positive and negative link-prediction sets.

    Each undirected edge is taken once (``u < v``), shuffled, and split: the first
    ``floor(val_ratio * E)`` go to ``val_pos_edge_index``, the next
    ``floor(test_ratio * E)`` to ``test_pos_edge_index``, the rest (made undirected) to
    ``train_pos_edge_index``. As many non-edges ``u < v`` are drawn for
    ``val_neg_edge_index`` / ``test_neg_edge_index``; ``train_neg_adj_mask`` ``[N, N]``
    marks the upper-triangle non-edges left for training negatives. ``edge_index`` is
    removed; ``edge_attr`` is split alike (``train_pos_edge_attr`` ...). The reference
    marks this deprecated in favour of :class:`gfx.transforms.RandomLinkSplit`.

    Args:
        data (Data): the graph, changed in place and returned.
        val_ratio (float, optional): share of validation edges. (default: ``0.05``)
        test_ratio (float, optional): share of test edges. (default: ``0.1``)
    """
    if data.edge_index is None:
        raise ValueError("train_test_split_edges: 'data' has no 'edge_index' to split")
    if not (0 <= val_ratio and 0 <= test_ratio and val_ratio + test_ratio <= 1):
        raise ValueError(f"train_test_split_edges: 'val_ratio' + 'test_ratio' must lie in "
                         f"[0, 1], got {val_ratio} and {test_ratio}")
    num_nodes = data.num_nodes
    row, col = data.edge_index
    edge_attr = data.edge_attr if "edge_attr" in data else None
    del data.edge_index
    if edge_attr is not None:
        del data.edge_attr
    upper = row < col
    row, col = row[upper], col[upper]
    attr = edge_attr[upper] if edge_attr is not None else None
    n_v = int(math.floor(val_ratio * row.numel()))
    n_t = int(math.floor(test_ratio * row.numel()))
    perm = torch.randperm(row.numel())
    row, col = row[perm], col[perm]
    attr = attr[perm] if attr is not None else None
    parts = {"val": slice(0, n_v), "test": slice(n_v, n_v + n_t)}
    for name, part in parts.items():
        data[f"{name}_pos_edge_index"] = torch.stack([row[part], col[part]])
        if attr is not None:
            data[f"{name}_pos_edge_attr"] = attr[part]
    train = torch.stack([row[n_v + n_t:], col[n_v + n_t:]])
    if attr is not None:
        data.train_pos_edge_index, data.train_pos_edge_attr = to_undirected(
            train, attr[n_v + n_t:], num_nodes)
    else:
        data.train_pos_edge_index = to_undirected(train, num_nodes=num_nodes)
    neg_mask = torch.ones(num_nodes, num_nodes, dtype=torch.bool).triu(1)
    neg_mask[row, col] = False
    neg_row, neg_col = neg_mask.nonzero(as_tuple=True)
    pick = torch.randperm(neg_row.numel())[:n_v + n_t]
    neg_row, neg_col = neg_row[pick], neg_col[pick]
    neg_mask[neg_row, neg_col] = False
    data.train_neg_adj_mask = neg_mask
    data.val_neg_edge_index = torch.stack([neg_row[:n_v], neg_col[:n_v]])
    data.test_neg_edge_index = torch.stack([neg_row[n_v:n_v + n_t], neg_col[n_v:n_v + n_t]])
    return data
