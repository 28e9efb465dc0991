"""Typed (multi-relation) message passing: many relations' fused kernels as one.

A heterogeneous layer runs a copy of a message-passing layer per relation ``r``, each
a ``gfx::fused_message_reduce`` over its own ``edge_index_r``.  A *family* of such calls
with one kernel description runs here as **one** fused kernel over a typed edge list
(NOTE [typed edge list]), per-relation linear maps as one batched product
(:func:`segment_matmul`):

* :func:`relation_message_reduce`: the per-relation results ``[m_1, ..., m_R]``;
* :func:`relation_linear_sum`: :math:`\\sum_r \\mathrm{linear}(m_r, W_r, b_r)` (or
  :math:`\\sum_r m_r`), the shape of a ``to_hetero`` layer with ``aggr="sum"``.

:mod:`gfx.passes.horizontal_fusion` puts them in graphs.  The kernel is the ordinary
fused primitive run on the typed edge list, so every registered backend (reference,
cpp, triton) runs it, backward included, with no typed variant of its own.

Relations whose operands differ in dtype or feature shape (lazy layers over node types
of different widths) get one kernel per kind.  A family that cannot share kernels at
all (devices differ, node axis not the first, edge tensors that broadcast over edges,
tensors without data) runs relation by relation: counted in :data:`STATS` and announced
by one :class:`TypedFallbackWarning` per spec and reason.

# NOTE [typed edge list]
The relations' edges are concatenated in relation order.  A source index is offset
into the row-concatenation of the distinct source tensors, and the target of an edge
is its *pair* ``(r, i)``: its relation and target node.  Pairs are numbered in
``(r, i)`` order and only pairs with edges exist, so there are at most
``min(E, R * N)``.  One fused kernel with a row per pair computes every relation's
reduction at once (a mean is per relation, as in the unfused layers); the rows of a
relation are contiguous, the layout :func:`segment_matmul` needs; a second fused
kernel (a sum over the edges ``pair -> node``, in CSR order) adds the rows into nodes.
A node without edges of relation ``r`` has no pair: ``m_r`` is 0 there (every
reduction gives 0 over no edges), so ``linear(m_r)`` is the bias alone.  The structure
depends on the edge tensors only; it is built once per tuple of edge tensors and
cached with :func:`gfx.structure.memo`.
"""
from __future__ import annotations

import functools
import math
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.structure import memo

from . import _checks
from .fused import FusedSpec, fused_message_reduce_op
from .gather import gather_op

OP = "segment_matmul"
TYPED_OP = "gfx.fused_typed"


# ----------------------------------------------------------------------------- segment_matmul
def _check_segment_matmul(x: Tensor, counts: Sequence[int], weight: Tensor) -> None:
    _checks.check_tensor(OP, "x", x)
    _checks.check_tensor(OP, "weight", weight)
    problem = None
    if x.dim() != 2:
        problem = f"'x' must be 2-D [rows, in_features], got shape {list(x.shape)}"
    elif weight.dim() != 3:
        problem = f"'weight' must be 3-D [segments, out, in], got shape {list(weight.shape)}"
    elif len(counts) != weight.shape[0]:
        problem = f"'counts' has {len(counts)} entries but 'weight' has {weight.shape[0]}"
    elif any(c < 0 for c in counts):
        problem = f"'counts' must be non-negative, got {list(counts)}"
    elif sum(counts) != x.shape[0]:
        problem = f"'counts' sum to {sum(counts)} but 'x' has {x.shape[0]} rows"
    elif weight.shape[2] != x.shape[1]:
        problem = f"'weight' takes {weight.shape[2]} input features but 'x' has {x.shape[1]}"
    if problem is not None:
        raise ValueError(f"gfx.{OP}: {problem}")
    if x.dtype != weight.dtype:
        raise TypeError(f"gfx.{OP}: 'x' is {x.dtype} but 'weight' is {weight.dtype}")
    if x.device != weight.device:
        raise ValueError(f"gfx.{OP}: 'x' is on {x.device} but 'weight' on {weight.device}")


@torch.library.custom_op("gfx::segment_matmul", mutates_args=())
def segment_matmul_op(x: Tensor, counts: List[int], weight: Tensor) -> Tensor:
    out = x.new_empty((x.shape[0], weight.shape[1]))
    start = 0
    for r, count in enumerate(counts):
        if count:
            torch.mm(x[start:start + count], weight[r].t(), out=out[start:start + count])
        start += count
    return out


@segment_matmul_op.register_fake
def _segment_matmul_fake(x, counts, weight):
    _check_segment_matmul(x, counts, weight)
    return x.new_empty((x.shape[0], weight.shape[1]))


def segment_outer(grad: Tensor, x: Tensor, counts: Sequence[int]) -> Tensor:
    """``[R, O, K]`` with entry ``r`` the sum over segment ``r``'s rows of ``grad^T x``."""
    blocks, start = [], 0
    for count in counts:
        blocks.append(grad[start:start + count].t() @ x[start:start + count])
        start += count
    return torch.stack(blocks) if blocks else grad.new_zeros((0, grad.shape[1], x.shape[1]))


def _setup_context(ctx, inputs, output):
    x, counts, weight = inputs
    ctx.save_for_backward(x, weight)
    ctx.counts = list(counts)


def _backward(ctx, grad):
    x, weight = ctx.saved_tensors
    grad_x = segment_matmul_op(grad, ctx.counts, weight.transpose(1, 2)) \
        if ctx.needs_input_grad[0] else None
    grad_weight = segment_outer(grad, x, ctx.counts) if ctx.needs_input_grad[2] else None
    return grad_x, None, grad_weight


segment_matmul_op.register_autograd(_backward, setup_context=_setup_context)


def segment_matmul(x: Tensor, counts: Sequence[int], weight: Tensor) -> Tensor:
    """One linear map per segment of rows: a batched product with jagged segments.

    .. math::
        \\mathbf{y}_p = \\mathbf{W}_{r(p)} \\mathbf{x}_p, \\qquad
        r(p) = r \\text{ for } \\textstyle\\sum_{s<r} c_s \\le p < \\sum_{s \\le r} c_s

    Args:
        x (Tensor): ``[rows, in_features]``, the segments' rows one after another.
        counts (list of int): rows per segment; they sum to ``rows``.
        weight (Tensor): ``[segments, out_features, in_features]``.
    """
    counts = [int(c) for c in counts]
    if not _checks.is_tracing(x, weight):
        _check_segment_matmul(x, counts, weight)
    return segment_matmul_op(x, counts, weight)


# ----------------------------------------------------------------------------- statistics
@dataclass
class TypedStats:
    """What the typed calls have done in this process (see :func:`reset_stats`).

    Attributes:
        layouts_built: typed edge lists built (a cache miss in :func:`relation_layout`).
        fused_calls: kernels run over a typed edge list.
        splits: families run as several kernels because their relations' feature
            shapes (or weight shapes) differ.
        fallbacks: reason -> families (or parts) that ran relation by relation.
    """
    layouts_built: int = 0
    fused_calls: int = 0
    splits: int = 0
    fallbacks: Dict[str, int] = field(default_factory=dict)


STATS = TypedStats()
_WARNED = set()


def reset_stats() -> None:
    """Zero :data:`STATS` in place and warn again about fallbacks."""
    STATS.__dict__.update(TypedStats().__dict__)
    _WARNED.clear()


class TypedFallbackWarning(UserWarning):
    """A typed call ran relation by relation because its inputs cannot be concatenated."""


@dataclass(frozen=True)
class _Fallback:
    reason: str   # a short category, the key of STATS.fallbacks
    detail: str


def _note_fallback(spec: FusedSpec, fallback: _Fallback) -> None:
    STATS.fallbacks[fallback.reason] = STATS.fallbacks.get(fallback.reason, 0) + 1
    if (spec, fallback.reason) not in _WARNED:
        _WARNED.add((spec, fallback.reason))
        warnings.warn(f"{TYPED_OP}: '{spec.describe()}' runs relation by relation: "
                      f"{fallback.detail}", TypedFallbackWarning, stacklevel=3)


# ----------------------------------------------------------------------------- structure
@dataclass(frozen=True)
class RelationLayout:
    """The typed edge list of a family of relations (see NOTE [typed edge list]).

    Attributes:
        edge_index: ``[2, E]`` int64; row 0 the source row in the concatenated source
            tensors, row 1 the edge's pair.
        by_node: ``[2, E]``; row 0 as above, row 1 ``node * R + r``: the edge's row in
            node-major per-relation results ``[num_nodes, R, ...]``.
        to_node: ``[2, P]`` edges ``pair -> its node`` (a fused sum adds pairs into nodes).
        to_slot: ``[2, P]`` edges ``pair -> r * num_nodes + node``, its row in the stacked
            per-relation results ``[R * num_nodes, ...]``.
        pair_target: ``[P]`` each pair's target row in the concatenated target tensors.
        counts: pairs per relation (the pairs of relation ``r`` are contiguous).
        src_max, dst_max: per relation, the largest source/target index (-1: no edges).
    """
    edge_index: Tensor
    by_node: Tensor
    to_node: Tensor
    to_slot: Tensor
    pair_target: Tensor
    counts: Tuple[int, ...]
    src_max: Tuple[int, ...]
    dst_max: Tuple[int, ...]

    @property
    def num_pairs(self) -> int:
        return int(self.to_node.shape[1])


def _index_bounds(edge_indices: Sequence[Tensor], src_row: int, num_nodes: int
                  ) -> Tuple[List[int], List[int]]:
    """Per relation, the largest source and target index; refuses what its call would."""
    src_max, dst_max = [], []
    for r, ei in enumerate(edge_indices):
        if ei.shape[1] == 0:
            src_max.append(-1)
            dst_max.append(-1)
            continue
        (lo_s, lo_d), (hi_s, hi_d) = [(b[src_row], b[1 - src_row])
                                      for b in (ei.amin(1).tolist(), ei.amax(1).tolist())]
        if min(lo_s, lo_d) < 0:
            raise IndexError(f"{TYPED_OP}: the edge_index of relation {r} contains the "
                             f"negative value {min(lo_s, lo_d)}")
        if hi_d >= num_nodes:
            raise IndexError(f"{TYPED_OP}: the edge_index of relation {r} has target {hi_d} "
                             f"but dim_size={num_nodes}")
        src_max.append(hi_s)
        dst_max.append(hi_d)
    return src_max, dst_max


def _build_layout(edge_indices: Sequence[Tensor], src_row: int, num_nodes: int,
                  src_offsets: Sequence[int], dst_offsets: Sequence[int]) -> RelationLayout:
    src_max, dst_max = _index_bounds(edge_indices, src_row, num_nodes)
    device = edge_indices[0].device
    sizes = torch.tensor([ei.shape[1] for ei in edge_indices], device=device)
    relation = torch.repeat_interleave(torch.arange(len(edge_indices), device=device), sizes)
    src = torch.cat([ei[src_row].long() + off for ei, off in zip(edge_indices, src_offsets)])
    dst = torch.cat([ei[1 - src_row].long() for ei in edge_indices])
    slot, pair = torch.unique(relation * num_nodes + dst, sorted=True, return_inverse=True)
    pair_relation = slot // max(num_nodes, 1)
    pair_node = slot - pair_relation * num_nodes
    counts = torch.bincount(pair_relation, minlength=len(edge_indices)).tolist()
    pair_target = pair_node + torch.tensor(list(dst_offsets), device=device,
                                           dtype=torch.long)[pair_relation]
    rows = torch.arange(slot.shape[0], device=device)
    by_node = torch.stack([src, dst * len(edge_indices) + relation])
    return RelationLayout(torch.stack([src, pair.view(-1)]), by_node,
                          torch.stack([rows, pair_node]), torch.stack([rows, slot]),
                          pair_target, tuple(counts), tuple(src_max), tuple(dst_max))


def relation_layout(edge_indices: Sequence[Tensor], src_row: int, num_nodes: int,
                    src_offsets: Sequence[int], dst_offsets: Sequence[int]) -> RelationLayout:
    """The typed edge list of ``edge_indices``, built once per tuple of edge tensors.

    Cached with :func:`gfx.structure.memo` against the first edge tensor; the entry
    records the identity and version of the others too, holding them weakly (a dropped
    tensor whose ``id`` is reused never hits).  ``IndexError`` for a negative index or
    a target ``>= num_nodes``.

    Args:
        edge_indices (list of Tensor): ``[2, E_r]`` per relation.
        src_row (int): the row of ``edge_index`` holding sources.
        num_nodes (int): target nodes, the same for every relation.
        src_offsets, dst_offsets (list of int): per relation, where its source (target)
            rows start in the concatenated operands.
    """
    def build():
        STATS.layouts_built += 1
        return _build_layout(edge_indices, src_row, num_nodes, src_offsets, dst_offsets)

    head = edge_indices[0]
    if not _checks.has_data(*edge_indices):
        return build()
    table = memo(head, "relation_layouts", (), dict)
    key = (src_row, num_nodes, tuple(src_offsets), tuple(dst_offsets),
           tuple((id(t), t._version) for t in edge_indices))
    entry = table.get(key)
    if entry is not None and all(ref() is t for ref, t in zip(entry[0], edge_indices)):
        return entry[1]
    for old, (refs, _) in list(table.items()):
        same = len(refs) == len(edge_indices) and all(r() is t for r, t in zip(refs, edge_indices))
        if any(r() is None for r in refs) or (same and old[-1] != key[-1]):
            del table[old]  # a dropped tensor, or an older version of these ones
    layout = build()
    table[key] = (tuple(weakref.ref(t) for t in edge_indices), layout)
    return layout


# ----------------------------------------------------------------------------- typed calls
SUM_SPEC = FusedSpec(("src",), ("in", 0), "sum").to_string()
_parse = functools.lru_cache(maxsize=256)(FusedSpec.parse)


@dataclass(frozen=True)
class _TypedCall:
    layout: RelationLayout
    operands: Tuple[Tensor, ...]     # src, edge: as the typed call reads them; dst: the
    kinds: Tuple[str, ...]           # concatenated rows, read at each pair's target


def _blocks(operands: Sequence[Sequence[Tensor]], positions: List[int]):
    """Distinct tuples of the tensors at ``positions``; each relation's block number."""
    blocks: List[Tuple[Tensor, ...]] = []
    seen: Dict[Tuple[int, ...], int] = {}
    of_relation = []
    for ops in operands:
        key = tuple(id(ops[k]) for k in positions)
        if key not in seen:
            seen[key] = len(blocks)
            blocks.append(tuple(ops[k] for k in positions))
        of_relation.append(seen[key])
    return blocks, of_relation


def _check_structure(spec: FusedSpec, edge_indices, operands, dim: int
                     ) -> Optional[_Fallback]:
    """Why these relations cannot share kernels at all, or ``None`` when they can."""
    distinct = {id(t): t for t in [*edge_indices, *[t for ops in operands for t in ops]]}
    values = list(distinct.values())
    if not all(isinstance(t, Tensor) for t in values):
        return _Fallback("type", "an operand is not a tensor")
    if not _checks.has_data(*values):
        return _Fallback("no data", "tensors without data (meta, fake or traced)")
    if len({t.device for t in values}) != 1:
        return _Fallback("device", "the tensors are on different devices")
    edge_positions = [k for k, kind in enumerate(spec.kinds) if kind == "edge"]
    for ei, ops in zip(edge_indices, operands):
        if ei.dim() != 2 or ei.shape[0] != 2 or ei.dtype not in _checks.INDEX_DTYPES:
            return _Fallback("edge_index", "an edge_index is not a [2, E] int64/int32 tensor")
        rank = ops[0].dim()
        if rank == 0 or any(t.dim() != rank for t in ops):
            return _Fallback("rank", "the operands of a relation have different ranks")
        if not -rank <= dim < rank or dim % rank != 0:
            return _Fallback("dim", f"dim={dim} is not the first axis of rank-{rank} operands")
        for k in edge_positions:
            if ops[k].shape[0] != ei.shape[1]:
                return _Fallback("edge rows", f"edge operand {k} does not have one row per "
                                              f"edge (it broadcasts over the edges)")
    return None


def _parts(operands, weights: Optional[Sequence[Tensor]]) -> List[List[int]]:
    """The relations that can share one kernel: equal operand dtypes and feature shapes
    (and equal weight shapes); a relation whose linear map the batched product cannot
    run (a weight that is not ``[out, in]``, messages without a feature axis) is alone."""
    kinds: Dict[int, tuple] = {}

    def kind(t: Tensor) -> tuple:
        if id(t) not in kinds:
            kinds[id(t)] = (t.dtype, t.shape[1:])
        return kinds[id(t)]

    parts: Dict[tuple, List[int]] = {}
    for r, ops in enumerate(operands):
        key: tuple = tuple(kind(t) for t in ops)
        if weights is not None:
            w = weights[r]
            key = ("alone", r) if w.dim() != 2 or ops[0].dim() < 2 else \
                key + ((w.dtype, w.shape),)
        parts.setdefault(key, []).append(r)
    if len(parts) > 1:
        STATS.splits += 1
    return list(parts.values())


def _offsets(blocks, of_relation) -> Optional[Tuple[List[int], List[int]]]:
    """Row offset of each relation's block, and its row count (None: ragged block)."""
    starts, rows = [], []
    for block in blocks:
        counts = {t.shape[0] for t in block}
        if len(counts) > 1:
            return None
        starts.append(sum(rows))
        rows.append(counts.pop() if counts else 0)
    return [starts[b] for b in of_relation], [rows[b] for b in of_relation]


def _check_rows(layout: RelationLayout, src_rows: Optional[List[int]],
                dst_rows: Optional[List[int]]) -> None:
    """Every index names an existing operand row, as each relation's call demands."""
    for r in range(len(layout.counts)):
        if src_rows is not None and layout.src_max[r] >= src_rows[r]:
            raise IndexError(f"{TYPED_OP}: the edge_index of relation {r} has source "
                             f"{layout.src_max[r]} but its source operands have "
                             f"{src_rows[r]} rows")
        if dst_rows is not None and layout.dst_max[r] >= dst_rows[r]:
            raise IndexError(f"{TYPED_OP}: the edge_index of relation {r} has target "
                             f"{layout.dst_max[r]} but its target operands have "
                             f"{dst_rows[r]} rows")


def _typed_call(spec: FusedSpec, edge_indices, operands, src_row: int,
                dim_size: int) -> Union[_TypedCall, _Fallback]:
    """The fused call over the typed edge list of alike relations (:func:`_parts`)."""
    src_pos = [k for k, kind in enumerate(spec.kinds) if kind == "src"]
    dst_pos = [k for k, kind in enumerate(spec.kinds) if kind == "dst"]
    src_blocks, src_of = _blocks(operands, src_pos)
    dst_blocks, dst_of = _blocks(operands, dst_pos)
    src_layout, dst_layout = _offsets(src_blocks, src_of), _offsets(dst_blocks, dst_of)
    if src_layout is None or dst_layout is None:
        return _Fallback("rows", "the node operands of one relation have different row "
                                 "counts")
    layout = relation_layout(edge_indices, src_row, dim_size, src_layout[0], dst_layout[0])
    _check_rows(layout, src_layout[1] if src_pos else None, dst_layout[1] if dst_pos else None)

    typed = []  # dst operands stay rows; the pairs' call reads them at pair_target
    for k, kind in enumerate(spec.kinds):
        rows = [b[src_pos.index(k)] for b in src_blocks] if kind == "src" else \
            [b[dst_pos.index(k)] for b in dst_blocks] if kind == "dst" else \
            [ops[k] for ops in operands]
        typed.append(rows[0] if len(rows) == 1 else torch.cat(rows))
    return _TypedCall(layout, tuple(typed), spec.kinds)


def _run_typed(call: _TypedCall, spec: str, backend: str) -> Tensor:
    """The fused kernel with one output row per pair."""
    STATS.fused_calls += 1
    operands = [gather_op(t, call.layout.pair_target, 0) if kind == "dst" else t
                for kind, t in zip(call.kinds, call.operands)]
    return fused_message_reduce_op(call.layout.edge_index, operands, 0, 0,
                                   call.layout.num_pairs, spec, backend)


def _typed_parts(spec: str, edge_indices, operands, src_row: int, dim: int, dim_size: int,
                 backend: str, weights=None):
    """``(relations, call or None)`` per kernel: a typed call, or ``None`` for relations
    that run one by one; ``None`` when the whole family must (announced)."""
    parsed = _parse(spec)
    refused = _check_structure(parsed, edge_indices, operands, dim)
    if refused is not None:
        _note_fallback(parsed, refused)
        return None
    plan = []
    for part in _parts(operands, weights):
        call = None
        if len(part) > 1:
            call = _typed_call(parsed, [edge_indices[r] for r in part],
                               [operands[r] for r in part], src_row, dim_size)
            if isinstance(call, _Fallback):
                _note_fallback(parsed, call)
                call = None
        plan.append((part, call))
    return plan


def relation_message_reduce(edge_indices: List[Tensor], operands: List[List[Tensor]],
                            src_row: int, dim: int, dim_size: int, spec: str,
                            backend: str) -> List[Tensor]:
    """Every relation's ``fused_message_reduce``, computed by one kernel.

    .. math::
        \\mathbf{m}_{r,i} = \\bigoplus_{e \\in \\mathcal{E}_r : \\mathrm{dst}(e) = i}
        \\phi(\\text{operands of } r \\text{ at } e)

    Relations whose operands differ in dtype or feature shape get one kernel per kind
    (counted in :data:`STATS` ``.splits``).

    Args:
        edge_indices (list of Tensor): ``[2, E_r]`` per relation.
        operands (list of list of Tensor): per relation, the fused node's operands.
        src_row, dim, dim_size, spec, backend: as for ``gfx::fused_message_reduce``,
            shared by the relations.

    Returns the list of the relations' results ``[dim_size, ...]``.
    """
    plan = _typed_parts(spec, edge_indices, operands, src_row, dim, dim_size, backend) or \
        [(list(range(len(edge_indices))), None)]
    results: List[Optional[Tensor]] = [None] * len(edge_indices)
    for part, call in plan:
        if call is None:
            for r in part:
                results[r] = fused_message_reduce_op(edge_indices[r], list(operands[r]),
                                                     src_row, dim, dim_size, spec, backend)
            continue
        pairs = _run_typed(call, spec, backend)
        stacked = fused_message_reduce_op(call.layout.to_slot, [pairs], 0, 0,
                                          len(part) * dim_size, SUM_SPEC, backend)
        stacked = stacked.view(len(part), dim_size, *pairs.shape[1:])
        for k, r in enumerate(part):
            results[r] = stacked[k]
    return results


def _linear_pairs(call: _TypedCall, pairs: Tensor, weights: List[Tensor]) -> Tensor:
    """Each pair's row mapped by its relation's weight (one :func:`segment_matmul`)."""
    inner = math.prod(pairs.shape[1:-1])  # rows per pair when messages are [P, ..., F]
    stacked = torch.stack(weights)
    products = segment_matmul_op(pairs.reshape(-1, pairs.shape[-1]).contiguous(),
                                 [c * inner for c in call.layout.counts], stacked)
    return products.view(*pairs.shape[:-1], stacked.shape[1])


def bias_sum(biases: Sequence[Optional[Tensor]]) -> Optional[Tensor]:
    """The sum of the biases that are not ``None`` (``None`` when all are)."""
    kept = [b for b in biases if b is not None]
    return None if not kept else kept[0] if len(kept) == 1 else torch.stack(kept).sum(0)


# NOTE [dense pairs]
# When most (relation, node) pairs have edges, the pairs layout saves little work and
# costs a second kernel (pairs -> nodes) and many small products.  Then the relations'
# results are laid out node-major, [N, R * F], and one product with the relations'
# weights side by side, [R * F, O], maps and sums them at once (rows of pairs without
# edges are 0 there and add nothing).  Used for 2-D messages without target operands
# when the multiply-adds it spends on pairs without edges, (R * N - P) * F * O, stay
# below DENSE_SLACK: about the fixed cost of the pairs layout's extra kernel and
# per-relation products on a CPU.  On large graphs the pairs layout wins unless nearly
# every pair has edges (then it costs the same work, and the node-major layout less).
DENSE_SLACK = float(1 << 22)


def _dense_pays(call: _TypedCall, num_nodes: int, out_features: int) -> bool:
    empty_pairs = len(call.layout.counts) * num_nodes - call.layout.num_pairs
    return "dst" not in call.kinds and call.operands[0].dim() == 2 and \
        empty_pairs * call.operands[0].shape[-1] * out_features <= DENSE_SLACK


def _node_major_linear(call: _TypedCall, spec: str, backend: str, num_nodes: int,
                       weights: List[Tensor], bias: Optional[Tensor]) -> Tensor:
    """``sum_r linear(m_r, W_r) + bias`` from node-major results (NOTE [dense pairs])."""
    relations = len(weights)
    STATS.fused_calls += 1
    stacked = fused_message_reduce_op(call.layout.by_node, list(call.operands), 0, 0,
                                      num_nodes * relations, spec, backend)
    side_by_side = torch.stack(weights, 1).reshape(weights[0].shape[0], -1)  # [O, R * F]
    return F.linear(stacked.view(num_nodes, side_by_side.shape[1]), side_by_side, bias)


def relation_linear_sum(edge_indices: List[Tensor], operands: List[List[Tensor]],
                        src_row: int, dim: int, dim_size: int, spec: str, backend: str,
                        weights: Optional[List[Tensor]] = None,
                        biases: Optional[List[Optional[Tensor]]] = None) -> Tensor:
    """The sum over relations of a linear map of each relation's fused result.

    .. math::
        \\mathbf{h}_i = \\sum_r \\left(\\mathbf{W}_r \\mathbf{m}_{r,i} + \\mathbf{b}_r\\right)
        = \\sum_r \\mathbf{b}_r + \\sum_{(r, i) \\in \\text{pairs}} \\mathbf{W}_r
        \\mathbf{m}_{r,i}

    with :math:`\\mathbf{m}_r` as in :func:`relation_message_reduce` (zero rows where
    relation ``r`` has no edge), the products run by :func:`segment_matmul` over the
    pairs only, and the pairs' rows summed into their nodes.

    Args:
        edge_indices, operands, src_row, dim, dim_size, spec, backend: as for
            :func:`relation_message_reduce`.
        weights (list of Tensor, optional): ``W_r`` (``[out, in]``) per relation;
            ``None`` sums the fused results themselves. (default: ``None``)
        biases (list of Tensor, optional): ``b_r`` per relation, entries may be
            ``None``. (default: ``None``)
    """
    biases = list(biases) if biases is not None else [None] * len(edge_indices)
    plan = _typed_parts(spec, edge_indices, operands, src_row, dim, dim_size, backend,
                        weights) or [(list(range(len(edge_indices))), None)]
    terms = []
    for part, call in plan:
        if call is None:
            for r in part:
                m = fused_message_reduce_op(edge_indices[r], list(operands[r]), src_row, dim,
                                            dim_size, spec, backend)
                terms.append(m if weights is None else F.linear(m, weights[r], biases[r]))
            continue
        bias = bias_sum([biases[r] for r in part])
        if weights is not None and _dense_pays(call, dim_size, weights[part[0]].shape[0]):
            terms.append(_node_major_linear(call, spec, backend, dim_size,
                                            [weights[r] for r in part], bias))
            continue
        pairs = _run_typed(call, spec, backend)
        if weights is not None:
            pairs = _linear_pairs(call, pairs, [weights[r] for r in part])
        out = fused_message_reduce_op(call.layout.to_node, [pairs], 0, 0, dim_size,
                                      SUM_SPEC, backend)
        terms.append(out if bias is None else out + bias)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


# Hand-made graph nodes call these; fx's code generator must know they are leaves.
torch.fx.wrap("relation_message_reduce")
torch.fx.wrap("relation_linear_sum")

__all__ = ["segment_matmul", "relation_layout", "RelationLayout", "relation_message_reduce",
           "relation_linear_sum", "bias_sum", "STATS", "reset_stats", "TypedFallbackWarning"]
