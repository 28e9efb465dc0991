"""The ``cpp`` attention backend: fused attention nodes as generated C/OpenMP kernels.

Registered as ``AttentionBackend("cpp", ...)`` in
:data:`gfx.ops.fused_attention.ATTENTION_BACKENDS`.  For each node's
:class:`~gfx.ops.fused_attention.AttentionSpec` and
:class:`~gfx.codegen.cpp_attention_render.AttentionLayout` (scalar type and which
operands vary along heads and channels, never sizes) it renders one C file
(:mod:`gfx.codegen.cpp_attention_render`), builds it once with the toolchain and disk
cache of the ``cpp`` backend (:mod:`gfx.codegen.cpp_build`) and calls it with raw
pointers.

The call tree::

    attention_forward(spec, edge_index, operands, src_row, dim, softmax_dim, dim_size)
      _plan(...)          -> layout and sizes, or a reason to run the reference instead
      check_kernel_indices(...)   index ranges (gfx.codegen.checks)
      launch("gfx_attention_forward")            CSR by target
    attention_backward(..., out, grad)
      launch("gfx_attention_grad_dst")           CSR by target: [rows, H] statistics,
                                                 dst and edge operand gradients
      launch("gfx_attention_grad_src")           CSR by source: src operand gradients

Unsupported calls (see :func:`_plan`) run :func:`gfx.ops.fused_attention.reference_forward`
/ ``reference_backward``, counted in :data:`STATS` and announced by one
:class:`CppAttentionFallbackWarning` per spec and reason.
"""
from __future__ import annotations

import ctypes
import math
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from gfx.codegen.checks import (Fallback, FallbackReporter, check_kernel_indices,
                                edge_rows_problem, operand_problem)
from gfx.codegen import cpp_build
from gfx.codegen.checks import col_rows
from gfx.codegen.cpp import _csr, _threads
from gfx.codegen.cpp_attention_render import AttentionLayout, render
from gfx.codegen.cpp_render import Rendered
from gfx.ops._checks import has_data
from gfx.ops.fused_attention import (AttentionBackend, AttentionSpec, operand_indices,
                                     reference_backward, reference_forward,
                                     register_attention_backend)


SCALAR_TYPES = {torch.float32: "float", torch.float64: "double"}
# The per-row softmax arrays live on each thread's stack: bound their size.
MAX_HEADS = 4096
OP = "gfx.fused_attention"
_ARGTYPES = {"index": ctypes.c_void_p, "value": ctypes.c_void_p, "result": ctypes.c_void_p,
             "size": ctypes.c_int64, "threads": ctypes.c_int}


@dataclass
class CppAttentionStats:
    """What the cpp attention backend has done in this process.

    Attributes:
        sources: kernel files generated (one per spec and layout).
        builds: libraries compiled now.
        disk_hits: libraries found already built in the cache folder.
        launches: kernel function calls.
        fallbacks: reason -> calls run on the reference backend.
    """
    sources: int = 0
    builds: int = 0
    disk_hits: int = 0
    launches: int = 0
    fallbacks: Dict[str, int] = field(default_factory=dict)


STATS = CppAttentionStats()


def reset_stats() -> None:
    """Zero :data:`STATS` in place."""
    STATS.__dict__.update(CppAttentionStats().__dict__)


class CppAttentionFallbackWarning(UserWarning):
    """A fused attention node ran on the reference backend."""


_report = FallbackReporter(STATS, CppAttentionFallbackWarning, "cpp attention")


class _Library:
    """A loaded kernel library; its functions are called with named arguments."""

    def __init__(self, rendered: Rendered, path: str):
        self.kernels = rendered.kernels
        handle = ctypes.CDLL(path)
        self.functions = {}
        for name, kernel in rendered.kernels.items():
            function = getattr(handle, name)
            function.restype = None
            function.argtypes = [_ARGTYPES[kind] for kind, _ in kernel.params]
            self.functions[name] = function

    def launch(self, name: str, values: Dict[str, object]) -> None:
        args = [values[p].data_ptr() if isinstance(values[p], Tensor) else values[p]
                for _, p in self.kernels[name].params]
        STATS.launches += 1
        self.functions[name](*args)


_LOADED: Dict[Tuple[AttentionSpec, AttentionLayout], _Library] = {}
_LOCK = threading.Lock()


def kernel_source(spec: AttentionSpec, layout: AttentionLayout) -> Rendered:
    """The generated C of ``spec`` for ``layout``."""
    return render(spec, layout)


def forget_loaded_kernels() -> None:
    """Drop the loaded libraries; the next call looks in the disk cache again."""
    with _LOCK:
        _LOADED.clear()


def _library(spec: AttentionSpec, layout: AttentionLayout) -> _Library:
    key = (spec, layout)
    if key in _LOADED:
        return _LOADED[key]
    with _LOCK:
        if key not in _LOADED:
            rendered = kernel_source(spec, layout)
            STATS.sources += 1
            path, compiled = cpp_build.build(rendered.source)
            if compiled:
                STATS.builds += 1
            else:
                STATS.disk_hits += 1
            _LOADED[key] = _Library(rendered, path)
        return _LOADED[key]


@dataclass(frozen=True)
class _Plan:
    layout: AttentionLayout
    heads: int                        # H: the score's entries per edge
    channels: int                     # C: message entries per head
    shape: Tuple[int, ...]            # the message's feature shape
    operands: Tuple[Tensor, ...]      # contiguous


def _axis_zero(dim: int, rank: int) -> bool:
    return -rank <= dim < rank and dim % rank == 0


def _group(shape: Tuple[int, ...], full: Tuple[int, ...]) -> Optional[bool]:
    """True: ``shape`` is ``full``; False: all ones; None: a mix (not supported).

    ``full`` itself counts as varying even where it is all ones, so that a layout does
    not change with the number of heads.
    """
    if tuple(shape) == tuple(full):
        return True
    return False if all(n == 1 for n in shape) else None


def _layout(spec: AttentionSpec, operands: Sequence[Tensor]
            ) -> Union[Tuple[AttentionLayout, int, int, Tuple[int, ...]], Fallback]:
    n = len(spec.kinds)
    in_score = operand_indices(spec.score)
    in_message = operand_indices(spec.message) - {spec.alpha}
    if in_score & in_message:
        return Fallback("shared operand", f"operands {sorted(in_score & in_message)} "
                                           f"are read by both the score and the message")
    trailing = [tuple(t.shape[1:]) for t in operands]
    score_ranks = {len(trailing[k]) for k in in_score}
    message_ranks = {len(trailing[k]) for k in in_message}
    if len(score_ranks) != 1 or \
            not message_ranks <= {next(iter(score_ranks)) + spec.alpha_axes}:
        return Fallback("rank", f"operand ranks {[len(t) + 1 for t in trailing]}; the "
                                 f"kernels need all score operands of one rank and message "
                                 f"operands of that rank plus {spec.alpha_axes}")
    try:
        score = tuple(torch.broadcast_shapes(*(trailing[k] for k in in_score)))
        alpha = score + (1,) * spec.alpha_axes
        message = tuple(torch.broadcast_shapes(alpha, *(trailing[k] for k in in_message)))
    except RuntimeError:
        return Fallback("broadcast", f"operand feature shapes {trailing} do not broadcast")
    split = len(score) if message[:len(score)] == score else 0
    if split == 0 and math.prod(score) != 1:
        return Fallback("broadcast", f"the coefficients {list(alpha)} broadcast along "
                                      f"their own axes in the message {list(message)}")
    heads, channels = math.prod(message[:split]), math.prod(message[split:])
    score_masks: List[Optional[bool]] = [None] * n
    message_masks: List[Optional[Tuple[bool, bool]]] = [None] * n
    for k in in_score:
        score_masks[k] = _group(trailing[k], score)
    for k in in_message:
        along = (_group(trailing[k][:split], message[:split]),
                 _group(trailing[k][split:], message[split:]))
        message_masks[k] = None if None in along else along
    if any(score_masks[k] is None for k in in_score) or \
            any(message_masks[k] is None for k in in_message):
        return Fallback("broadcast", f"operand feature shapes {trailing} broadcast along "
                                      f"part of the head or channel axes")
    if heads > MAX_HEADS:
        return Fallback("heads", f"{heads} score entries per edge (at most {MAX_HEADS})")
    ctype = SCALAR_TYPES[operands[0].dtype]
    return (AttentionLayout(ctype, tuple(score_masks), tuple(message_masks)), heads,
            channels, message)


def _plan(spec: AttentionSpec, edge_index: Tensor, operands: Sequence[Tensor], dim: int,
          softmax_dim: int) -> Union[_Plan, Fallback]:
    """How the kernels run these inputs, or why they cannot."""
    if not cpp_build.available():
        return Fallback("toolchain", "no C compiler with OpenMP works here")
    if not has_data(edge_index, *operands):
        return Fallback("no data", "tensors without data (meta or fake)")
    devices = {t.device.type for t in (edge_index, *operands)}
    if devices != {"cpu"}:
        return Fallback("device", f"tensors on {', '.join(sorted(devices))}; the cpp "
                                   f"kernels run on the CPU")
    problem = operand_problem(spec.kinds, edge_index, operands, SCALAR_TYPES, "cpp")
    if problem is not None:
        return problem
    if any(t.dim() == 0 for t in operands):
        return Fallback("rank", "a zero-dimensional operand")
    for k in operand_indices(spec.score):
        if not _axis_zero(dim, operands[k].dim()) or \
                not _axis_zero(softmax_dim, operands[k].dim()):
            return Fallback("dim", f"dim={dim}, softmax_dim={softmax_dim} are not the "
                                    f"first axis of the score operands")
    for k in operand_indices(spec.message) - {spec.alpha}:
        if not _axis_zero(dim, operands[k].dim()):
            return Fallback("dim", f"dim={dim} is not the first axis of message operand {k}")
    problem = edge_rows_problem(spec.kinds, edge_index, operands)
    if problem is not None:
        return problem
    found = _layout(spec, operands)
    if isinstance(found, Fallback):
        return found
    layout, heads, channels, shape = found
    return _Plan(layout, heads, channels, shape, tuple(t.contiguous() for t in operands))


def _values(csr, plan: _Plan, rows: int, threads: int, **buffers) -> Dict[str, object]:
    values: Dict[str, object] = {"ptr": csr.ptr, "col": csr.col, "eid": csr.eid,
                                 "rows": rows, "H": plan.heads, "C": plan.channels,
                                 "nthreads": threads, **buffers}
    values.update({f"in{k}": t for k, t in enumerate(plan.operands)})
    return values


def attention_forward(spec: AttentionSpec, edge_index: Tensor, operands: Sequence[Tensor],
                      src_row: int, dim: int, softmax_dim: int, dim_size: int) -> Tensor:
    """Scores, per-target softmax and weighted sum in one generated kernel."""
    plan = _plan(spec, edge_index, operands, dim, softmax_dim)
    if isinstance(plan, Fallback):
        _report(spec, plan)
        return reference_forward(spec, edge_index, operands, src_row, dim, softmax_dim,
                                 dim_size)
    check_kernel_indices(OP, spec.kinds, edge_index, plan.operands, src_row, dim_size)
    out = plan.operands[0].new_empty((dim_size, *plan.shape))
    if out.numel() == 0:
        return out
    csr = _csr(edge_index, 1 - src_row, dim_size,
               col_rows(spec.kinds, plan.operands, "src", dim_size))
    threads = _threads(edge_index.shape[1], plan.heads * plan.channels)
    _library(spec, plan.layout).launch("gfx_attention_forward",
                                       _values(csr, plan, dim_size, threads, out=out))
    return out


def attention_backward(spec: AttentionSpec, edge_index: Tensor, operands: Sequence[Tensor],
                       src_row: int, dim: int, softmax_dim: int, dim_size: int, out: Tensor,
                       grad: Tensor) -> List[Optional[Tensor]]:
    """Gradients of every operand; scores, coefficients and messages are recomputed."""
    plan = _plan(spec, edge_index, operands, dim, softmax_dim)
    if isinstance(plan, Fallback):
        _report(spec, plan)
        return reference_backward(spec, edge_index, operands, src_row, dim, softmax_dim,
                                  dim_size, out, grad)
    check_kernel_indices(OP, spec.kinds, edge_index, plan.operands, src_row, dim_size)
    expected = (dim_size, *plan.shape)
    if tuple(grad.shape) != expected:
        raise ValueError(f"{OP}: backward needs 'grad' of shape {list(expected)}, got "
                         f"{list(grad.shape)}")
    grads = [torch.zeros_like(t) for t in plan.operands]
    num_edges = edge_index.shape[1]
    if num_edges == 0 or grad.numel() == 0:
        return grads
    library = _library(spec, plan.layout)
    grad = grad.to(plan.operands[0].dtype).contiguous()
    threads = _threads(num_edges, plan.heads * plan.channels)
    stats = [grad.new_zeros(dim_size, plan.heads) for _ in range(3)]
    named = {f"grad{k}": g for k, g in enumerate(grads)}
    by_target = _csr(edge_index, 1 - src_row, dim_size,
                     col_rows(spec.kinds, plan.operands, "src", dim_size))
    library.launch("gfx_attention_grad_dst", _values(
        by_target, plan, dim_size, threads, grad=grad, stat_max=stats[0], stat_sum=stats[1],
        stat_dot=stats[2], **named))
    if "src" in spec.kinds:
        # The fewest rows: grad_src writes every operand's gradient at the row index.
        rows = min(plan.operands[k].shape[0] for k, kind in enumerate(spec.kinds)
                   if kind == "src")
        by_source = _csr(edge_index, src_row, rows,
                         col_rows(spec.kinds, plan.operands, "dst", dim_size))
        library.launch("gfx_attention_grad_src", _values(
            by_source, plan, rows, threads, grad=grad, stat_max=stats[0],
            stat_sum=stats[1], stat_dot=stats[2], **named))
    return grads


def available() -> bool:
    """True when the C toolchain of the cpp backend works here."""
    return cpp_build.available()


BACKEND = register_attention_backend(
    AttentionBackend("cpp", attention_forward, attention_backward, available))
