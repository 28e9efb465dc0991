"""The ``triton`` backend: fused nodes run as generated Triton kernels on CUDA.

Registered as ``Backend("triton", ...)``.  For each fused node's
:class:`~gfx.ops.fused.FusedSpec` and :class:`~gfx.codegen.triton_render.Layout` (dtype
and feature broadcasting, never graph sizes) it renders one module of kernels
(:mod:`gfx.codegen.triton_render`, see NOTE [triton kernels]), writes it to the kernel
cache folder under a name derived from its text, imports it once per process and
launches its kernels.  Triton compiles each kernel for the GPU on first launch and keeps
the binary in its own cache.

The call tree of one fused node::

    triton_forward(spec, edge_index, operands, src_row, dim, dim_size)
      _plan(...)                -> layout and sizes, or a reason to use the reference
      check_kernel_indices(...)   index ranges (gfx.codegen.checks, cached per edge_index)
      _csr(..., target row)     gfx.structure CSR by target (built once per edge_index)
      launch forward            grid (targets, feature blocks)
    triton_backward(..., out, grad)
      gscale = grad | grad / in-degree | launch ties       (sum | mean | max, min)
      launch grad_src           CSR by source, grid (sources, feature blocks)
      launch grad_dst           CSR by target, grid (targets, feature blocks)
      launch grad_edge<g>       grid (edge x operand element blocks)
      node gradients summed over the operand's broadcast axes

Calls the kernels cannot run (tensors not on CUDA, a dtype other than
float16/bfloat16/float32/float64, ``dim`` not the first axis, broadcasting other than
along feature axes) go to :func:`gfx.ops.fused.reference_forward`/``reference_backward``:
counted in :data:`STATS` and announced by one :class:`TritonFallbackWarning` per spec and
reason.

# NOTE [triton interpreter]
With ``TRITON_INTERPRET=1`` in the environment before triton is imported, Triton runs
kernels in Python on CPU tensors.  The backend then accepts CPU tensors and reports
itself available, so the generated kernels can be checked numerically without a GPU
(small graphs only: the interpreter is slow).
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
import threading
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from gfx.codegen.checks import (Fallback, FallbackReporter, check_kernel_indices, col_rows,
                                edge_rows_problem, message_layout_problem, operand_problem)
from gfx.codegen.triton_expr import unsupported_expression
from gfx.codegen.triton_render import Kernel, Layout, Module, edge_groups, render
from gfx.ops.fused import (Backend, FusedSpec, reference_backward, reference_forward,
                           register_backend)
from gfx.structure import check_csr_columns, csr_by_source, csr_by_target

DTYPES = {torch.float16: "float16", torch.bfloat16: "bfloat16", torch.float32: "float32",
          torch.float64: "float64"}
OP = "gfx.fused_message_reduce"
# Tile sizes: at most TILE values per tile, feature blocks of at most MAX_BLOCK_F.
TILE = 1024
MAX_BLOCK_F = 64


@dataclass
class TritonStats:
    """What the triton backend has done in this process (see :func:`reset_stats`).

    Attributes:
        renders: kernel modules generated (one per spec, dtype and broadcast layout).
        launches: kernel name -> launches.
        fallbacks: reason -> calls delegated to the reference backend.
    """
    renders: int = 0
    launches: Dict[str, int] = field(default_factory=dict)
    fallbacks: Dict[str, int] = field(default_factory=dict)


STATS = TritonStats()


def reset_stats() -> None:
    """Zero :data:`STATS` (in place: references to it stay valid)."""
    STATS.__dict__.update(TritonStats().__dict__)


class TritonFallbackWarning(UserWarning):
    """A fused node ran on the reference backend because the Triton kernels cannot run it."""


_report = FallbackReporter(STATS, TritonFallbackWarning, "triton")


def interpreting() -> bool:
    """True when Triton runs kernels in its CPU interpreter (see NOTE [triton interpreter])."""
    return os.environ.get("TRITON_INTERPRET", "").strip().lower() in ("1", "true", "on")


def available() -> bool:
    """True when triton is installed and a CUDA device (or the interpreter) can run it."""
    if importlib.util.find_spec("triton") is None:
        return False
    return interpreting() or torch.cuda.is_available()


def cache_dir() -> str:
    """Where generated modules are written: ``$GFX_CACHE_DIR``, else ``~/.cache/gfx/triton``."""
    folder = os.environ.get("GFX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "gfx", "triton")
    os.makedirs(folder, exist_ok=True)
    return folder


_LOADED: Dict[Tuple[FusedSpec, Layout], Tuple[Module, ModuleType]] = {}
_LOCK = threading.Lock()


def _import_source(text: str) -> ModuleType:
    """Write ``text`` as ``gfx_triton_<hash>.py`` (atomically) and import it."""
    name = "gfx_triton_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
    path = os.path.join(cache_dir(), name + ".py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as for any import: inspect finds sources through it
    spec.loader.exec_module(module)
    return module


def kernels(spec: FusedSpec, layout: Layout) -> Tuple[Module, ModuleType]:
    """The rendered module of ``spec`` for ``layout`` and its imported kernels (cached)."""
    key = (spec, layout)
    with _LOCK:
        if key not in _LOADED:
            rendered = render(spec, layout)
            STATS.renders += 1
            _LOADED[key] = (rendered, _import_source(rendered.text))
        return _LOADED[key]


def forget_loaded_kernels() -> None:
    """Drop the in-process table of kernel modules; the next call renders again."""
    with _LOCK:
        _LOADED.clear()


@dataclass(frozen=True)
class _Plan:
    layout: Layout
    sizes: Tuple[int, ...]            # coalesced feature axis sizes
    shape: Tuple[int, ...]            # the message's feature shape
    operands: Tuple[Tensor, ...]      # contiguous

    @property
    def width(self) -> int:
        """``F``: message features per edge."""
        total = 1
        for n in self.sizes:
            total *= n
        return total


def feature_layout(dtype: str, trailing: Sequence[Tuple[int, ...]]
                   ) -> Tuple[Layout, Tuple[int, ...], Tuple[int, ...]]:
    """Coalesce the operands' feature shapes (see NOTE [feature layout]).

    Axes of size 1 in the message are dropped and neighbouring axes merged when every
    operand has both or neither, e.g. ``[(H, 1), (H, C)]`` stays two axes but
    ``[(1, 1), (H, C)]`` becomes one.  Returns the layout, the coalesced sizes and the
    message's feature shape.
    """
    shape = tuple(torch.broadcast_shapes(*trailing))
    sizes: List[int] = []
    columns: List[Tuple[bool, ...]] = []
    for d, n in enumerate(shape):
        if n == 1:
            continue
        column = tuple(t[d] == n for t in trailing)
        if columns and columns[-1] == column:
            sizes[-1] *= n
        else:
            sizes.append(n)
            columns.append(column)
    if not sizes:
        sizes, columns = [1], [tuple(True for _ in trailing)]
    patterns = tuple(tuple(col[k] for col in columns) for k in range(len(trailing)))
    return Layout(dtype, patterns), tuple(sizes), shape


def _plan(spec: FusedSpec, edge_index: Tensor, operands: Sequence[Tensor],
          dim: int) -> Union[_Plan, Fallback]:
    """How the kernels run these inputs, or why they cannot."""
    if not available():
        return Fallback("unavailable", "triton is not installed or no CUDA device is present")
    devices = {t.device.type for t in (edge_index, *operands)}
    wanted = {"cpu"} if interpreting() else {"cuda"}
    if devices != wanted or len({t.device for t in (edge_index, *operands)}) != 1:
        return Fallback("device", f"tensors on {', '.join(sorted(devices))}; the triton "
                                   f"kernels run on one {'/'.join(wanted)} device")
    problem = operand_problem(spec.kinds, edge_index, operands, DTYPES, "triton") or \
        message_layout_problem(operands, dim, "triton") or \
        edge_rows_problem(spec.kinds, edge_index, operands)
    if problem is not None:
        return problem
    trailing = [tuple(t.shape[1:]) for t in operands]
    reason = unsupported_expression(spec.expr)
    if reason:
        return Fallback("expression", reason)
    layout, sizes, shape = feature_layout(DTYPES[operands[0].dtype], trailing)
    return _Plan(layout, sizes, shape, tuple(t.contiguous() for t in operands))


def _csr(edge_index: Tensor, row: int, num_rows: int, readable: int):
    """Edges grouped by ``edge_index[row]``, from the structure cache; its columns are
    checked against the ``readable`` rows a kernel reads at them (see
    :func:`gfx.codegen.checks.col_rows`)."""
    csr = csr_by_target(edge_index, num_rows) if row == 1 else \
        csr_by_source(edge_index, num_rows)
    check_csr_columns(OP, csr, readable, "an operand it indexes")
    return csr


def _pow2(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def node_blocks(width: int) -> Dict[str, int]:
    """``BLOCK_F`` (features per program) and ``BLOCK_E`` (edges per step) for ``width``."""
    block_f = min(MAX_BLOCK_F, _pow2(width))
    return {"BLOCK_E": max(16, min(64, TILE // block_f)), "BLOCK_F": block_f}


def edge_blocks(reduced: int) -> Dict[str, int]:
    """``BLOCK_R`` (reduced features per step) and ``BLOCK_P`` (pairs per program)."""
    block_r = min(MAX_BLOCK_F, _pow2(reduced))
    return {"BLOCK_P": max(16, min(256, TILE // block_r)), "BLOCK_R": block_r}


def _product(values) -> int:
    total = 1
    for v in values:
        total *= v
    return total


def feature_ints(layout: Layout, sizes: Sequence[int]) -> Dict[str, int]:
    """The run-time integers of NOTE [feature layout] for every operand."""
    rank = len(sizes)
    ints = {"F": _product(sizes)}
    for d in range(rank):
        ints[f"fs{d}"] = sizes[d]
        ints[f"fi{d}"] = _product(sizes[d + 1:])
    for k, pattern in enumerate(layout.patterns):
        ints[f"rs{k}"] = _product(n for n, kept in zip(sizes, pattern) if kept)
        for d in range(rank):
            ints[f"s{k}_{d}"] = _product(sizes[e] for e in range(d + 1, rank) if pattern[e])
    return ints


def group_ints(pattern: Sequence[bool], sizes: Sequence[int], num_edges: int
               ) -> Dict[str, int]:
    """Run-time integers of a ``grad_edge`` kernel for operands of broadcast ``pattern``."""
    rank = len(sizes)
    kept = _product(n for n, k in zip(sizes, pattern) if k)
    ints = {"FK": kept, "B": _product(sizes) // kept, "n_pairs": num_edges * kept}
    for d in range(rank):
        later = range(d + 1, rank)
        ints[f"oi{d}"] = _product(sizes[e] for e in later if pattern[e])
        ints[f"ri{d}"] = _product(sizes[e] for e in later if not pattern[e])
    return ints


def _launch(module: ModuleType, kernel: Kernel, grid: Tuple[int, ...],
            values: Dict[str, object], blocks: Dict[str, int], exact: bool) -> None:
    """Launch ``kernel`` with arguments taken from ``values`` by parameter name."""
    args = [values[p.name] for p in kernel.params if p.role != "constexpr"]
    device = next(a.device for a in args if isinstance(a, Tensor))
    STATS.launches[kernel.name] = STATS.launches.get(kernel.name, 0) + 1
    # Triton launches on the current CUDA device: make it the tensors' one.
    with torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext():
        # Without FMA contraction the backward's recomputed message equals the
        # forward's bit for bit, which the max/min winner test relies on.
        getattr(module, kernel.name)[grid](*args, **blocks, enable_fp_fusion=not exact)


def _node_values(csr, plan: _Plan, **buffers) -> Dict[str, object]:
    values: Dict[str, object] = {"ptr": csr.ptr, "col": csr.col, "perm": csr.perm, **buffers}
    values.update({f"in{k}": t for k, t in enumerate(plan.operands)})
    values.update(feature_ints(plan.layout, plan.sizes))
    return values


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def triton_forward(spec: FusedSpec, edge_index: Tensor, operands: Sequence[Tensor],
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
    module, py = kernels(spec, plan.layout)
    blocks = node_blocks(plan.width)
    csr = _csr(edge_index, 1 - src_row, dim_size,
               col_rows(spec.kinds, plan.operands, "src", dim_size))
    _launch(py, module.kernel("forward"), (dim_size, _cdiv(plan.width, blocks["BLOCK_F"])),
            _node_values(csr, plan, out=out), blocks, spec.reduce in ("max", "min"))
    return out


def _fit_rows(t: Tensor, rows: int) -> Tensor:
    """``t`` cut or zero-padded to ``rows`` rows."""
    if t.shape[0] >= rows:
        return t[:rows]
    return torch.cat([t, t.new_zeros((rows - t.shape[0], *t.shape[1:]))])


def _sum_broadcast(full: Tensor, operand: Tensor, shape: Tuple[int, ...]) -> Tensor:
    """A ``[rows, F]`` gradient summed over the axes ``operand`` is broadcast along."""
    full = full.view(full.shape[0], *shape)
    axes = [d + 1 for d, n in enumerate(operand.shape[1:]) if n == 1 and shape[d] != 1]
    if axes:
        full = full.sum(dim=axes, keepdim=True)
    return full.to(operand.dtype)


def triton_backward(spec: FusedSpec, edge_index: Tensor, operands: Sequence[Tensor],
                    src_row: int, dim: int, dim_size: int, out: Tensor, grad: Tensor
                    ) -> List[Optional[Tensor]]:
    """Gradients of every operand; messages are recomputed, never stored."""
    plan = _plan(spec, edge_index, operands, dim)
    if isinstance(plan, Fallback):
        _report(spec, plan)
        return reference_backward(spec, edge_index, operands, src_row, dim, dim_size, out,
                                  grad)
    check_kernel_indices(OP, spec.kinds, edge_index, plan.operands, src_row, dim_size)
    num_edges, width = edge_index.shape[1], plan.width
    if num_edges == 0 or out.numel() == 0:
        return [torch.zeros_like(t) for t in plan.operands]
    module, py = kernels(spec, plan.layout)
    exact = spec.reduce in ("max", "min")
    acc = torch.float64 if plan.layout.acc == "float64" else torch.float32
    blocks = node_blocks(width)
    feature_blocks = _cdiv(width, blocks["BLOCK_F"])
    dst = _csr(edge_index, 1 - src_row, dim_size,
               col_rows(spec.kinds, plan.operands, "src", dim_size))
    grad = grad.to(out.dtype).contiguous()
    out = out.contiguous()
    if spec.reduce == "sum":
        gscale = grad.to(acc).contiguous()
    elif spec.reduce == "mean":
        degree = dst.degree.clamp(min=1).to(acc)
        gscale = (grad.to(acc) / degree.view(-1, *[1] * len(plan.shape))).contiguous()
    else:
        gscale = torch.empty(grad.shape, dtype=acc, device=grad.device)
        _launch(py, module.kernel("ties"), (dim_size, feature_blocks),
                _node_values(dst, plan, out=out, grad=grad, gscale=gscale), blocks, exact)
    grads: List[Optional[Tensor]] = [None] * len(plan.operands)
    for side, row in (("src", src_row), ("dst", 1 - src_row)):
        wanted = [k for k, kind in enumerate(spec.kinds) if kind == side]
        if not wanted:
            continue
        rows = max(plan.operands[k].shape[0] for k in wanted) if side == "src" else dim_size
        csr = _csr(edge_index, row, rows, col_rows(
            spec.kinds, plan.operands, "dst" if side == "src" else "src", dim_size))
        buffers = {f"g{k}": torch.empty((rows, width), dtype=acc, device=out.device)
                   for k in wanted}
        _launch(py, module.kernel(f"grad_{side}"), (rows, feature_blocks),
                _node_values(csr, plan, out=out, gscale=gscale, **buffers), blocks, exact)
        for k in wanted:
            operand = plan.operands[k]
            full = _fit_rows(buffers[f"g{k}"], operand.shape[0])
            grads[k] = _sum_broadcast(full, operand, plan.shape)
    ends = {"srcs": edge_index[src_row].contiguous(), "dsts": edge_index[1 - src_row].contiguous()}
    for g, (pattern, wanted) in enumerate(edge_groups(spec, plan.layout).items()):
        ints = group_ints(pattern, plan.sizes, num_edges)
        edge = edge_blocks(ints["B"])
        buffers = {f"g{k}": torch.empty_like(plan.operands[k]) for k in wanted}
        values = {**_node_values(dst, plan, out=out, gscale=gscale, **buffers), **ends,
                  **ints}
        _launch(py, module.kernel(f"grad_edge{g}"),
                (_cdiv(ints["n_pairs"], edge["BLOCK_P"]),), values, edge, exact)
        for k in wanted:
            grads[k] = buffers[f"g{k}"]
    return grads


TRITON_TYPES = {"float16": "fp16", "bfloat16": "bf16", "float32": "fp32", "float64": "fp64"}


def signature(kernel: Kernel, layout: Layout) -> Dict[str, str]:
    """Triton's type of each parameter of ``kernel``: int64 indices, int32 sizes."""
    types = {"index": "*i64", "value": "*" + TRITON_TYPES[layout.dtype],
             "acc": "*" + TRITON_TYPES[layout.acc], "int": "i32", "constexpr": "constexpr"}
    return {p.name: types[p.role] for p in kernel.params}


def compile_ahead_of_time(spec: FusedSpec, layout: Layout, width: int = 64, arch: int = 90
                          ) -> Dict[str, object]:
    """Compile every kernel of ``spec`` for CUDA ``sm_<arch>``; no GPU is needed.

    This is how kernels are checked on machines without a GPU: Triton lowers each one
    through PTX to a cubin for the target and raises if any step fails.

    Args:
        spec (FusedSpec): the kernel description.
        layout (Layout): dtype and broadcast patterns.
        width (int, optional): the feature count the block sizes are chosen for (the
            same choice a launch with that many features makes). (default: ``64``)
        arch (int, optional): the compute capability, ``90`` for Hopper. (default: ``90``)

    Returns:
        dict: kernel name -> Triton's compiled kernel (``.asm`` holds ptx and cubin).
    """
    import triton
    from triton.backends.compiler import GPUTarget

    module, py = kernels(spec, layout)
    target = GPUTarget("cuda", arch, 32)
    options = {"enable_fp_fusion": spec.reduce not in ("max", "min")}
    compiled = {}
    for kernel in module.kernels:
        blocks = edge_blocks(width) if kernel.side == "edge" else node_blocks(width)
        source = triton.compiler.ASTSource(fn=getattr(py, kernel.name),
                                           signature=signature(kernel, layout),
                                           constexprs=blocks)
        compiled[kernel.name] = triton.compile(source, target=target, options=options)
    return compiled


BACKEND = register_backend(Backend("triton", triton_forward, triton_backward, available))
