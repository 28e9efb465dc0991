"""``Batch``: many graphs merged into one disconnected graph, and split back."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Type, Union

import numpy as np
import torch
from torch import Tensor

from .collate import collate, get_store, separate
from .data import Data
from .hetero_data import HeteroData


class Batch:
    r"""A mini-batch of graphs stored as one large graph with disjoint components.

    :meth:`from_data_list` concatenates the attributes of the graphs (see NOTE
    [batch layout] in ``gfx/data/collate.py``) and adds, to every node store,

    * ``batch``: the graph of each node, :math:`\mathrm{batch}[v] = i` for the nodes
      :math:`v` of graph :math:`i`;
    * ``ptr``: the first node of each graph, ``ptr[i] = sum_{j < i} num_nodes_j``
      (length ``num_graphs + 1``).

    The result is an instance of both :class:`Batch` and the graphs' class
    (``DataBatch`` for :class:`~gfx.data.Data`, ``HeteroDataBatch`` for
    :class:`~gfx.data.HeteroData`), so it is used like a single graph.
    :meth:`get_example` and :meth:`to_data_list` rebuild the original graphs.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Batch:
            cls = DataBatch
        return super().__new__(cls)

    @classmethod
    def from_data_list(cls, data_list: Sequence[Union[Data, HeteroData]],
                       follow_batch: Optional[Sequence[str]] = None,
                       exclude_keys: Optional[Sequence[str]] = None) -> "Batch":
        """Merge graphs into one batch.

        Args:
            data_list (list): graphs of one class (:class:`Data` or :class:`HeteroData`
                or a subclass), all with the same attribute names and types.
            follow_batch (list of str, optional): also make ``{key}_batch`` and
                ``{key}_ptr`` vectors for these attributes. (default: :obj:`None`)
            exclude_keys (list of str, optional): attributes to leave out.
                (default: :obj:`None`)
        """
        from .interop import from_foreign, is_graph_like
        data_list = [from_foreign(d, f"data_list[{i}]") if is_graph_like(d)
                     and not isinstance(d, Batch) else d for i, d in enumerate(data_list)]
        if not data_list:
            raise ValueError("Batch.from_data_list: 'data_list' is empty")
        first = data_list[0]
        for i, data in enumerate(data_list):
            if isinstance(data, Batch):
                raise TypeError(f"Batch.from_data_list: data_list[{i}] is already a batch; "
                                "call to_data_list() on it first")
            if not isinstance(data, (Data, HeteroData)):
                from_foreign(data, f"Batch.from_data_list: data_list[{i}]")  # raises
            if type(data) is not type(first):
                raise TypeError(f"Batch.from_data_list: data_list[{i}] is a "
                                f"{type(data).__name__} but data_list[0] is a "
                                f"{type(first).__name__}; all graphs need one class")
        batch_cls = batch_class_for(type(first))
        batch = _new_empty(batch_cls)
        meta = collate(batch, data_list, follow_batch or (), exclude_keys or ())
        object.__setattr__(batch, "_slice_meta", meta)
        object.__setattr__(batch, "_num_graphs", len(data_list))
        object.__setattr__(batch, "_data_cls", type(first))
        return batch

    @property
    def num_graphs(self) -> int:
        """The number of graphs in the batch.

        Recorded by :meth:`from_data_list`; for a batch built by hand, read from its
        ``ptr`` (or ``batch``) vector.
        """
        if "_num_graphs" in self.__dict__:
            return self._num_graphs
        for store in self.node_stores:
            if isinstance(store._mapping.get("ptr"), Tensor):
                return store.ptr.numel() - 1
            if isinstance(store._mapping.get("batch"), Tensor):
                return int(store.batch.max()) + 1 if store.batch.numel() else 0
        raise ValueError(f"{type(self).__name__}: the number of graphs is unknown "
                         "(no 'ptr' or 'batch' vector); build batches with from_data_list")

    @property
    def batch_size(self) -> int:
        """Alias of :attr:`num_graphs`."""
        return self.num_graphs

    def __len__(self) -> int:
        return self.num_graphs

    def _require_meta(self, what: str) -> None:
        if "_slice_meta" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.{what}: this batch was not built by "
                               "Batch.from_data_list, so it cannot be split into graphs")

    def get_example(self, idx: int) -> Union[Data, HeteroData]:
        """Rebuild graph ``idx`` (negative indices count from the end)."""
        self._require_meta("get_example")
        idx = int(idx)
        if not -self._num_graphs <= idx < self._num_graphs:
            raise IndexError(f"graph index {idx} is out of range for a batch of "
                             f"{self._num_graphs} graphs")
        idx %= self._num_graphs
        data = _new_empty(self._data_cls)
        for store_key, metas in self._slice_meta.items():
            source = get_store(self, store_key)
            target = get_store(data, store_key)
            for key, meta in metas.items():
                target[key] = separate(meta, source[key], idx)
        return data

    def index_select(self, idx: Any) -> List[Union[Data, HeteroData]]:
        """The graphs selected by a slice, a list of indices, or an index/boolean tensor."""
        self._require_meta("index_select")
        if isinstance(idx, slice):
            positions = range(self._num_graphs)[idx]
        else:
            if isinstance(idx, np.ndarray):
                idx = torch.from_numpy(idx)
            if isinstance(idx, Tensor):
                if idx.dtype == torch.bool:
                    if idx.numel() != self._num_graphs:
                        raise IndexError(f"boolean mask of length {idx.numel()} does not "
                                         f"match the {self._num_graphs} graphs of the batch")
                    idx = idx.nonzero().view(-1)
                idx = idx.view(-1).tolist()
            positions = list(idx)
        return [self.get_example(i) for i in positions]

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, (int, np.integer)) and not isinstance(idx, bool):
            return self.get_example(idx)
        if isinstance(idx, Tensor) and idx.dim() == 0 and not idx.is_floating_point():
            return self.get_example(int(idx))
        if isinstance(idx, (slice, list, Tensor, np.ndarray)):
            return self.index_select(idx)
        return super().__getitem__(idx)

    def to_data_list(self) -> List[Union[Data, HeteroData]]:
        """All graphs of the batch, rebuilt in order."""
        self._require_meta("to_data_list")
        return [self.get_example(i) for i in range(self._num_graphs)]


class DataBatch(Batch, Data):
    """A batch of :class:`~gfx.data.Data` graphs."""


class HeteroDataBatch(Batch, HeteroData):
    """A batch of :class:`~gfx.data.HeteroData` graphs."""


_BATCH_CLASSES: Dict[type, Type[Batch]] = {Data: DataBatch, HeteroData: HeteroDataBatch}


def batch_class_for(data_cls: type) -> Type[Batch]:
    """The batch class of a graph class (built once for user subclasses of Data)."""
    if data_cls not in _BATCH_CLASSES:
        _BATCH_CLASSES[data_cls] = type(f"{data_cls.__name__}Batch", (Batch, data_cls),
                                        {"__doc__": f"A batch of {data_cls.__name__} graphs."})
    return _BATCH_CLASSES[data_cls]


def _new_empty(cls: type):
    """An empty graph of ``cls`` without calling a subclass's own ``__init__``."""
    out = object.__new__(cls)
    base = HeteroData if issubclass(cls, HeteroData) else Data
    base.__init__(out)
    return out
