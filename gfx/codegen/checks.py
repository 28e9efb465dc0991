"""Checks shared by every generated-kernel backend."""
from __future__ import annotations

from typing import List, Sequence, Tuple

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
