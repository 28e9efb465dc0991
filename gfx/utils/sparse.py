"""Conversions between ``edge_index`` and ``torch.sparse`` adjacency tensors.

# NOTE [sparse adjacency orientation]
Like the reference API, a sparse adjacency passed to ``propagate`` is the *transposed*
matrix ``adj_t`` of shape ``[num_targets, num_sources]``: a non-zero at ``(i, j)`` is an
edge from source ``j`` to target ``i``.  COO, CSR and CSC layouts are accepted.
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor

SPARSE_LAYOUTS = (torch.sparse_coo, torch.sparse_csr, torch.sparse_csc)


def is_torch_sparse_tensor(value) -> bool:
    """True for a COO/CSR/CSC tensor; false for dense tensors and traced (fx) values."""
    if isinstance(value, torch.fx.Proxy):
        return False
    return isinstance(value, Tensor) and value.layout in SPARSE_LAYOUTS


def to_edge_index(adj_t: Tensor) -> Tuple[Tensor, Tensor]:
    """``adj_t`` (``[num_targets, num_sources]``) -> ``(edge_index [2, E], values [E])``."""
    if adj_t.layout == torch.sparse_coo:
        coo = adj_t.coalesce()
    else:
        coo = adj_t.to_sparse_coo().coalesce()
    target, source = coo.indices()
    return torch.stack([source, target]), coo.values()


def to_torch_coo_tensor(edge_index: Tensor, edge_attr=None, size=None) -> Tensor:
    """``edge_index`` -> a coalesced ``adj_t`` COO tensor of shape ``[num_targets, num_sources]``."""
    if size is None:
        n = int(edge_index.max()) + 1 if edge_index.numel() else 0
        size = (n, n)
    if edge_attr is None:
        edge_attr = torch.ones(edge_index.shape[1], device=edge_index.device)
    num_sources, num_targets = size
    return torch.sparse_coo_tensor(edge_index.flip(0), edge_attr,
                                   (num_targets, num_sources) + tuple(edge_attr.shape[1:])
                                   ).coalesce()


# Names that say which orientation they use. ``to_edge_index`` / ``to_torch_coo_tensor``
# above take the transposed ``adj_t`` convention, unlike the reference API's functions of
# the same names (which use ``A[source, target]``); gfx code should call these aliases so
# that the public names can take the reference's semantics.
adj_t_to_edge_index = to_edge_index
edge_index_to_adj_t = to_torch_coo_tensor
