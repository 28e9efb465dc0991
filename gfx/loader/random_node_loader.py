"""``RandomNodeLoader``: batches that are the subgraphs induced by random node blocks."""
from __future__ import annotations

import math
from typing import Any, List

import torch

from gfx.data.data import Data
from gfx.data.interop import from_foreign

from .subgraph_batch import node_induced_graph


class RandomNodeLoader(torch.utils.data.DataLoader):
    """Split the nodes into ``num_parts`` blocks of ``ceil(N / num_parts)`` and yield the
    subgraph induced by each block (random blocks with ``shuffle=True``).

    Each batch holds the block's node attributes, the edges among its nodes with their
    attributes, and ``n_id`` (the global ids of its nodes).

    Args:
        data (Data): the graph (homogeneous).
        num_parts (int): number of blocks per epoch.
        **kwargs: ``shuffle``, ``num_workers`` ... of ``torch.utils.data.DataLoader``.
    """

    def __init__(self, data: Any, num_parts: int, **kwargs):
        data = from_foreign(data, "RandomNodeLoader: 'data'")
        if not isinstance(data, Data) or data.edge_index is None:
            raise ValueError("RandomNodeLoader: 'data' must be a homogeneous graph with "
                             "'edge_index'")
        num_nodes = int(data.num_nodes or 0)
        if not 0 < num_parts:
            raise ValueError(f"RandomNodeLoader: 'num_parts' must be positive, got {num_parts}")
        self.data = data
        self.num_parts = num_parts
        for key in ("collate_fn", "batch_size"):
            kwargs.pop(key, None)
        super().__init__(range(num_nodes), batch_size=max(math.ceil(num_nodes / num_parts), 1),
                         collate_fn=self._collate, **kwargs)

    def _collate(self, index: List[int]) -> Data:
        nodes = torch.as_tensor(index, dtype=torch.long)
        graph, _ = node_induced_graph(self.data, nodes)
        graph.n_id = nodes
        return graph

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
