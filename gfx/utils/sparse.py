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


def adj_t_to_edge_index(adj_t: Tensor) -> Tuple[Tensor, Tensor]:
    """``adj_t`` (``[num_targets, num_sources]``) -> ``(edge_index [2, E], values [E])``.

    The transposed convention of ``propagate`` (NOTE [sparse adjacency orientation]); see
    :func:`to_edge_index` for the plain one.
    """
    if adj_t.layout == torch.sparse_coo:
        coo = adj_t.coalesce()
    else:
        coo = adj_t.to_sparse_coo().coalesce()
    target, source = coo.indices()
    return torch.stack([source, target]), coo.values()


def edge_index_to_adj_t(edge_index: Tensor, edge_attr=None, size=None) -> Tensor:
    """``edge_index`` -> a coalesced ``adj_t`` COO tensor of shape ``[num_targets,
    num_sources]`` (``size`` is ``(num_sources, num_targets)``), the form ``propagate``
    takes; see :func:`to_torch_coo_tensor` for the plain one."""
    if size is None:
        n = int(edge_index.max()) + 1 if edge_index.numel() else 0
        size = (n, n)
    if edge_attr is None:
        edge_attr = torch.ones(edge_index.shape[1], device=edge_index.device)
    num_sources, num_targets = size
    return torch.sparse_coo_tensor(edge_index.flip(0), edge_attr,
                                   (num_targets, num_sources) + tuple(edge_attr.shape[1:])
                                   ).coalesce()


def to_edge_index(adj: Tensor) -> Tuple[Tensor, Tensor]:
    """A sparse adjacency ``adj`` -> ``(edge_index, values)``, as the reference API does:
    ``edge_index`` holds ``adj``'s (row, column) indices in coalesced order."""
    if not is_torch_sparse_tensor(adj):
        raise TypeError(f"to_edge_index: expected a torch.sparse tensor (COO, CSR or CSC), "
                        f"got {type(adj).__name__}"
                        f"{'' if not isinstance(adj, Tensor) else ' with layout ' + str(adj.layout)}")
    coo = adj.coalesce() if adj.layout == torch.sparse_coo else adj.to_sparse_coo().coalesce()
    return coo.indices(), coo.values()


def to_torch_coo_tensor(edge_index: Tensor, edge_attr=None, size=None,
                        is_coalesced: bool = False) -> Tensor:
    """``edge_index`` -> a coalesced COO adjacency with ``A[src, dst] = edge_attr``, as the
    reference API does (``size``: an int or a ``(rows, cols)`` pair; default: one more
    than the largest index, square).  For the transposed ``adj_t`` that ``propagate``
    takes, use :func:`edge_index_to_adj_t`.

    Args:
        edge_index (Tensor): ``[2, E]`` indices.
        edge_attr (Tensor, optional): ``[E]`` or ``[E, ...]`` values (default: ones).
        size (int or (int, int), optional): the matrix shape. (default: ``None``)
        is_coalesced (bool, optional): accepted for compatibility; the result is always
            coalesced. (default: ``False``)
    """
    if size is None:
        n = int(edge_index.max()) + 1 if edge_index.numel() else 0
        size = (n, n)
    elif isinstance(size, int):
        size = (size, size)
    if edge_attr is None:
        edge_attr = torch.ones(edge_index.shape[1], device=edge_index.device)
    return torch.sparse_coo_tensor(edge_index, edge_attr,
                                   tuple(size) + tuple(edge_attr.shape[1:])).coalesce()
