"""Datasets and data loaders of a GraphGym experiment, from ``cfg.dataset`` and
``cfg.train``.

:func:`create_loader` returns one loader per split (train, val[, test]):

* **node** tasks on one graph: every loader yields the whole graph; the node head picks
  the nodes of ``<split>_mask``.  A graph that ships all three masks (Planetoid, the
  synthetic node dataset) keeps them; otherwise the nodes are split at random by
  ``cfg.dataset.split``;
* **graph** tasks (and node tasks on many graphs): the graphs are split by
  ``cfg.dataset.split`` (shuffled with ``cfg.seed`` when ``cfg.dataset.shuffle_split``)
  and batched ``cfg.train.batch_size`` at a time;
* **edge** / **link_pred** tasks on one graph: see :mod:`gfx.graphgym.link_split`.

Built-in datasets (``cfg.dataset.format: PyG`` or ``gfx``; names are case-insensitive):
``Cora``, ``CiteSeer``, ``PubMed`` (Planetoid files read from ``cfg.dataset.dir``),
``KarateClub``, ``SyntheticNode`` and ``SyntheticGraph``.  Registered loaders
(:func:`~gfx.graphgym.register_loader`) are asked first, then registered datasets.
"""
from __future__ import annotations

import copy
from typing import List

import torch

from gfx.data import (DataLoader, InMemoryDataset, KarateClub, NormalizeFeatures, Planetoid,
                      SyntheticGraphDataset, SyntheticNodeDataset)
from gfx.graphgym.config import cfg
from gfx.graphgym.link_split import make_link_splits
from gfx.graphgym.register import dataset_dict, loader_dict, register_dataset
from gfx.graphgym.splits import SPLIT_NAMES, split_indices

FORMATS = ("PyG", "gfx")
SAMPLERS = ("full_batch",)
TRANSFORMS = ("none", "normalize_features")

for _name in ("Cora", "CiteSeer", "PubMed"):
    register_dataset(_name, lambda dataset_dir, _name=_name: Planetoid(dataset_dir, _name))
register_dataset("KarateClub", lambda dataset_dir: KarateClub())
register_dataset("SyntheticNode", lambda dataset_dir: SyntheticNodeDataset())
register_dataset("SyntheticGraph", lambda dataset_dir: SyntheticGraphDataset())


def load_dataset() -> InMemoryDataset:
    """The dataset named by ``cfg.dataset.format`` and ``cfg.dataset.name``.

    Registered loaders are tried first; then, for the ``PyG``/``gfx`` formats, the
    registered datasets (case-insensitive names).
    """
    fmt, name, folder = cfg.dataset.format, cfg.dataset.name, cfg.dataset.dir
    for func in loader_dict.values():
        dataset = func(fmt, name, folder)
        if dataset is not None:
            return dataset
    if fmt not in FORMATS:
        raise ValueError(f"cfg.dataset.format '{fmt}' is handled by no registered loader; "
                         f"built-in formats: {FORMATS}")
    matches = [key for key in dataset_dict if key.lower() == name.lower()]
    if not matches:
        raise KeyError(f"cfg.dataset.name: no dataset named '{name}' is registered; "
                       f"registered: {', '.join(sorted(dataset_dict))}")
    return dataset_dict[name if name in matches else matches[0]](folder)


def _transform(data):
    data = copy.copy(data)
    if cfg.dataset.transform == "normalize_features":
        data = NormalizeFeatures()(data)
    elif cfg.dataset.transform != "none":
        raise ValueError(f"cfg.dataset.transform must be one of {TRANSFORMS}, got "
                         f"'{cfg.dataset.transform}'")
    if cfg.dataset.remove_feature:
        data.x = torch.ones(data.num_nodes, 1)
    if cfg.dataset.to_undirected and data.edge_index is not None:
        n = max(data.num_nodes, 1)
        both = torch.cat([data.edge_index, data.edge_index.flip(0)], dim=1)
        codes = torch.unique(both[0] * n + both[1])
        data.edge_index = torch.stack([codes // n, codes % n])
    return data


def _node_masks(data) -> None:
    """Give ``data`` random ``<split>_mask`` attributes unless it has all three."""
    if all(f"{s}_mask" in data for s in SPLIT_NAMES):
        return
    for name, index in zip(SPLIT_NAMES, split_indices(data.num_nodes)):
        mask = torch.zeros(data.num_nodes, dtype=torch.bool)
        mask[index] = True
        data[f"{name}_mask"] = mask
    for name in SPLIT_NAMES[len(cfg.dataset.split):]:
        if f"{name}_mask" in data:
            del data[f"{name}_mask"]


def _num_classes(dataset: InMemoryDataset) -> int:
    y = dataset[0].y
    if y is None:
        raise ValueError(f"{type(dataset).__name__}: the graphs have no 'y' to predict")
    if cfg.dataset.task_type == "regression":
        return 1 if y.dim() <= 1 else y.shape[-1]
    if y.is_floating_point() and y.dim() > 1:  # multi-label
        return y.shape[-1]
    return dataset.num_classes


def set_dataset_info(dataset: InMemoryDataset) -> None:
    """Record the input width, output width and number of splits in ``cfg.share``.

    Args:
        dataset (InMemoryDataset): the (transformed) dataset.
    """
    first = dataset[0]
    if first.x is None:
        raise ValueError(f"{type(dataset).__name__}: the graphs have no node features "
                         "'x' (set cfg.dataset.remove_feature to use constant features)")
    cfg.share.dim_in = first.x.shape[1] if first.x.dim() > 1 else 1
    if cfg.dataset.task in ("edge", "link_pred"):
        cfg.share.dim_out = 1
    else:
        cfg.share.dim_out = _num_classes(dataset)
    cfg.share.num_splits = len(cfg.dataset.split)


def create_dataset() -> List[InMemoryDataset]:
    """Load the dataset, apply the configured transforms and split it: one dataset per
    split (the same one-graph dataset for every split of a node task)."""
    dataset = load_dataset()
    graphs = [_transform(dataset[i]) for i in range(len(dataset))]
    full = InMemoryDataset(graphs)
    set_dataset_info(full)
    task = cfg.dataset.task
    if task in ("edge", "link_pred"):
        if len(graphs) != 1:
            raise ValueError(f"cfg.dataset.task '{task}': link prediction needs a dataset "
                             f"of one graph, '{cfg.dataset.name}' has {len(graphs)}")
        return [InMemoryDataset([d], transform=t) for d, t in make_link_splits(graphs[0])]
    if task == "node" and len(graphs) == 1:
        _node_masks(graphs[0])
        return [full] * cfg.share.num_splits
    given = getattr(dataset, "split_idxs", None)
    splits = [torch.as_tensor(i, dtype=torch.long) for i in given] if given is not None \
        else split_indices(len(graphs))
    cfg.share.num_splits = len(splits)
    return [full[index] for index in splits]


def get_loader(dataset: InMemoryDataset, sampler: str, batch_size: int,
               shuffle: bool = True) -> DataLoader:
    """A loader over ``dataset`` with the named sampler (``full_batch``: whole graphs,
    ``batch_size`` at a time).

    Args:
        dataset (InMemoryDataset): the graphs.
        sampler (str): the sampler (``cfg.train.sampler``).
        batch_size (int): graphs per batch.
        shuffle (bool, optional): reshuffle every epoch. (default: ``True``)
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"cfg.train.sampler '{sampler}' is not supported; available: "
                         f"{SAMPLERS}")
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                      num_workers=cfg.num_workers, persistent_workers=cfg.num_workers > 0)


def create_loader() -> List[DataLoader]:
    """One data loader per split: ``[train, val]`` or ``[train, val, test]``."""
    datasets = create_dataset()
    loaders = [get_loader(datasets[0], cfg.train.sampler, cfg.train.batch_size,
                          shuffle=cfg.train.shuffle)]
    for dataset in datasets[1:]:
        loaders.append(get_loader(dataset, cfg.val.sampler, cfg.train.batch_size,
                                  shuffle=False))
    return loaders


def split_names() -> List[str]:
    """The names of the splits of the current experiment (``train``, ``val``[, ``test``])."""
    return list(SPLIT_NAMES[:cfg.share.num_splits])

