"""The ``cpp`` backend: fused nodes run as generated C/OpenMP kernels on the CPU.

Registered as ``Backend("cpp", ...)``.  For each fused node's
:class:`~gfx.ops.fused.FusedSpec` and :class:`~gfx.codegen.cpp_render.Layout` (scalar
type and feature broadcasting, never graph sizes) it renders one C file
(:mod:`gfx.codegen.cpp_render`), builds it once (:mod:`gfx.codegen.cpp_build`, cached on
disk) and calls its functions through ``ctypes`` with raw pointers and int64 sizes.

The call tree of one fused node::

    cpp_forward(spec, edge_index, operands, src_row, dim, dim_size)
      _plan(...)            -> layout, or a reason to delegate to the reference backend
      check_kernel_indices(...)   index ranges (gfx.codegen.checks, cached per edge_index)
      _csr(...)             gfx.structure CSR by target (built once per edge_index)
      _library(spec, layout).launch("gfx_forward", ...)
    cpp_backward(..., out, grad)
      scaled = grad | grad / in-degree | launch("gfx_ties")      (sum | mean | max, min)
      launch("gfx_grad_<k>") for every operand (CSR by source for ``src`` operands)

Calls the kernels cannot run (not on the CPU, not float32/float64, ``dim`` not the
first axis, broadcasting other than along feature axes) are delegated to
:func:`gfx.ops.fused.reference_forward`/``reference_backward``: counted in
:data:`STATS` and announced by one :class:`CppFallbackWarning` per spec and reason.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from gfx.codegen.checks import (Fallback, FallbackReporter, check_kernel_indices,
                                edge_rows_problem, message_layout_problem, operand_problem)
from gfx.codegen import cpp_build
from gfx.codegen.cpp_render import Layout, Rendered, feature_layout, render
from gfx.ops._checks import has_data
from gfx.ops.fused import (Backend, FusedSpec, reference_backward, reference_forward,
                           register_backend)
from gfx.codegen.checks import col_rows
from gfx.structure import check_csr_columns, csr_by_source, csr_by_target, memo

SCALAR_TYPES = {torch.float32: "float", torch.float64: "double"}
# Below this many (edge, feature) pairs a kernel runs on one thread: starting the
# OpenMP team would cost more than it saves.
PARALLEL_WORK = 1 << 15
_ARGTYPES = {"index": ctypes.c_void_p, "value": ctypes.c_void_p, "result": ctypes.c_void_p,
             "size": ctypes.c_int64, "threads": ctypes.c_int}
OP = "gfx.fused_message_reduce"


@dataclass
class CppStats:
    """What the cpp backend has done in this process (see :func:`reset_stats`).

    Attributes:
        sources: kernel files generated (one per spec, scalar type and layout).
        builds: libraries compiled by the C compiler.
        disk_hits: libraries found already built in the cache folder.
        launches: kernel function calls.
        fallbacks: reason -> calls delegated to the reference backend.
    """
    sources: int = 0
    builds: int = 0
    disk_hits: int = 0
    launches: int = 0
    fallbacks: Dict[str, int] = field(default_factory=dict)


STATS = CppStats()


def reset_stats() -> None:
    """Zero :data:`STATS` (in place: references to it stay valid)."""
    STATS.__dict__.update(CppStats().__dict__)


class CppFallbackWarning(UserWarning):
    """A fused node ran on the reference backend because the cpp kernels cannot run it."""


_report = FallbackReporter(STATS, CppFallbackWarning, "cpp")


def available() -> bool:
    """True when a C compiler with OpenMP works here (probed once per process)."""
    return cpp_build.available()


class _Library:
    """A loaded kernel library: its ``ctypes`` functions, called by parameter name."""

    def __init__(self, rendered: Rendered, path: str):
        self.kernels = rendered.kernels
        self.handle = ctypes.CDLL(path)
        self.functions = {}
        for name, kernel in rendered.kernels.items():
            function = getattr(self.handle, name)
            function.restype = None
            function.argtypes = [_ARGTYPES[kind] for kind, _ in kernel.params]
            self.functions[name] = function

    def launch(self, name: str, values: Dict[str, object]) -> None:
        """Call kernel ``name``; tensors are passed as data pointers."""
        args = []
        for _, pname in self.kernels[name].params:
            value = values[pname]
            args.append(value.data_ptr() if isinstance(value, Tensor) else value)
        STATS.launches += 1
        self.functions[name](*args)


_LOADED: Dict[Tuple[FusedSpec, Layout], _Library] = {}
_LOCK = threading.Lock()


def kernel_source(spec: FusedSpec, layout: Layout) -> Rendered:
    """The generated C of ``spec`` for ``layout`` (what :func:`cpp_forward` builds)."""
    return render(spec, layout)


def forget_loaded_kernels() -> None:
    """Drop the in-process table of loaded libraries; the next call looks on disk again."""
    with _LOCK:
        _LOADED.clear()


def _dump_debug(spec: FusedSpec, source: str) -> None:
    """With ``GFX_DEBUG=<folder>``, keep each generated kernel as ``<folder>/cpp/*.c``."""
    folder = os.environ.get("GFX_DEBUG")
    if not folder:
        return
    os.makedirs(os.path.join(folder, "cpp"), exist_ok=True)
    name = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    with open(os.path.join(folder, "cpp", f"fused-{spec.reduce}-{name}.c"), "w",
              encoding="utf-8") as f:
        f.write(source)


def _library(spec: FusedSpec, layout: Layout) -> _Library:
    key = (spec, layout)
    library = _LOADED.get(key)
    if library is not None:
        return library
    with _LOCK:
        if key not in _LOADED:
            rendered = kernel_source(spec, layout)
            STATS.sources += 1
            _dump_debug(spec, rendered.source)
            path, compiled = cpp_build.build(rendered.source)
            if compiled:
                STATS.builds += 1
            else:
                STATS.disk_hits += 1
            _LOADED[key] = _Library(rendered, path)
        return _LOADED[key]


@dataclass(frozen=True)
class _Plan:
    layout: Layout
    sizes: Tuple[int, ...]            # merged feature axis sizes (n0, n1, ...)
    shape: Tuple[int, ...]            # the message's feature shape
    operands: Tuple[Tensor, ...]      # contiguous


def _uses_tensor_slope(expr: tuple) -> bool:
    if expr[0] in ("in", "const"):
        return False
    if expr[0] == "leaky_relu" and expr[2][0] != "const":
        return True
    return any(_uses_tensor_slope(a) for a in expr[1:])


def _plan(spec: FusedSpec, edge_index: Tensor, operands: Sequence[Tensor],
          dim: int) -> Union[_Plan, Fallback]:
    """How the kernels run these inputs, or why they cannot."""
    if not available():
        return Fallback("toolchain", "no C compiler with OpenMP works here")
    if not has_data(edge_index, *operands):
        return Fallback("no data", "tensors without data (meta or fake, as when "
                                    "torch.compile traces a backward)")
    devices = {t.device.type for t in (edge_index, *operands)}
    if devices != {"cpu"}:
        return Fallback("device", f"tensors on {', '.join(sorted(devices))}; the cpp "
                                   f"kernels run on the CPU")
    problem = operand_problem(spec.kinds, edge_index, operands, SCALAR_TYPES, "cpp") or \
        message_layout_problem(operands, dim, "cpp") or \
        edge_rows_problem(spec.kinds, edge_index, operands)
    if problem is not None:
        return problem
    trailing = [tuple(t.shape[1:]) for t in operands]
    if _uses_tensor_slope(spec.expr):
        return Fallback("slope", "a leaky_relu slope is not a constant")
    layout, sizes, shape = feature_layout(SCALAR_TYPES[operands[0].dtype], trailing)
    return _Plan(layout, sizes, shape, tuple(t.contiguous() for t in operands))


@dataclass(frozen=True)
class _Csr:
    ptr: Tensor
    col: Tensor
    eid: Tensor


def _csr(edge_index: Tensor, row: int, num_rows: int, readable: int) -> _Csr:
    """Edges grouped by ``edge_index[row]``, from the structure cache, int64 throughout.

    ``readable`` is how many rows a kernel may read at ``col`` (see :func:`col_rows`);
    the CSR's own bounds are checked against it, so a kernel launched on the result
    stays in bounds whatever happened to ``edge_index`` since the CSR was built.
    """
    csr = csr_by_target(edge_index, num_rows) if row == 1 else \
        csr_by_source(edge_index, num_rows)
    check_csr_columns(OP, csr, readable, "an operand it indexes")
    col = csr.col if csr.col.dtype == torch.int64 else \
        memo(edge_index, "cpp_col64", (row, num_rows), lambda: csr.col.long())
    return _Csr(csr.ptr, col, csr.perm)


def _values(csr: _Csr, plan: _Plan, rows: int, threads: int, **buffers) -> Dict[str, object]:
    values: Dict[str, object] = {"ptr": csr.ptr, "col": csr.col, "eid": csr.eid,
                                 "rows": rows, "nthreads": threads, **buffers}
    values.update({f"in{k}": t for k, t in enumerate(plan.operands)})
    values.update({f"n{a}": n for a, n in enumerate(plan.sizes)})
    return values


def _threads(num_edges: int, width: int) -> int:
    return torch.get_num_threads() if num_edges * max(width, 1) >= PARALLEL_WORK else 1


def cpp_forward(spec: FusedSpec, edge_index: Tensor, operands: Sequence[Tensor],
                src_row: int, dim: int, dim_size: int) -> Tensor:
    """``out[i] = reduce_{e : dst(e) == i} expr(e)`` with one generated kernel."""
    plan = _plan(spec, edge_index, operands, dim)
    if isinstance(plan, Fallback):
        _report(spec, plan)
        return reference_forward(spec, edge_index, operands, src_row, dim, dim_size)
    check_kernel_indices(OP, spec.kinds, edge_index, plan.operands, src_row, dim_size)
    out = plan.operands[0].new_empty((dim_size, *plan.shape))
    if out.numel() == 0:
        return out
    csr = _csr(edge_index, 1 - src_row, dim_size,
               col_rows(spec.kinds, plan.operands, "src", dim_size))
    width = out.numel() // dim_size
    threads = _threads(edge_index.shape[1], width)
    _library(spec, plan.layout).launch("gfx_forward",
                                       _values(csr, plan, dim_size, threads, out=out))
    return out


def cpp_backward(spec: FusedSpec, edge_index: Tensor, operands: Sequence[Tensor],
                 src_row: int, dim: int, dim_size: int, out: Tensor, grad: Tensor
                 ) -> List[Optional[Tensor]]:
    """Gradients of the operands; messages are recomputed, never stored.

    Under autograd, the operands that need no gradient (``requires_grad`` False, e.g.
    GCN's normalised edge weights) get ``None`` and cost no kernel; when no operand
    requires grad (a direct call), every one gets its gradient.
    """
    plan = _plan(spec, edge_index, operands, dim)
    if isinstance(plan, Fallback):
        _report(spec, plan)
        return reference_backward(spec, edge_index, operands, src_row, dim, dim_size, out,
                                  grad)
    check_kernel_indices(OP, spec.kinds, edge_index, plan.operands, src_row, dim_size)
    expected = (dim_size, *plan.shape)
    if tuple(out.shape) != expected or tuple(grad.shape) != expected:
        raise ValueError(f"{OP}: backward needs 'out' and 'grad' of shape {list(expected)}, "
                         f"got {list(out.shape)} and {list(grad.shape)}")
    wanted = [t.requires_grad for t in operands]
    if not any(wanted):
        wanted = [True] * len(operands)
    grads = [torch.zeros_like(t) if want else None for t, want in zip(plan.operands, wanted)]
    num_edges = edge_index.shape[1]
    if num_edges == 0 or out.numel() == 0:
        return grads
    library = _library(spec, plan.layout)
    dst = _csr(edge_index, 1 - src_row, dim_size,
               col_rows(spec.kinds, plan.operands, "src", dim_size))
    width = out.numel() // dim_size
    threads = _threads(num_edges, width)
    grad = grad.to(out.dtype).contiguous()
    out = out.contiguous()
    if spec.reduce == "sum":
        scaled = grad
    elif spec.reduce == "mean":
        degree = (dst.ptr[1:] - dst.ptr[:-1]).clamp(min=1).to(grad.dtype)
        scaled = (grad / degree.view(-1, *[1] * len(plan.shape))).contiguous()
    else:
        scaled = torch.empty_like(grad)
        library.launch("gfx_ties", _values(dst, plan, dim_size, threads, out=out, grad=grad,
                                           scaled=scaled))
    for k, kind in enumerate(spec.kinds):
        if grads[k] is None:
            continue
        rows = plan.operands[k].shape[0] if kind == "src" else dim_size
        csr = _csr(edge_index, src_row, rows,
                   col_rows(spec.kinds, plan.operands, "dst", dim_size)) \
            if kind == "src" else dst
        library.launch(f"gfx_grad_{k}", _values(csr, plan, rows, threads, out=out,
                                                scaled=scaled, result=grads[k]))
    return grads


BACKEND = register_backend(Backend("cpp", cpp_forward, cpp_backward, available))
