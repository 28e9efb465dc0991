"""Datasets and data loaders of a GraphGym experiment, from ``cfg.dataset`` and
``cfg.train``.

:func:`create_loader` returns one loader per split (train, val[, test]):

* **node** tasks on one graph: the loader of each split yields what its sampler
  (``cfg.train.sampler`` for training, ``cfg.val.sampler`` for the others, see
  :func:`get_loader`) makes of the graph; the node head picks the nodes of
  ``<split>_mask`` in each batch.  A graph that ships all three masks (Planetoid, the
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
from typing import List, Optional

import torch

from gfx.data import (DataLoader, InMemoryDataset, KarateClub, NormalizeFeatures, Planetoid,
                      SyntheticGraphDataset, SyntheticNodeDataset)
from gfx.graphgym.config import cfg
from gfx.graphgym.link_split import make_link_splits
from gfx.graphgym.register import dataset_dict, loader_dict, register_dataset
from gfx.graphgym.splits import SPLIT_NAMES, split_indices
from gfx.loader import (ClusterData, ClusterLoader, GraphSAINTEdgeSampler,
                        GraphSAINTNodeSampler, GraphSAINTRandomWalkSampler, NeighborLoader,
                        RandomNodeLoader)

FORMATS = ("PyG", "gfx")
SAMPLERS = ("full_batch", "neighbor", "random_node", "saint_rw", "saint_node", "saint_edge",
            "cluster")
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


class SeedMasks:
    """Batch transform of the ``neighbor`` sampler: keep each ``<split>_mask`` on the
    batch's seed nodes only (its first ``batch_size`` nodes).

    The other nodes of a sampled batch are there to feed the seeds' neighbourhoods; their
    own outputs see a truncated neighbourhood, so they are neither scored nor trained on,
    and every node of a split is scored exactly once per pass over the loader.
    """

    def __call__(self, batch):
        seed = torch.arange(batch.num_nodes) < batch.batch_size
        for name in SPLIT_NAMES:
            key = f"{name}_mask"
            if key in batch:
                batch[key] = batch[key] & seed
        return batch

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _one_graph(dataset: InMemoryDataset, sampler: str):
    if len(dataset) != 1 or cfg.dataset.task != "node":
        raise ValueError(f"cfg.train.sampler '{sampler}' samples the nodes of one graph: "
                         f"it needs cfg.dataset.task 'node' on a dataset of one graph, got "
                         f"task '{cfg.dataset.task}' with {len(dataset)} graphs (use "
                         "'full_batch')")
    return dataset[0]


def get_loader(dataset: InMemoryDataset, sampler: str, batch_size: int,
               shuffle: bool = True, split: Optional[str] = None):
    """A loader over ``dataset`` with the named sampler.

    * ``full_batch``: whole graphs, ``batch_size`` at a time;
    * ``neighbor``: :class:`~gfx.loader.NeighborLoader` with
      ``cfg.train.neighbor_sizes[:cfg.gnn.layers_mp]`` neighbours per hop and
      ``batch_size`` seed nodes per batch: the nodes of ``<split>_mask`` when ``split``
      is given and the graph has that mask, all nodes otherwise; the masks of a batch
      cover its seed nodes only (:class:`SeedMasks`);
    * ``random_node``: :class:`~gfx.loader.RandomNodeLoader` with
      ``num_parts=cfg.train.train_parts``;
    * ``saint_rw`` / ``saint_node`` / ``saint_edge``: the GraphSAINT samplers with
      ``batch_size`` walk roots / nodes / edges and ``num_steps=cfg.train.iter_per_epoch``
      (``walk_length=cfg.train.walk_length`` for random walks);
    * ``cluster``: :class:`~gfx.loader.ClusterLoader` over
      ``ClusterData(num_parts=cfg.train.train_parts)``, ``batch_size`` clusters a batch.

    Every sampler but ``full_batch`` needs a node task on one graph; its batches are
    subgraphs carrying the (cut) ``<split>_mask`` attributes that the node head reads.  A
    subgraph batch may hold no node of the split (:func:`create_loader` leaves those out,
    see :class:`SplitBatches`).

    Args:
        dataset (InMemoryDataset): the graphs.
        sampler (str): the sampler (``cfg.train.sampler`` or ``cfg.val.sampler``).
        batch_size (int): graphs, seed nodes, roots, nodes, edges or clusters per batch.
        shuffle (bool, optional): reshuffle every epoch. (default: ``True``)
        split (str, optional): the split the loader serves (``train``, ``val`` or
            ``test``): the ``neighbor`` sampler seeds its nodes only. (default: ``None``)
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"cfg.train.sampler '{sampler}' is not supported; available: "
                         f"{SAMPLERS}")
    if batch_size <= 0:
        raise ValueError(f"cfg.train.batch_size must be positive, got {batch_size}")
    workers = dict(num_workers=cfg.num_workers, persistent_workers=cfg.num_workers > 0)
    if sampler == "full_batch":
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, **workers)
    data = _one_graph(dataset, sampler)
    if sampler == "neighbor":
        sizes = list(cfg.train.neighbor_sizes)[:cfg.gnn.layers_mp]
        if len(sizes) < cfg.gnn.layers_mp:
            raise ValueError(f"cfg.train.neighbor_sizes {list(cfg.train.neighbor_sizes)} "
                             f"has fewer hops than cfg.gnn.layers_mp ({cfg.gnn.layers_mp})")
        mask = f"{split}_mask" if split is not None else None
        seeds = data[mask] if mask is not None and mask in data else None
        return NeighborLoader(data, sizes, input_nodes=seeds, batch_size=batch_size,
                              shuffle=shuffle, transform=SeedMasks(), **workers)
    if sampler in ("random_node", "cluster") and cfg.train.train_parts <= 0:
        raise ValueError(f"cfg.train.train_parts must be positive, got "
                         f"{cfg.train.train_parts}")
    if sampler == "random_node":
        return RandomNodeLoader(data, num_parts=cfg.train.train_parts, shuffle=shuffle,
                                **workers)
    if sampler == "cluster":
        parts = ClusterData(data, num_parts=cfg.train.train_parts, log=False)
        return ClusterLoader(parts, batch_size=batch_size, shuffle=shuffle, **workers)
    steps = cfg.train.iter_per_epoch
    if sampler == "saint_rw":
        return GraphSAINTRandomWalkSampler(data, batch_size, cfg.train.walk_length,
                                           num_steps=steps, **workers)
    saint = GraphSAINTNodeSampler if sampler == "saint_node" else GraphSAINTEdgeSampler
    return saint(data, batch_size, num_steps=steps, **workers)


class SplitBatches:
    """The batches of a subgraph ``loader`` that hold at least one node of ``split``.

    A random block, cluster or GraphSAINT subgraph may miss every node of the split; its
    loss would be the mean over no nodes (NaN), which turns the epoch's logged loss into
    NaN.  Such batches are left out here (the reference keeps them; gfx deviates).
    It has no ``len()`` (how many batches remain is known only once they are drawn, and
    Lightning then validates when the iteration ends); other attributes are read from the
    wrapped loader.

    Args:
        loader (Iterable): the sampled loader.
        split (str): ``train``, ``val`` or ``test``.
    """

    def __init__(self, loader, split: str):
        self.loader = loader
        self.split = split

    def __iter__(self):
        key = f"{self.split}_mask"
        for batch in self.loader:
            if key not in batch or bool(batch[key].any()):
                yield batch

    def __getattr__(self, name: str):
        if name == "loader":  # not set yet (copy, unpickling)
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.loader!r}, split={self.split!r})"


def create_loader() -> List[DataLoader]:
    """One data loader per split: ``[train, val]`` or ``[train, val, test]``.

    The loaders of the subgraph samplers (``random_node``, ``saint_*``, ``cluster``)
    come wrapped in :class:`SplitBatches`.
    """
    datasets = create_dataset()
    samplers = [cfg.train.sampler] + [cfg.val.sampler] * (len(datasets) - 1)
    loaders = []
    for i, (name, dataset, sampler) in enumerate(zip(SPLIT_NAMES, datasets, samplers)):
        loader = get_loader(dataset, sampler, cfg.train.batch_size,
                            shuffle=cfg.train.shuffle if i == 0 else False, split=name)
        if sampler not in ("full_batch", "neighbor"):
            loader = SplitBatches(loader, name)
        loaders.append(loader)
    return loaders


def split_names() -> List[str]:
    """The names of the splits of the current experiment (``train``, ``val``[, ``test``])."""
    return list(SPLIT_NAMES[:cfg.share.num_splits])

