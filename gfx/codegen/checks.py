"""Checks shared by every generated-kernel backend."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Collection, List, Optional, Sequence, Set, Tuple, Type

import torch
from torch import Tensor

from gfx.structure import memo


def edge_bounds(edge_index: Tensor) -> Tuple[List[int], List[int]]:
    """Per-row ``(min, max)`` of a non-empty ``edge_index``, cached per tensor and version."""
    return memo(edge_index, "edge_bounds", (),
                lambda: (edge_index.amin(1).tolist(), edge_index.amax(1).tolist()))


def check_kernel_indices(op: str, kinds: Sequence[str], edge_index: Tensor,
                         operands: Sequence[Tensor], src_row: int, dim_size: int) -> None:
    """Every index names an existing row: a generated kernel never reads or writes outside.

    ``kinds`` are the operands' roles (``src``, ``dst``, ``edge``) from the kernel
    description.  Raises ``IndexError`` naming the row, the value and the bound.
    """
    if edge_index.shape[1] == 0:
        return
    lo, hi = edge_bounds(edge_index)
    for row in (0, 1):
        if lo[row] < 0:
            raise IndexError(f"{op}: edge_index[{row}] contains the negative value {lo[row]}")
    dst_row = 1 - src_row
    if hi[dst_row] >= dim_size:
        raise IndexError(f"{op}: edge_index[{dst_row}] (targets) contains {hi[dst_row]} but "
                         f"dim_size={dim_size}")
    for k, (kind, t) in enumerate(zip(kinds, operands)):
        row = {"src": src_row, "dst": dst_row}.get(kind)
        if row is not None and hi[row] >= t.shape[0]:
            raise IndexError(f"{op}: edge_index[{row}] contains {hi[row]} but operand {k} "
                             f"({kind}) has {t.shape[0]} rows")


_UNBOUNDED = 1 << 62


def col_rows(kinds: Sequence[str], operands: Sequence[Tensor], side: str,
             dim_size: int) -> int:
    """How many rows the ``col`` entries of a CSR may index.

    A CSR by target (``side="src"``) reads ``src`` operands at ``col``; a CSR by source
    (``side="dst"``) reads ``dst`` operands and the ``[dim_size, ...]`` output and
    gradient buffers there.
    """
    rows = [t.shape[0] for kind, t in zip(kinds, operands) if kind == side]
    if side == "dst":
        rows.append(dim_size)
    return min(rows) if rows else _UNBOUNDED


@dataclass(frozen=True)
class Fallback:
    """Why a generated kernel cannot run a call; the reference backend runs it instead."""
    reason: str                       # a short category, the key of a backend's STATS.fallbacks
    detail: str


def operand_problem(kinds: Sequence[str], edge_index: Tensor, operands: Sequence[Tensor],
                    dtypes: Collection[torch.dtype], kernels: str) -> Optional[Fallback]:
    """What every backend needs: an int ``[2, E]`` edge_index and one supported dtype for
    all operands."""
    if edge_index.dim() != 2 or edge_index.shape[0] != 2 or \
            edge_index.dtype not in (torch.int64, torch.int32):
        return Fallback("edge_index", "edge_index is not a [2, E] int64/int32 tensor")
    found = {t.dtype for t in operands}
    if len(found) != 1 or next(iter(found)) not in dtypes:
        names = [str(d).replace("torch.", "") for d in dtypes]
        names = " or ".join(names) if len(names) == 2 else "/".join(names)
        return Fallback("dtype", f"operand dtypes {sorted(map(str, found))}; the {kernels} "
                                 f"kernels take {names} operands, all alike")
    return None


def edge_rows_problem(kinds: Sequence[str], edge_index: Tensor, operands: Sequence[Tensor]
                      ) -> Optional[Fallback]:
    """Every edge operand has one row per edge."""
    num_edges = edge_index.shape[1]
    for k, (kind, t) in enumerate(zip(kinds, operands)):
        if kind == "edge" and t.dim() > 0 and t.shape[0] != num_edges:
            return Fallback("edge rows", f"edge operand {k} has {t.shape[0]} rows for "
                                         f"{num_edges} edges")
    return None


def message_layout_problem(operands: Sequence[Tensor], dim: int, kernels: str
                           ) -> Optional[Fallback]:
    """Operands of one rank, read along their first axis, with broadcastable features."""
    ranks = [t.dim() for t in operands]
    if min(ranks) == 0 or len(set(ranks)) != 1:
        return Fallback("rank", f"operand ranks {ranks}; the {kernels} kernels need every "
                                f"operand to have the message's rank")
    if not -ranks[0] <= dim < ranks[0] or dim % ranks[0] != 0:
        return Fallback("dim", f"dim={dim} is not the first axis of rank-{ranks[0]} operands")
    trailing = [tuple(t.shape[1:]) for t in operands]
    try:
        torch.broadcast_shapes(*trailing)
    except RuntimeError:
        return Fallback("broadcast", f"operand feature shapes {trailing} do not broadcast")
    return None


class FallbackReporter:
    """Counts fallbacks in ``stats.fallbacks`` and warns once per (spec, reason)."""

    def __init__(self, stats, warning: Type[Warning], label: str):
        self.stats, self.warning, self.label = stats, warning, label
        self.warned: Set[Tuple[object, str]] = set()

    def __call__(self, spec, fallback: Fallback) -> None:
        self.stats.fallbacks[fallback.reason] = self.stats.fallbacks.get(fallback.reason, 0) + 1
        if (spec, fallback.reason) not in self.warned:
            self.warned.add((spec, fallback.reason))
            warnings.warn(f"gfx {self.label}: '{spec.describe()}' runs on the reference "
                          f"backend: {fallback.detail}", self.warning, stacklevel=3)
