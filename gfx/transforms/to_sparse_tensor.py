"""Replacing ``edge_index`` by a ``torch.sparse`` adjacency ``adj_t``."""
from __future__ import annotations

from typing import Any, Optional

import torch

from gfx.utils import sort_edge_index

from .base_transform import BaseTransform


class ToSparseTensor(BaseTransform):
    """Store the transposed adjacency as ``adj_t`` (``[num_targets, num_sources]``, a
    ``torch.sparse`` tensor; see NOTE [sparse adjacency orientation]).

    Edges are sorted by (target, source) and every edge attribute is permuted alike; the
    values of ``adj_t`` are ``data[attr]`` (ones when absent). A 1-D value gives a CSR
    tensor by default, a multi-dimensional one a COO tensor.

    Args:
        attr (str, optional): the edge attribute that becomes the values; removed from
            the graph. (default: ``"edge_weight"``)
        remove_edge_index (bool, optional): delete ``edge_index``. (default: ``True``)
        fill_cache (bool, optional): accepted for compatibility; torch.sparse tensors
            have no cache. (default: ``True``)
        layout (torch.layout, optional): ``torch.sparse_coo``, ``torch.sparse_csr`` or
            ``torch.sparse_csc``. (default: ``None``)
    """

    def __init__(self, attr: Optional[str] = "edge_weight", remove_edge_index: bool = True,
                 fill_cache: bool = True, layout: Optional[torch.layout] = None):
        if layout not in (None, torch.sparse_coo, torch.sparse_csr, torch.sparse_csc):
            raise ValueError(f"ToSparseTensor: 'layout' must be None or a sparse layout, "
                             f"got {layout}")
        self.attr = attr
        self.remove_edge_index = remove_edge_index
        self.fill_cache = fill_cache
        self.layout = layout

    def forward(self, data: Any) -> Any:
        for store in data.edge_stores:
            if "edge_index" not in store:
                continue
            keys = [k for k in store.edge_attrs() if k != "edge_index"]
            num_src, num_dst = store.size()
            edge_index, values = sort_edge_index(store.edge_index, [store[k] for k in keys],
                                                 max(num_src, num_dst), sort_by_row=False)
            for key, value in zip(keys, values):
                store[key] = value
            value = store.get(self.attr) if self.attr is not None else None
            if value is None:
                value = torch.ones(edge_index.size(1), device=edge_index.device)
            elif self.attr is not None:
                del store[self.attr]
            shape = (num_dst, num_src) + tuple(value.shape[1:])
            adj_t = torch.sparse_coo_tensor(edge_index.flip(0), value, shape,
                                            check_invariants=True)
            layout = self.layout or (torch.sparse_csr if value.dim() == 1 else torch.sparse_coo)
            adj_t = adj_t.coalesce()
            if layout == torch.sparse_csr:
                adj_t = adj_t.to_sparse_csr()
            elif layout == torch.sparse_csc:
                adj_t = adj_t.to_sparse_csc()
            store.adj_t = adj_t
            if self.remove_edge_index:
                del store["edge_index"]
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(attr={self.attr}, layout={self.layout})"
