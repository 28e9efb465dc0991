"""Seeded random building blocks shared by the synthetic datasets."""
from __future__ import annotations

import torch
from torch import Tensor


def check_int(owner: str, name: str, value, minimum: int) -> int:
    """``value`` as an ``int`` that is at least ``minimum``, else a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{owner}: '{name}' must be an integer >= {minimum}, got {value!r}")
    return value


def check_fraction(owner: str, name: str, value) -> float:
    """``value`` as a float in ``[0, 1]``, else a ``ValueError``."""
    if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{owner}: '{name}' must lie in [0, 1], got {value!r}")
    return float(value)


def balanced_labels(num_items: int, num_classes: int, generator: torch.Generator) -> Tensor:
    """Class ids with (nearly) equal class sizes, in random order."""
    labels = torch.arange(num_items) % num_classes
    return labels[torch.randperm(num_items, generator=generator)]


def class_features(labels: Tensor, num_classes: int, num_features: int, noise: float,
                   generator: torch.Generator, signal: float = 1.0) -> Tensor:
    r"""Features drawn around a random mean per class.

    .. math::
        x_v = s \, \mu_{y_v} + \sigma \, \epsilon_v, \qquad
        \mu_c, \epsilon_v \sim \mathcal{N}(0, I)

    with :math:`s` = ``signal`` and :math:`\sigma` = ``noise``.
    """
    means = torch.randn(num_classes, num_features, generator=generator)
    noise_part = torch.randn(labels.numel(), num_features, generator=generator)
    return signal * means[labels] + noise * noise_part


def sample_block_edges(num_edges: int, src_labels: Tensor, dst_labels: Tensor,
                       num_classes: int, homophily: float,
                       generator: torch.Generator) -> Tensor:
    """Draw edges of a stochastic block model, ``[2, num_edges]``.

    Each source is uniform over the source nodes; with probability ``homophily`` its
    destination is uniform over the destination nodes of the source's class, otherwise
    uniform over the destination nodes of a different class (uniform over classes).
    Classes that have no destination node fall back to any destination node.
    """
    src = torch.randint(src_labels.numel(), (num_edges,), generator=generator)
    target_class = src_labels[src]
    same = torch.rand(num_edges, generator=generator) < homophily
    if num_classes > 1:
        shift = torch.randint(1, num_classes, (num_edges,), generator=generator)
        target_class = torch.where(same, target_class, (target_class + shift) % num_classes)
    order = torch.argsort(dst_labels, stable=True)
    counts = torch.bincount(dst_labels, minlength=num_classes)
    starts = torch.cumsum(counts, 0) - counts
    count = counts[target_class]
    pick = (torch.rand(num_edges, generator=generator) * count).long()
    pick = torch.minimum(pick, (count - 1).clamp(min=0))
    dst = order[(starts[target_class] + pick).clamp(max=max(order.numel() - 1, 0))]
    anywhere = torch.randint(max(dst_labels.numel(), 1), (num_edges,), generator=generator)
    dst = torch.where(count > 0, dst, anywhere)
    return torch.stack([src, dst])


def simplify_edges(edge_index: Tensor, num_dst: int, undirected: bool = False,
                   drop_self_loops: bool = False) -> Tensor:
    """Remove duplicate edges (and self loops), add reverses if ``undirected``; the result
    is sorted by source, then destination."""
    if undirected:
        edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    if drop_self_loops:
        edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    codes = torch.unique(edge_index[0] * max(num_dst, 1) + edge_index[1])
    return torch.stack([codes // max(num_dst, 1), codes % max(num_dst, 1)])


def split_masks(num_items: int, train_ratio: float, val_ratio: float,
                generator: torch.Generator):
    """Disjoint random train/val/test boolean masks; test takes what is left."""
    if train_ratio + val_ratio > 1.0:
        raise ValueError(f"train_ratio + val_ratio must be at most 1, got "
                         f"{train_ratio} + {val_ratio}")
    perm = torch.randperm(num_items, generator=generator)
    num_train = int(round(train_ratio * num_items))
    num_val = int(round(val_ratio * num_items))
    masks = []
    for chosen in (perm[:num_train], perm[num_train:num_train + num_val],
                   perm[num_train + num_val:]):
        mask = torch.zeros(num_items, dtype=torch.bool)
        mask[chosen] = True
        masks.append(mask)
    return masks
