"""``InMemoryDataset``: a list of graphs held in memory, with an optional transform."""
from __future__ import annotations

import copy
from typing import Any, Callable, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from ..data import Data
from ..hetero_data import HeteroData

Graph = Union[Data, HeteroData]


class InMemoryDataset(torch.utils.data.Dataset):
    """A dataset of graphs that all fit in memory.

    Indexing with an integer returns a shallow copy of that graph (its attributes may
    be replaced freely without touching the dataset) after ``transform``; indexing with
    a slice, a list, or an index or boolean tensor returns a view of the dataset that
    holds only those graphs.  The built-in datasets build their graphs once, in their
    constructor; there is nothing to download.

    Args:
        data_list (list): the graphs.
        transform (callable, optional): applied to every graph on access.
            (default: :obj:`None`)
    """

    def __init__(self, data_list: Sequence[Graph], transform: Optional[Callable] = None):
        self._data_list: List[Graph] = list(data_list)
        self._indices: Optional[List[int]] = None
        self.transform = transform

    def indices(self) -> List[int]:
        """Positions in the underlying list of the graphs this dataset exposes."""
        return list(range(len(self._data_list))) if self._indices is None else self._indices

    def len(self) -> int:
        """The number of graphs."""
        return len(self.indices())

    def __len__(self) -> int:
        return self.len()

    def get(self, idx: int) -> Graph:
        """Graph ``idx`` of the underlying list, without transform (shared, do not modify)."""
        return self._data_list[idx]

    def __getitem__(self, idx: Any) -> Union[Graph, "InMemoryDataset"]:
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

    def index_select(self, idx: Any) -> "InMemoryDataset":
        """A view that holds only the graphs selected by a slice, list, or tensor."""
        positions = self.indices()
        if isinstance(idx, slice):
            chosen = positions[idx]
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
        if self.len() == 0:
            raise ValueError(f"{type(self).__name__} is empty")
        return self[0]

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
        return f"{type(self).__name__}({self.len()})"
