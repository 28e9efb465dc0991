"""The graph-structure cache: values derived from an ``edge_index`` computed once.

CSR/CSC conversions, degrees and normalised adjacencies depend only on the connectivity
tensor, which usually stays the same across the layers of a model and across calls.
:func:`memo` stores each derived value against the identity *and version* of the tensor
it came from, so an in-place edit of ``edge_index`` (which bumps ``tensor._version``)
invalidates it, and the entry disappears when the tensor is garbage collected.

# NOTE [structure cache keys]
The key is ``(id(edge_index), edge_index._version, name, *args)``.  The cached value must
not hold a strong reference to ``edge_index`` itself (that would keep the weak key alive
forever), so a result that *is* the key tensor is stored as a marker and restored on
lookup.  Symbolic tensors (fx proxies, fake tensors) are never cached.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable

import torch
from torch import Tensor
from torch.utils.weak import WeakIdKeyDictionary

from gfx.ops import _checks

_CACHE: WeakIdKeyDictionary = WeakIdKeyDictionary()
_SELF = object()


@dataclass
class CacheInfo:
    hits: int = 0
    misses: int = 0


_INFO = CacheInfo()


def cache_info() -> CacheInfo:
    """Hit and miss counts of the structure cache since the last :func:`cache_clear`."""
    return CacheInfo(_INFO.hits, _INFO.misses)


def cache_clear() -> None:
    _CACHE.clear()
    _INFO.hits = _INFO.misses = 0


def _pack(value, key: Tensor):
    if value is key:
        return _SELF
    if isinstance(value, tuple):
        return tuple(_pack(v, key) for v in value)
    return value


def _unpack(value, key: Tensor):
    if value is _SELF:
        return key
    if isinstance(value, tuple):
        return tuple(_unpack(v, key) for v in value)
    return value


def memo(edge_index: Tensor, name: str, args: tuple, compute: Callable[[], object]):
    """Return ``compute()``, cached against ``edge_index``'s identity and version."""
    if not _checks.has_data(edge_index):
        return compute()
    entries = _CACHE.setdefault(edge_index, {})
    key: Hashable = (edge_index._version, name, *args)
    if key in entries:
        _INFO.hits += 1
        return _unpack(entries[key], edge_index)
    _INFO.misses += 1
    # Entries for older versions of the tensor can never be hit again.
    for stale in [k for k in entries if k[0] != edge_index._version]:
        del entries[stale]
    value = compute()
    entries[key] = _pack(value, edge_index)
    return value


@dataclass(frozen=True)
class CSR:
    """Edges sorted by one endpoint: ``ptr`` over that endpoint, ``perm`` the sort order.

    ``ptr`` has ``num_rows + 1`` entries; ``col[k]`` is the other endpoint of the ``k``-th
    edge in sorted order, and ``perm[k]`` its position in the original ``edge_index``.
    """
    ptr: Tensor
    col: Tensor
    perm: Tensor

    @property
    def degree(self) -> Tensor:
        return self.ptr[1:] - self.ptr[:-1]


def _build_csr(edge_index: Tensor, row: int, num_rows: int) -> CSR:
    keys = edge_index[row]
    perm = torch.argsort(keys, stable=True)
    counts = torch.bincount(keys, minlength=num_rows)
    ptr = torch.zeros(num_rows + 1, dtype=torch.long, device=edge_index.device)
    torch.cumsum(counts, 0, out=ptr[1:])
    return CSR(ptr=ptr, col=edge_index[1 - row].index_select(0, perm), perm=perm)


def csr_by_target(edge_index: Tensor, num_targets: int) -> CSR:
    """Edges grouped by target (``edge_index[1]``): the layout of an aggregation."""
    return memo(edge_index, "csr", (1, num_targets),
                lambda: _build_csr(edge_index, 1, num_targets))


def csr_by_source(edge_index: Tensor, num_sources: int) -> CSR:
    """Edges grouped by source (``edge_index[0]``): the layout of a gather's gradient."""
    return memo(edge_index, "csr", (0, num_sources),
                lambda: _build_csr(edge_index, 0, num_sources))
