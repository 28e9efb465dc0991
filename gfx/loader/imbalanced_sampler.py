"""``ImbalancedSampler``: draw examples so that every class comes up equally often."""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor

from gfx.data.data import Data
from gfx.data.interop import from_foreign, is_foreign_data


def _labels(dataset: Any, input_nodes: Optional[Tensor]) -> Tensor:
    if isinstance(dataset, Tensor):
        y = dataset
    elif isinstance(dataset, Data) or is_foreign_data(dataset):
        y = from_foreign(dataset, "ImbalancedSampler: 'dataset'").y
        if y is None:
            raise ValueError("ImbalancedSampler: the graph has no 'y'")
    else:  # graphs, one label each
        y = torch.cat([torch.as_tensor(dataset[i].y).view(-1) for i in range(len(dataset))])
    y = y.view(-1)
    if input_nodes is not None:
        y = y[input_nodes]
    if y.is_floating_point():
        raise ValueError("ImbalancedSampler: the labels must be class ids, not floats")
    return y.long()


class ImbalancedSampler(torch.utils.data.WeightedRandomSampler):
    r"""Sample (with replacement) with weight :math:`1 / |\{j : y_j = y_i\}|` per example,
    so each class is drawn equally often in expectation.

    Args:
        dataset (Data or Dataset or list or Tensor): a graph with node labels ``y``, a
            dataset of graphs (one label each), or the labels themselves.
        input_nodes (Tensor, optional): the nodes to sample from (for a graph).
            (default: ``None``)
        num_samples (int, optional): draws per epoch; the number of examples when
            omitted. (default: ``None``)
    """

    def __init__(self, dataset: Any, input_nodes: Optional[Tensor] = None,
                 num_samples: Optional[int] = None):
        y = _labels(dataset, input_nodes)
        counts = torch.bincount(y)
        weights = 1.0 / counts.double()[y]
        super().__init__(weights, num_samples if num_samples is not None else y.numel(),
                         replacement=True)
