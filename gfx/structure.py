"""The graph-structure cache: values derived from an ``edge_index`` computed once.

CSR/CSC conversions, degrees and normalised adjacencies depend only on the connectivity
tensor, which usually stays the same across the layers of a model and across calls.
:func:`memo` stores each derived value against the identity *and version* of the tensor
it came from, so an in-place edit of ``edge_index`` (which bumps ``tensor._version``)
invalidates it, and the entry disappears when the tensor is garbage collected.

# NOTE [structure cache keys]
The key is ``(id(edge_index), layout, name, *args)`` where ``layout`` is the tensor's
version, data pointer, shape and strides: an in-place edit bumps the version and
``edge_index.data = other`` changes the pointer or shape.  An edit that does neither (a
write through a NumPy view or through ``.data``) is invisible to both; :func:`revalidate`
compares the tensor with a snapshot taken when its first entry was stored and drops its
entries when they differ (``gfx.compile`` calls it on every tensor input, once per call).
Memory safety never rests on this: each :class:`CSR` carries the bounds of its own
arrays, which kernels check against the operands before reading (see
:func:`check_csr_columns`).  The cached value must
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
_SNAPSHOTS: WeakIdKeyDictionary = WeakIdKeyDictionary()
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
    _SNAPSHOTS.clear()
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


def _layout(t: Tensor) -> tuple:
    return (t._version, t.data_ptr(), tuple(t.shape), tuple(t.stride()))


def forget(edge_index: Tensor) -> None:
    """Drop every cached value derived from ``edge_index``."""
    _CACHE.pop(edge_index, None)
    _SNAPSHOTS.pop(edge_index, None)
    _checks.forget_bounds(edge_index)


def revalidate(value) -> bool:
    """Drop ``value``'s entries if its contents changed since they were stored.

    Returns ``True`` when entries were dropped.  Costs one comparison with the snapshot
    (``O(numel)``) for a cached tensor, nothing for any other value.
    """
    if not isinstance(value, Tensor) or value not in _SNAPSHOTS:
        return False
    snapshot = _SNAPSHOTS[value]
    if snapshot.shape == value.shape and snapshot.dtype == value.dtype and \
            torch.equal(snapshot, value):
        return False
    forget(value)
    return True


def memo(edge_index: Tensor, name: str, args: tuple, compute: Callable[[], object]):
    """Return ``compute()``, cached against ``edge_index``'s identity and layout."""
    if not _checks.has_data(edge_index):
        return compute()
    entries = _CACHE.setdefault(edge_index, {})
    layout = _layout(edge_index)
    key: Hashable = (layout, name, *args)
    if key in entries:
        _INFO.hits += 1
        return _unpack(entries[key], edge_index)
    _INFO.misses += 1
    # Entries for older versions or layouts of the tensor can never be hit again.
    stale = [k for k in entries if k[0] != layout]
    for k in stale:
        del entries[k]
    if stale or edge_index not in _SNAPSHOTS:
        _SNAPSHOTS[edge_index] = edge_index.detach().clone()
    value = compute()
    entries[key] = _pack(value, edge_index)
    return value


@dataclass(frozen=True)
class CSR:
    """Edges sorted by one endpoint: ``ptr`` over that endpoint, ``perm`` the sort order.

    ``ptr`` has ``num_rows + 1`` entries; ``col[k]`` is the other endpoint of the ``k``-th
    edge in sorted order, and ``perm[k]`` its position in the original ``edge_index``.
    ``col_min``/``col_max`` bound ``col`` (``0``/``-1`` when there are no edges): they
    were read from ``col`` itself, so they cannot go stale with respect to it.
    """
    ptr: Tensor
    col: Tensor
    perm: Tensor
    col_min: int = 0
    col_max: int = -1

    @property
    def degree(self) -> Tensor:
        return self.ptr[1:] - self.ptr[:-1]


def _build_csr(edge_index: Tensor, row: int, num_rows: int) -> CSR:
    keys = edge_index[row]
    if keys.numel() > 0:
        lo, hi = int(keys.min()), int(keys.max())
        if lo < 0 or hi >= num_rows:
            raise IndexError(f"gfx: edge_index[{row}] holds values in [{lo}, {hi}] but "
                             f"there are {num_rows} rows (valid range [0, {num_rows}))")
    perm = torch.argsort(keys, stable=True)
    counts = torch.bincount(keys, minlength=num_rows)
    ptr = torch.zeros(num_rows + 1, dtype=torch.long, device=edge_index.device)
    torch.cumsum(counts, 0, out=ptr[1:])
    col = edge_index[1 - row].index_select(0, perm)
    bounds = (int(col.min()), int(col.max())) if col.numel() > 0 else (0, -1)
    return CSR(ptr=ptr, col=col, perm=perm, col_min=bounds[0], col_max=bounds[1])


def check_csr_columns(op: str, csr: CSR, num_rows: int, what: str) -> None:
    """Raise ``IndexError`` unless every ``csr.col`` entry indexes one of ``num_rows`` rows.

    A kernel that reads ``operand[col[k]]`` calls this with the operand's row count
    before launching: it is the check that keeps generated kernels in bounds.
    """
    if csr.col_min < 0 or csr.col_max >= num_rows:
        bad = csr.col_min if csr.col_min < 0 else csr.col_max
        raise IndexError(f"{op}: edge_index holds node {bad} but {what} has {num_rows} "
                         f"rows (valid range [0, {num_rows}))")


def csr_by_target(edge_index: Tensor, num_targets: int) -> CSR:
    """Edges grouped by target (``edge_index[1]``): the layout of an aggregation."""
    return memo(edge_index, "csr", (1, num_targets),
                lambda: _build_csr(edge_index, 1, num_targets))


def csr_by_source(edge_index: Tensor, num_sources: int) -> CSR:
    """Edges grouped by source (``edge_index[0]``): the layout of a gather's gradient."""
    return memo(edge_index, "csr", (0, num_sources),
                lambda: _build_csr(edge_index, 0, num_sources))
