"""Loop-based references for the gfx primitives, written independently of ``ops/``.

Every function moves the reduced axis to the front, walks the buckets (or segments) with
plain Python loops and combines the member slices with elementwise torch arithmetic
(``+``, ``*``, ``torch.maximum``, ``exp``).  Nothing here calls ``gfx``, ``scatter_reduce``,
``index_select`` or ``repeat_interleave``, so a bug in the primitives cannot hide in the
expectation.  An empty bucket or segment is 0 for every reduction.
"""
from __future__ import annotations

import functools
import operator

import torch
from torch import Tensor

_COMBINE = {
    "sum": operator.add,
    "mean": operator.add,
    "mul": operator.mul,
    "max": torch.maximum,
    "min": torch.minimum,
}


def _as_ints(values: Tensor) -> list:
    return [int(v) for v in values.tolist()]


def _reduce_members(members: list, reduce: str) -> Tensor:
    """Fold the member slices of one bucket left to right; ``mean`` divides by the count."""
    total = functools.reduce(_COMBINE[reduce], members)
    if reduce == "mean":
        total = total / len(members)
    return total


def gather_loop(src: Tensor, index: Tensor, dim: int) -> Tensor:
    """``out[..., e, ...] = src[..., index[e], ...]`` along ``dim``, one slice at a time."""
    moved = src.movedim(dim, 0)
    out = moved.new_zeros((index.numel(),) + tuple(moved.shape[1:]))
    for e, i in enumerate(_as_ints(index)):
        out[e] = moved[i]
    return out.movedim(0, dim)


def scatter_loop(src: Tensor, index: Tensor, dim: int, dim_size: int, reduce: str) -> Tensor:
    """Reduce the slices of ``src`` along ``dim`` into ``dim_size`` buckets named by ``index``."""
    reduce = "sum" if reduce == "add" else reduce
    moved = src.movedim(dim, 0)
    ids = _as_ints(index)
    out = moved.new_zeros((dim_size,) + tuple(moved.shape[1:]))
    for bucket in range(dim_size):
        members = [moved[e] for e, i in enumerate(ids) if i == bucket]
        if members:
            out[bucket] = _reduce_members(members, reduce)
    return out.movedim(0, dim)


def segment_loop(src: Tensor, ptr: Tensor, dim: int, reduce: str) -> Tensor:
    """Reduce ``src[ptr[s]:ptr[s + 1]]`` along ``dim`` for every segment ``s``."""
    reduce = "sum" if reduce == "add" else reduce
    moved = src.movedim(dim, 0)
    bounds = _as_ints(ptr)
    out = moved.new_zeros((len(bounds) - 1,) + tuple(moved.shape[1:]))
    for s in range(len(bounds) - 1):
        members = [moved[e] for e in range(bounds[s], bounds[s + 1])]
        if members:
            out[s] = _reduce_members(members, reduce)
    return out.movedim(0, dim)


def segment_softmax_loop(src: Tensor, index: Tensor, dim: int) -> Tensor:
    r"""Softmax within each group: :math:`\exp(x_e - m_g) / \sum_{f \in g} \exp(x_f - m_g)`."""
    moved = src.movedim(dim, 0)
    ids = _as_ints(index)
    out = torch.zeros_like(moved)
    for group in sorted(set(ids)):
        members = [e for e, i in enumerate(ids) if i == group]
        peak = functools.reduce(torch.maximum, [moved[e] for e in members])
        weights = {e: torch.exp(moved[e] - peak) for e in members}
        total = functools.reduce(operator.add, weights.values())
        for e in members:
            out[e] = weights[e] / total
    return out.movedim(0, dim)


def ptr_to_ids(ptr: Tensor) -> Tensor:
    """One segment id per element for CSR pointers (loop form, int64)."""
    bounds = _as_ints(ptr)
    ids = [s for s in range(len(bounds) - 1) for _ in range(bounds[s], bounds[s + 1])]
    return torch.tensor(ids, dtype=torch.int64)
