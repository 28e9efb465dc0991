"""``SyntheticHeteroDataset``: a seeded heterogeneous graph for node classification."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

from ..hetero_data import HeteroData
from .base import InMemoryDataset
from .sampling import (balanced_labels, check_fraction, check_int, class_features,
                       sample_block_edges, simplify_edges, split_masks)

EdgeType = Tuple[str, str, str]
PAPER_AUTHOR_EDGE_TYPES = [("author", "writes", "paper"), ("paper", "rev_writes", "author"),
                           ("paper", "cites", "paper")]


def default_edge_types(node_types: Sequence[str], target: str) -> List[EdgeType]:
    """The relations used when none are given.

    For ``("paper", "author")``: ``author -writes-> paper``, its reverse ``rev_writes``
    and ``paper -cites-> paper``.  Otherwise ``other -to-> target`` and its reverse
    ``rev_to`` for every other node type, and ``target -links-> target``.
    """
    if tuple(node_types) == ("paper", "author"):
        return list(PAPER_AUTHOR_EDGE_TYPES)
    out = []
    for other in node_types:
        if other != target:
            out += [(other, "to", target), (target, "rev_to", other)]
    return out + [(target, "links", target)]


def _per_type(owner: str, name: str, value, node_types: Sequence[str],
              default: Callable[[str], int], minimum: int) -> Dict[str, int]:
    """Expand an int or a ``{node_type: int}`` dict to one checked int per node type."""
    if value is None:
        value = {t: default(t) for t in node_types}
    elif not isinstance(value, dict):
        value = {t: value for t in node_types}
    missing = [t for t in node_types if t not in value]
    if missing:
        raise ValueError(f"{owner}: '{name}' gives no value for node types {missing}")
    return {t: check_int(owner, f"{name}[{t!r}]", value[t], minimum) for t in node_types}


class SyntheticHeteroDataset(InMemoryDataset):
    r"""One heterogeneous graph whose structure and features follow hidden classes.

    Every node of every type gets a class in ``range(num_classes)`` (classes of equal
    size per type) and features around a random mean per (type, class), with a width
    per type.  For each relation ``(src, rel, dst)``, ``avg_degree * num_nodes[src]``
    edges are drawn: a uniform source and a destination of the source's class with
    probability ``homophily``, else of another class; duplicates (and, within one node
    type, self loops) are removed.  A relation named ``rev_<rel>`` whose forward
    ``(dst, <rel>, src)`` is also listed is its exact transpose.  The ``target`` node
    type carries the class as ``y`` and ``train_mask``/``val_mask``/``test_mask``.

    Args:
        node_types (sequence of str, optional): node type names, any strings.
            (default: :obj:`("paper", "author")`)
        edge_types (list of (str, str, str), optional): relations; see
            :func:`default_edge_types` for the default. (default: :obj:`None`)
        num_nodes (int or dict, optional): nodes per type. (default: :obj:`300` each)
        num_features (int or dict, optional): feature width per type.
            (default: :obj:`32` for the target type, :obj:`16` for the others)
        num_classes (int, optional): number of classes. (default: :obj:`4`)
        avg_degree (float, optional): edges drawn per source node and relation.
            (default: :obj:`4`)
        homophily (float, optional): probability that an edge joins nodes of the same
            class. (default: :obj:`0.8`)
        target (str, optional): the labelled node type. (default: the first node type)
        seed (int, optional): random seed. (default: :obj:`0`)
        feature_noise (float, optional): feature noise scale. (default: :obj:`1.0`)
        train_ratio (float, optional): fraction of training target nodes.
            (default: :obj:`0.6`)
        val_ratio (float, optional): fraction of validation target nodes.
            (default: :obj:`0.2`)
        transform (callable, optional): applied to the graph on access.
            (default: :obj:`None`)
    """

    def __init__(self, node_types: Sequence[str] = ("paper", "author"),
                 edge_types: Optional[Sequence[EdgeType]] = None,
                 num_nodes: Union[int, Dict[str, int], None] = None,
                 num_features: Union[int, Dict[str, int], None] = None,
                 num_classes: int = 4, avg_degree: float = 4, homophily: float = 0.8,
                 target: Optional[str] = None, seed: int = 0, feature_noise: float = 1.0,
                 train_ratio: float = 0.6, val_ratio: float = 0.2,
                 transform: Optional[Callable] = None):
        owner = type(self).__name__
        node_types = list(node_types)
        if not node_types or not all(isinstance(t, str) for t in node_types) \
                or len(set(node_types)) != len(node_types):
            raise ValueError(f"{owner}: 'node_types' must be distinct strings, got {node_types}")
        target = node_types[0] if target is None else target
        if target not in node_types:
            raise ValueError(f"{owner}: 'target' {target!r} is not one of {node_types}")
        edge_types = [tuple(e) for e in (edge_types if edge_types is not None
                                         else default_edge_types(node_types, target))]
        if len(set(edge_types)) != len(edge_types):
            raise ValueError(f"{owner}: 'edge_types' lists an edge type twice: {edge_types}")
        for edge_type in edge_types:
            if len(edge_type) != 3 or not all(isinstance(t, str) for t in edge_type):
                raise ValueError(f"{owner}: edge type {edge_type!r} must be a "
                                 "(src, relation, dst) triple of strings")
            for node_type in (edge_type[0], edge_type[2]):
                if node_type not in node_types:
                    raise ValueError(f"{owner}: edge type {edge_type} uses node type "
                                     f"{node_type!r}, which is not in {node_types}")
        check_int(owner, "num_classes", num_classes, 1)
        counts = _per_type(owner, "num_nodes", num_nodes, node_types, lambda t: 300,
                           num_classes)
        widths = _per_type(owner, "num_features", num_features, node_types,
                           lambda t: 32 if t == target else 16, 0)
        if not avg_degree >= 0:
            raise ValueError(f"{owner}: 'avg_degree' must be >= 0, got {avg_degree!r}")
        homophily = check_fraction(owner, "homophily", homophily)
        self._num_classes = num_classes
        self.target = target

        generator = torch.Generator().manual_seed(seed)
        data = HeteroData()
        labels = {}
        for node_type in node_types:
            labels[node_type] = balanced_labels(counts[node_type], num_classes, generator)
            data[node_type].x = class_features(labels[node_type], num_classes,
                                               widths[node_type], feature_noise, generator)
        reverse_of = {e: (e[2], e[1][len("rev_"):], e[0]) for e in edge_types
                      if e[1].startswith("rev_") and (e[2], e[1][len("rev_"):], e[0])
                      in edge_types}
        for edge_type in edge_types:  # create the edge stores in the order given
            data[edge_type]
        for edge_type in edge_types:
            if edge_type in reverse_of:
                continue
            src, _, dst = edge_type
            num_edges = int(round(avg_degree * counts[src]))
            edges = sample_block_edges(num_edges, labels[src], labels[dst], num_classes,
                                       homophily, generator)
            data[edge_type].edge_index = simplify_edges(edges, counts[dst],
                                                        drop_self_loops=src == dst)
        for edge_type, forward in reverse_of.items():
            data[edge_type].edge_index = simplify_edges(
                data[forward].edge_index.flip(0), counts[edge_type[2]])
        train, val, test = split_masks(counts[target],
                                       check_fraction(owner, "train_ratio", train_ratio),
                                       check_fraction(owner, "val_ratio", val_ratio), generator)
        store = data[target]
        store.y, store.train_mask, store.val_mask, store.test_mask = \
            labels[target], train, val, test
        super().__init__([data], transform)

    @property
    def num_classes(self) -> int:
        return self._num_classes
