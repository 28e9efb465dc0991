"""Seeded synthetic datasets: a node-classification graph and a graph-classification set."""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch

from ..data import Data
from .base import InMemoryDataset
from .sampling import (balanced_labels, check_fraction, check_int, class_features,
                       sample_block_edges, simplify_edges, split_masks)


class SyntheticNodeDataset(InMemoryDataset):
    r"""One graph for node classification, drawn from a stochastic block model.

    Node :math:`v` gets a class :math:`y_v` (classes of equal size) and features
    :math:`x_v = \mu_{y_v} + \sigma \epsilon_v` around a random class mean.  About
    ``num_nodes * avg_degree / 2`` node pairs are drawn: a uniform source, and a
    destination from the same class with probability ``homophily``, else from another
    class.  Pairs are stored in both directions, without self loops or duplicates, so
    the mean degree is close to ``avg_degree``.  ``train_mask``/``val_mask``/
    ``test_mask`` split the nodes at random.  The same ``seed`` always gives the same
    graph.

    Args:
        num_nodes (int, optional): number of nodes. (default: :obj:`1000`)
        num_classes (int, optional): number of classes. (default: :obj:`4`)
        num_features (int, optional): node feature width. (default: :obj:`32`)
        avg_degree (float, optional): target mean degree. (default: :obj:`8`)
        homophily (float, optional): probability that a drawn pair joins nodes of the
            same class. (default: :obj:`0.8`)
        seed (int, optional): random seed. (default: :obj:`0`)
        feature_noise (float, optional): :math:`\sigma`, the feature noise scale; the
            default leaves the features alone about 70% predictive (4 classes, 32
            features), so that the graph has to help. (default: :obj:`3.0`)
        train_ratio (float, optional): fraction of training nodes. (default: :obj:`0.6`)
        val_ratio (float, optional): fraction of validation nodes; the rest is test.
            (default: :obj:`0.2`)
        transform (callable, optional): applied to the graph on access.
            (default: :obj:`None`)
    """

    def __init__(self, num_nodes: int = 1000, num_classes: int = 4, num_features: int = 32,
                 avg_degree: float = 8, homophily: float = 0.8, seed: int = 0,
                 feature_noise: float = 3.0, train_ratio: float = 0.6,
                 val_ratio: float = 0.2, transform: Optional[Callable] = None):
        owner = type(self).__name__
        check_int(owner, "num_classes", num_classes, 1)
        check_int(owner, "num_nodes", num_nodes, num_classes)
        check_int(owner, "num_features", num_features, 0)
        if not avg_degree >= 0:
            raise ValueError(f"{owner}: 'avg_degree' must be >= 0, got {avg_degree!r}")
        homophily = check_fraction(owner, "homophily", homophily)
        self._num_classes = num_classes
        generator = torch.Generator().manual_seed(seed)
        y = balanced_labels(num_nodes, num_classes, generator)
        x = class_features(y, num_classes, num_features, feature_noise, generator)
        num_pairs = int(round(num_nodes * avg_degree / 2))
        pairs = sample_block_edges(num_pairs, y, y, num_classes, homophily, generator)
        edge_index = simplify_edges(pairs, num_nodes, undirected=True, drop_self_loops=True)
        train, val, test = split_masks(num_nodes, check_fraction(owner, "train_ratio", train_ratio),
                                       check_fraction(owner, "val_ratio", val_ratio), generator)
        data = Data(x=x, edge_index=edge_index, y=y, train_mask=train, val_mask=val,
                    test_mask=test)
        super().__init__([data], transform)

    @property
    def num_classes(self) -> int:
        return self._num_classes


# Graph families of SyntheticGraphDataset, by class id.
FAMILIES = ("cycle", "tree", "dense", "grid")


def _family_edges(family: str, num_nodes: int, generator: torch.Generator):
    """Undirected edges ``[2, E]`` (one direction) and the node count of one graph."""
    if family == "cycle":
        src = torch.arange(num_nodes)
        return torch.stack([src, (src + 1) % num_nodes]), num_nodes
    if family == "tree":
        child = torch.arange(1, num_nodes)
        parent = (torch.rand(num_nodes - 1, generator=generator) * child).long()
        return torch.stack([parent, child]), num_nodes
    if family == "dense":
        upper = torch.triu_indices(num_nodes, num_nodes, offset=1)
        keep = torch.rand(upper.size(1), generator=generator) < 0.4
        return upper[:, keep], num_nodes
    rows = max(2, int(math.isqrt(num_nodes)))
    cols = max(2, math.ceil(num_nodes / rows))
    ids = torch.arange(rows * cols).view(rows, cols)
    right = torch.stack([ids[:, :-1].reshape(-1), ids[:, 1:].reshape(-1)])
    down = torch.stack([ids[:-1, :].reshape(-1), ids[1:, :].reshape(-1)])
    return torch.cat([right, down], dim=1), rows * cols


class SyntheticGraphDataset(InMemoryDataset):
    r"""Small graphs for graph classification: the class is the graph's family.

    The families, by class id: 0 a cycle (every degree 2), 1 a random recursive tree
    (leaves and hubs), 2 a dense random graph (edge probability 0.4), 3 a 2-D grid
    (its size rounded to ``rows * cols``).  Node features are
    :math:`x_v = s \, \mu_{y} + \epsilon_v` with a random mean :math:`\mu_y` per class,
    so they carry some class signal for :math:`s > 0`; the structure carries the rest.
    Classes are balanced; edges are stored in both directions; ``y`` has shape ``[1]``.

    Args:
        num_graphs (int, optional): number of graphs. (default: :obj:`200`)
        num_classes (int, optional): number of families used, 2 to 4.
            (default: :obj:`3`)
        min_nodes (int, optional): smallest graph size. (default: :obj:`10`)
        max_nodes (int, optional): largest graph size (before grid rounding).
            (default: :obj:`30`)
        num_features (int, optional): node feature width. (default: :obj:`8`)
        feature_signal (float, optional): :math:`s`, the weight of the class mean in
            the features. (default: :obj:`0.5`)
        seed (int, optional): random seed. (default: :obj:`0`)
        transform (callable, optional): applied to each graph on access.
            (default: :obj:`None`)
    """

    def __init__(self, num_graphs: int = 200, num_classes: int = 3, min_nodes: int = 10,
                 max_nodes: int = 30, num_features: int = 8, feature_signal: float = 0.5,
                 seed: int = 0, transform: Optional[Callable] = None):
        owner = type(self).__name__
        check_int(owner, "num_graphs", num_graphs, 1)
        check_int(owner, "num_classes", num_classes, 2)
        if num_classes > len(FAMILIES):
            raise ValueError(f"{owner}: 'num_classes' must be at most {len(FAMILIES)} "
                             f"(families {FAMILIES}), got {num_classes}")
        check_int(owner, "min_nodes", min_nodes, 4)
        check_int(owner, "max_nodes", max_nodes, min_nodes)
        check_int(owner, "num_features", num_features, 0)
        self._num_classes = num_classes
        generator = torch.Generator().manual_seed(seed)
        labels = balanced_labels(num_graphs, num_classes, generator)
        means = torch.randn(num_classes, num_features, generator=generator)
        sizes = torch.randint(min_nodes, max_nodes + 1, (num_graphs,), generator=generator)
        graphs = []
        for label, size in zip(labels.tolist(), sizes.tolist()):
            edges, num_nodes = _family_edges(FAMILIES[label], size, generator)
            edge_index = simplify_edges(edges, num_nodes, undirected=True,
                                        drop_self_loops=True)
            x = feature_signal * means[label] + torch.randn(num_nodes, num_features,
                                                            generator=generator)
            graphs.append(Data(x=x, edge_index=edge_index, y=torch.tensor([label])))
        super().__init__(graphs, transform)

    @property
    def num_classes(self) -> int:
        return self._num_classes

