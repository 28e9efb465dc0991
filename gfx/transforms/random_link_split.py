"""Splitting edges into train / validation / test sets for link prediction."""
from __future__ import annotations

import copy
from typing import Any, List, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.data.hetero_data import HeteroData
from gfx.utils import negative_sampling

from .base_transform import BaseTransform

EdgeType = Tuple[str, str, str]


def _count(value: Union[int, float], total: int) -> int:
    return int(value * total) if isinstance(value, float) else int(value)


class RandomLinkSplit(BaseTransform):
    r"""Split the edges into three graphs ``(train_data, val_data, test_data)``.

    The (undirected, with ``is_undirected``: each pair counted once) edges are shuffled
    and cut into ``num_train``/``num_val``/``num_test``. Message passing uses the
    training edges in ``train_data`` and ``val_data``, and training plus validation edges
    in ``test_data``, so no split sees its own targets. Each split gets supervision
    edges ``edge_label_index`` (its positives, then ``neg_sampling_ratio`` times as many
    sampled non-edges of the whole graph) and ``edge_label`` (1 for positives, 0 for
    negatives; an existing ``edge_label`` is shifted by one when negatives are added).
    With ``disjoint_train_ratio`` that share of the training edges is used only for
    supervision, not message passing.

    Args:
        num_val (int or float, optional): validation edges (a fraction when float).
            (default: ``0.1``)
        num_test (int or float, optional): test edges. (default: ``0.2``)
        is_undirected (bool, optional): the graph stores both directions; splits keep
            both directions of an edge together. (default: ``False``)
        key (str, optional): name of the label attribute. (default: ``"edge_label"``)
        split_labels (bool, optional): store ``pos_edge_label(_index)`` and
            ``neg_edge_label(_index)`` separately. (default: ``False``)
        add_negative_train_samples (bool, optional): give ``train_data`` negatives too
            (otherwise sample them every epoch). (default: ``True``)
        neg_sampling_ratio (float, optional): negatives per positive. (default: ``1.0``)
        disjoint_train_ratio (int or float, optional): training edges kept for
            supervision only. (default: ``0.0``)
        edge_types (list of tuple, optional): the edge types to split in a
            heterogeneous graph (required there). (default: ``None``)
        rev_edge_types (list of tuple, optional): for each of ``edge_types``, its
            reverse type, whose edges follow the split. (default: ``None``)
    """

    def __init__(self, num_val: Union[int, float] = 0.1, num_test: Union[int, float] = 0.2,
                 is_undirected: bool = False, key: str = "edge_label",
                 split_labels: bool = False, add_negative_train_samples: bool = True,
                 neg_sampling_ratio: float = 1.0,
                 disjoint_train_ratio: Union[int, float] = 0.0,
                 edge_types: Union[None, EdgeType, List[EdgeType]] = None,
                 rev_edge_types: Union[None, EdgeType, List[Optional[EdgeType]]] = None):
        if isinstance(edge_types, tuple):
            edge_types = [edge_types]
        if isinstance(rev_edge_types, tuple):
            rev_edge_types = [rev_edge_types]
        if rev_edge_types is not None and edge_types is not None \
                and len(rev_edge_types) != len(edge_types):
            raise ValueError("RandomLinkSplit: 'rev_edge_types' needs one entry per "
                             "'edge_types' entry")
        self.num_val = num_val
        self.num_test = num_test
        self.is_undirected = is_undirected
        self.key = key
        self.split_labels = split_labels
        self.add_negative_train_samples = add_negative_train_samples
        self.neg_sampling_ratio = neg_sampling_ratio
        self.disjoint_train_ratio = disjoint_train_ratio
        self.edge_types = edge_types
        self.rev_edge_types = rev_edge_types

    def __call__(self, data: Any) -> Tuple[Any, Any, Any]:
        return self.forward(data)

    def forward(self, data: Any) -> Tuple[Any, Any, Any]:
        hetero = isinstance(data, HeteroData)
        if hetero and self.edge_types is None:
            raise ValueError("RandomLinkSplit: a heterogeneous graph needs 'edge_types' "
                             "(the edge types to split)")
        if not hetero and self.edge_types is not None:
            raise ValueError("RandomLinkSplit: 'edge_types' applies to heterogeneous graphs "
                             "only")
        splits = (_copy(data), _copy(data), _copy(data))
        edge_types = self.edge_types if hetero else [None]
        rev_types = self.rev_edge_types or [None] * len(edge_types)
        for edge_type, rev_type in zip(edge_types, rev_types):
            self._split_type(data, splits, edge_type, rev_type)
        return splits

    def _split_type(self, data, splits, edge_type, rev_type) -> None:
        store = data[edge_type] if edge_type is not None else data._store
        if "edge_index" not in store:
            raise ValueError(f"RandomLinkSplit: edge type {edge_type} has no 'edge_index'")
        edge_index = store.edge_index
        bipartite = edge_type is not None and store.is_bipartite()
        undirected = self.is_undirected and not bipartite
        if undirected:
            candidates = (edge_index[0] <= edge_index[1]).nonzero().view(-1)
        else:
            candidates = torch.arange(edge_index.size(1))
        perm = candidates[torch.randperm(candidates.numel())]
        num_val = _count(self.num_val, perm.numel())
        num_test = _count(self.num_test, perm.numel())
        num_train = perm.numel() - num_val - num_test
        if num_train <= 0:
            raise ValueError(f"RandomLinkSplit: no training edges left ({perm.numel()} "
                             f"edges, {num_val} validation, {num_test} test)")
        train, val = perm[:num_train], perm[num_train:num_train + num_val]
        test = perm[num_train + num_val:]
        num_disjoint = _count(self.disjoint_train_ratio, num_train)
        if num_disjoint >= num_train and num_disjoint > 0:
            raise ValueError("RandomLinkSplit: 'disjoint_train_ratio' leaves no message "
                             "passing edges")
        message = (train[num_disjoint:], train, perm[:num_train + num_val])
        supervise = (train[:num_disjoint] if num_disjoint else train, val, test)
        if edge_type is None:
            size = data.num_nodes
        else:
            size = store.size()
            size = size if bipartite else size[0]
        counts = [int(s.numel() * self.neg_sampling_ratio) for s in supervise]
        if not self.add_negative_train_samples:
            counts[0] = 0
        negatives = negative_sampling(edge_index, size, sum(counts))
        offsets = [counts[1] + counts[2], 0, counts[1]]
        label_keys = [k for k in store.edge_attrs() if k not in ("edge_index", self.key)]
        for out, keep, sup, count, offset in zip(splits, message, supervise, counts, offsets):
            target = out[edge_type] if edge_type is not None else out._store
            self._message_edges(out, store, target, keep, undirected, rev_type, label_keys)
            self._labels(store, target, sup, negatives[:, offset:offset + count])

    def _message_edges(self, out, store, target, keep: Tensor, undirected: bool,
                       rev_type, keys: List[str]) -> None:
        edge_index = store.edge_index[:, keep]
        values = {k: store[k][keep] for k in keys}
        if undirected:
            edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
            values = {k: torch.cat([v, v], dim=0) for k, v in values.items()}
        target.edge_index = edge_index
        for key, value in values.items():
            target[key] = value
        if rev_type is not None:
            reverse = out[rev_type]
            reverse.edge_index = edge_index.flip(0)
            for key, value in values.items():
                if key in reverse:
                    reverse[key] = value

    def _labels(self, store, target, index: Tensor, negatives: Tensor) -> None:
        positives = store.edge_index[:, index]
        if self.key in store:
            label = store[self.key][index]
            if negatives.size(1) > 0:
                label = label + 1
        else:
            label = torch.ones(index.numel())
        if self.key in target:
            del target[self.key]
        negative_label = label.new_zeros((negatives.size(1),) + tuple(label.shape[1:]))
        if self.split_labels:
            target[f"pos_{self.key}"] = label
            target[f"pos_{self.key}_index"] = positives
            target[f"neg_{self.key}"] = negative_label
            target[f"neg_{self.key}_index"] = negatives
        else:
            target[self.key] = torch.cat([label, negative_label])
            target[f"{self.key}_index"] = torch.cat([positives, negatives], dim=1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_val={self.num_val}, num_test={self.num_test})"


def _copy(data: Any) -> Any:
    return copy.copy(data)
