"""Loaders for dense graphs (stacked, same size) and for plain lists of graphs."""
from __future__ import annotations

from typing import Any, List

import torch
from torch import Tensor

from gfx.data.data import Data
from gfx.data.interop import from_foreign


def _stack(graphs: List[Any]) -> Data:
    """One graph whose every attribute stacks the graphs' values along a new first
    dimension (tensors of equal shape), or lists them (anything else)."""
    graphs = [from_foreign(g, f"DenseDataLoader: sample {i}") for i, g in enumerate(graphs)]
    out = Data()
    for key in graphs[0].keys():
        values = [g[key] for g in graphs]
        if all(isinstance(v, Tensor) for v in values):
            shapes = {tuple(v.shape) for v in values}
            if len(shapes) > 1:
                raise ValueError(f"DenseDataLoader: attribute {key!r} has shapes "
                                 f"{sorted(shapes)} across graphs; pad them to one size "
                                 "first (gfx.transforms.ToDense(num_nodes))")
            out[key] = torch.stack(values, dim=0)
        else:
            out[key] = values
    return out


class DenseDataLoader(torch.utils.data.DataLoader):
    """Batches graphs of one fixed size (e.g. after :class:`gfx.transforms.ToDense`) by
    stacking every attribute: ``x [B, N, F]``, ``adj [B, N, N]``, ``mask [B, N]`` ...

    Args:
        dataset (Dataset or list): the graphs.
        batch_size (int, optional): graphs per batch. (default: ``1``)
        shuffle (bool, optional): reshuffle every epoch. (default: ``False``)
        **kwargs: passed to ``torch.utils.data.DataLoader``.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, **kwargs):
        kwargs.pop("collate_fn", None)
        super().__init__(dataset, batch_size=batch_size, shuffle=shuffle, collate_fn=_stack,
                         **kwargs)


def _as_list(graphs: List[Any]) -> List[Any]:
    return list(graphs)


class DataListLoader(torch.utils.data.DataLoader):
    """Batches graphs as plain Python lists (for multi-device data parallelism, where
    each device collates its own share).

    Args:
        dataset (Dataset or list): the graphs.
        batch_size (int, optional): graphs per batch. (default: ``1``)
        shuffle (bool, optional): reshuffle every epoch. (default: ``False``)
        **kwargs: passed to ``torch.utils.data.DataLoader``.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, **kwargs):
        kwargs.pop("collate_fn", None)
        super().__init__(dataset, batch_size=batch_size, shuffle=shuffle,
                         collate_fn=_as_list, **kwargs)
