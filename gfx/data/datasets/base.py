"""``InMemoryDataset``: a list of graphs held in memory, with an optional transform."""
from __future__ import annotations

import os
from typing import Callable, List, Optional, Sequence, Union

from ..data import Data
from ..hetero_data import HeteroData
from .dataset import Dataset
from .graph_io import load_graphs, save_graphs

Graph = Union[Data, HeteroData]


class InMemoryDataset(Dataset):
    """A dataset of graphs that all fit in memory, built in code or processed on disk.

    Indexing with an integer returns a shallow copy of that graph (its attributes may
    be replaced freely without touching the dataset) after ``transform``; indexing with
    a slice (float bounds are fractions of the length: ``dataset[:0.9]``), a list, or an
    index or boolean tensor returns a view of the dataset that holds only those graphs.

    Two ways to fill it:

    * in code: ``InMemoryDataset(data_list, transform)`` (the built-in datasets);
    * on disk, as in the reference API: a subclass names ``raw_file_names`` and
      ``processed_file_names`` and implements ``process()``, which reads
      ``self.raw_paths`` and ends with ``self.save(data_list, self.processed_paths[0])``;
      its constructor calls ``super().__init__(root, transform, pre_transform,
      pre_filter)`` and then ``self.load(self.processed_paths[0])``. ``process()`` runs
      only when a processed file is missing (or ``force_reload``). gfx downloads
      nothing: ``download()`` raises unless the subclass implements it. Files are read
      with ``weights_only`` loading (NOTE [safe dataset files]).

    .. code-block:: text

        __init__ -> (raw files missing?) download() -> (processed missing?) process()
                                                         -> save(data_list, path)
        subclass __init__ -> load(path)

    Args:
        root (str or list, optional): folder holding ``raw/`` and ``processed/``; or,
            for a dataset built in code, the list of graphs. (default: ``None``)
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

    def __init__(self, root: Union[None, str, Sequence[Graph]] = None,
                 transform: Optional[Callable] = None, pre_transform: Optional[Callable] = None,
                 pre_filter: Optional[Callable] = None, log: bool = True,
                 force_reload: bool = False):
        self._data_list: List[Graph] = []
        if root is not None and not isinstance(root, (str, os.PathLike)):
            self._data_list = list(root)
            root = None
        super().__init__(root, transform, pre_transform, pre_filter, log, force_reload)

    @staticmethod
    def save(data_list: Sequence[Graph], path: str) -> None:
        """Write graphs to ``path`` (NOTE [safe dataset files])."""
        save_graphs(data_list, path)

    def load(self, path: str) -> None:
        """Make the graphs stored at ``path`` the content of this dataset."""
        self._data_list = load_graphs(path)
        self._indices = None

    def len(self) -> int:
        """The number of graphs held (of the whole dataset, not of a view)."""
        return len(self._data_list)

    def get(self, idx: int) -> Graph:
        """Graph ``idx`` of the underlying list, without transform (shared, do not modify)."""
        return self._data_list[idx]
