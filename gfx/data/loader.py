"""``DataLoader``: a ``torch.utils.data.DataLoader`` that merges graphs into a Batch."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, List, Optional

import torch.utils.data
from torch.utils.data.dataloader import default_collate

from .batch import Batch
from .data import Data
from .hetero_data import HeteroData
from .interop import is_graph_like


class Collater:
    """Turns a list of samples into a mini-batch.

    Graphs become a :class:`~gfx.data.Batch`; tuples, lists and dicts of graphs are
    collated position by position (or key by key); everything else goes to
    ``torch.utils.data.default_collate``.

    Args:
        follow_batch (list of str, optional): see :meth:`Batch.from_data_list`.
            (default: :obj:`None`)
        exclude_keys (list of str, optional): see :meth:`Batch.from_data_list`.
            (default: :obj:`None`)
    """

    def __init__(self, follow_batch: Optional[List[str]] = None,
                 exclude_keys: Optional[List[str]] = None):
        self.follow_batch = follow_batch
        self.exclude_keys = exclude_keys

    def __call__(self, samples: List[Any]) -> Any:
        elem = samples[0]
        if is_graph_like(elem):
            if is_foreign_batch(elem):
                samples = [graph for batch in samples for graph in batch.to_data_list()]
            return Batch.from_data_list(samples, self.follow_batch, self.exclude_keys)
        if isinstance(elem, Mapping):
            return {key: self([sample[key] for sample in samples]) for key in elem}
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):
            return type(elem)(*(self(list(group)) for group in zip(*samples)))
        if isinstance(elem, Sequence) and not isinstance(elem, (str, bytes)) \
                and _holds_graphs(elem):
            return [self(list(group)) for group in zip(*samples)]
        return default_collate(samples)


def _holds_graphs(value: Sequence) -> bool:
    return any(is_graph_like(item) for item in value)


def is_foreign_batch(value: Any) -> bool:
    """A batch of another library: a foreign graph that can split itself back up."""
    return (not isinstance(value, Batch) and is_graph_like(value)
            and callable(getattr(value, "to_data_list", None)))


class DataLoader(torch.utils.data.DataLoader):
    """Loads graphs from a dataset in mini-batches, each merged into one
    :class:`~gfx.data.Batch`.

    Args:
        dataset (Dataset or list): graphs (:class:`Data` or :class:`HeteroData`).
        batch_size (int, optional): graphs per batch. (default: :obj:`1`)
        shuffle (bool, optional): reshuffle the graphs at every epoch.
            (default: :obj:`False`)
        follow_batch (list of str, optional): also build ``{key}_batch`` vectors for
            these attributes. (default: :obj:`None`)
        exclude_keys (list of str, optional): attributes to leave out of the batches.
            (default: :obj:`None`)
        **kwargs: passed to ``torch.utils.data.DataLoader`` (``num_workers``,
            ``drop_last``, ``generator`` ...); ``collate_fn`` is ours and is ignored.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 follow_batch: Optional[List[str]] = None,
                 exclude_keys: Optional[List[str]] = None, **kwargs):
        kwargs.pop("collate_fn", None)
        self.follow_batch = follow_batch
        self.exclude_keys = exclude_keys
        super().__init__(dataset, batch_size=batch_size, shuffle=shuffle,
                         collate_fn=Collater(follow_batch, exclude_keys), **kwargs)
