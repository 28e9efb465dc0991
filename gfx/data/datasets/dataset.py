"""``Dataset``: graphs produced one at a time by ``get(idx)``, with the reference API's
on-disk layout (``raw/``, ``processed/``), views and transforms."""
from __future__ import annotations

import copy
import os
import sys
from typing import Any, Callable, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from ..data import Data
from ..hetero_data import HeteroData

Graph = Union[Data, HeteroData]


class Dataset(torch.utils.data.Dataset):
    """A dataset of graphs read one at a time (for sets too large to hold in memory).

    Subclasses implement :meth:`len` (the number of graphs) and :meth:`get` (graph
    ``idx``, e.g. read from ``self.processed_paths``), and, for data on disk,
    ``raw_file_names`` / ``processed_file_names`` / :meth:`process` as in the reference
    API. ``process()`` runs only when a processed file is missing (or ``force_reload``);
    gfx downloads nothing, so :meth:`download` raises unless the subclass implements it.

    Indexing with an integer returns ``transform(get(i))`` (a shallow copy, so the
    transform may replace attributes freely); a slice (float bounds are fractions of
    the length: ``dataset[:0.9]``), a list, or an index or boolean tensor returns a view
    holding only those graphs.

    .. code-block:: text

        __init__ -> (raw files missing?) download() -> (processed missing?) process()
        dataset[i] -> get(indices()[i]) -> copy -> transform

    Args:
        root (str, optional): folder holding ``raw/`` and ``processed/``.
            (default: ``None``)
        transform (callable, optional): applied to every graph on access.
            (default: ``None``)
        pre_transform (callable, optional): for ``process()`` to apply before saving.
            (default: ``None``)
        pre_filter (callable, optional): for ``process()`` to keep only the graphs it
            accepts. (default: ``None``)
        log (bool, optional): print a line while processing. (default: ``True``)
        force_reload (bool, optional): re-run ``process()`` even if processed files
            exist. (default: ``False``)
    """

    def __init__(self, root: Optional[str] = None, transform: Optional[Callable] = None,
                 pre_transform: Optional[Callable] = None,
                 pre_filter: Optional[Callable] = None, log: bool = True,
                 force_reload: bool = False):
        self._indices: Optional[List[int]] = None
        self.transform = transform
        self.pre_transform = pre_transform
        self.pre_filter = pre_filter
        self.log = log
        self.root = None if root is None else os.path.expanduser(os.fspath(root))
        if self.root is not None:
            self._prepare(force_reload)

    def len(self) -> int:
        """The number of graphs of the whole dataset (not of a view)."""
        raise NotImplementedError(f"{type(self).__name__} defines no len()")

    def get(self, idx: int) -> Graph:
        """Graph ``idx`` of the whole dataset, before ``transform``."""
        raise NotImplementedError(f"{type(self).__name__} defines no get()")

    def indices(self) -> List[int]:
        """Positions (in the whole dataset) of the graphs this dataset or view exposes."""
        return list(range(self.len())) if self._indices is None else self._indices

    def __len__(self) -> int:
        return len(self.indices())

    # -- on-disk datasets ---------------------------------------------------------------
    @property
    def raw_file_names(self) -> Union[str, List[str]]:
        """Files in ``raw_dir`` that ``process()`` needs (none by default)."""
        return []

    @property
    def processed_file_names(self) -> Union[str, List[str]]:
        """Files in ``processed_dir`` that ``process()`` writes (none by default)."""
        return []

    @property
    def raw_dir(self) -> str:
        return os.path.join(self.root, "raw")

    @property
    def processed_dir(self) -> str:
        return os.path.join(self.root, "processed")

    @property
    def raw_paths(self) -> List[str]:
        return [os.path.join(self.raw_dir, f) for f in _as_list(self.raw_file_names)]

    @property
    def processed_paths(self) -> List[str]:
        return [os.path.join(self.processed_dir, f) for f in
                _as_list(self.processed_file_names)]

    def download(self) -> None:
        """Fetch the raw files; gfx downloads nothing, so by default this raises."""
        missing = [p for p in self.raw_paths if not os.path.exists(p)]
        raise FileNotFoundError(f"{type(self).__name__}: raw files missing: {missing}; gfx "
                                f"does not download, put them in {self.raw_dir}")

    def process(self) -> None:
        """Turn the raw files into ``processed_paths`` (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} defines no process()")

    def _prepare(self, force_reload: bool) -> None:
        if self.raw_paths and not all(os.path.exists(p) for p in self.raw_paths):
            os.makedirs(self.raw_dir, exist_ok=True)
            self.download()
        processed = self.processed_paths
        if not processed or (all(os.path.exists(p) for p in processed) and not force_reload):
            return
        if type(self).process is Dataset.process:
            return
        os.makedirs(self.processed_dir, exist_ok=True)
        if self.log:
            print(f"Processing {type(self).__name__} into {self.processed_dir}",
                  file=sys.stderr)
        self.process()

    def __getitem__(self, idx: Any) -> Union[Graph, "Dataset"]:
        if isinstance(idx, (int, np.integer)) and not isinstance(idx, bool) or \
                (isinstance(idx, Tensor) and idx.dim() == 0 and not idx.is_floating_point()):
            positions = self.indices()
            idx = int(idx)
            if not -len(positions) <= idx < len(positions):
                raise IndexError(f"{type(self).__name__}: index {idx} is out of range for "
                                 f"{len(positions)} graphs")
            data = copy.copy(self.get(positions[idx]))
            return data if self.transform is None else self.transform(data)
        return self.index_select(idx)

    def index_select(self, idx: Any) -> "Dataset":
        """A view that holds only the graphs selected by a slice, list, or tensor."""
        positions = self.indices()
        if isinstance(idx, slice):
            start, stop = idx.start, idx.stop
            # float bounds are fractions of the length, as in the reference: [:0.9]
            if isinstance(start, float):
                start = round(start * len(positions))
            if isinstance(stop, float):
                stop = round(stop * len(positions))
            chosen = positions[slice(start, stop, idx.step)]
        else:
            if isinstance(idx, np.ndarray):
                idx = torch.from_numpy(idx)
            if isinstance(idx, Tensor):
                if idx.dtype == torch.bool:
                    if idx.numel() != len(positions):
                        raise IndexError(f"{type(self).__name__}: boolean mask of length "
                                         f"{idx.numel()} for {len(positions)} graphs")
                    idx = idx.nonzero().view(-1)
                idx = idx.view(-1).tolist()
            if not isinstance(idx, (list, tuple, range)):
                raise TypeError(f"{type(self).__name__}: cannot index with "
                                f"{type(idx).__name__}; use an int, a slice, a list or "
                                "a tensor")
            chosen = [positions[int(i)] for i in idx]
        view = copy.copy(self)
        view._indices = list(chosen)
        return view

    def shuffle(self, return_perm: bool = False, generator: Optional[torch.Generator] = None):
        """A view of the graphs in random order (and the permutation, if asked).

        Args:
            return_perm (bool, optional): also return the permutation.
                (default: :obj:`False`)
            generator (torch.Generator, optional): source of randomness.
                (default: :obj:`None`)
        """
        perm = torch.randperm(self.len(), generator=generator)
        view = self.index_select(perm)
        return (view, perm) if return_perm else view

    # -- dataset-wide sizes --------------------------------------------------------------
    def _first(self) -> Graph:
        """The first graph after ``transform`` (its first part when the transform splits
        a graph into several, e.g. ``RandomLinkSplit``)."""
        if self.len() == 0:
            raise ValueError(f"{type(self).__name__} is empty")
        data = self[0]
        return data[0] if isinstance(data, (tuple, list)) else data

    @property
    def num_node_features(self):
        """Width of ``x`` of the first graph (a dict per node type for heterogeneous graphs)."""
        return self._first().num_node_features

    @property
    def num_features(self):
        """Alias of :attr:`num_node_features`."""
        return self.num_node_features

    @property
    def num_edge_features(self):
        return self._first().num_edge_features

    @property
    def num_classes(self) -> int:
        """Classes of ``y``: its largest value plus one over all graphs (the width of
        ``y`` for 2-D float targets).  Subclasses that know the count return it."""
        targets = []
        for position in self.indices():
            data = self.get(position)
            stores = [data] if isinstance(data, Data) else data.node_stores
            targets += [s.y for s in stores if isinstance(getattr(s, "y", None), Tensor)]
        if not targets:
            raise ValueError(f"{type(self).__name__}: no graph has a 'y' attribute")
        if targets[0].is_floating_point() and targets[0].dim() > 1:
            return targets[0].size(-1)
        return int(max(int(t.max()) for t in targets if t.numel() > 0)) + 1

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)})"



def _as_list(names: Union[str, Sequence[str]]) -> List[str]:
    return [names] if isinstance(names, str) else list(names)
