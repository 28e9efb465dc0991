"""Triton source for one fused node: a :class:`FusedSpec` and a :class:`Layout` in, text out.

Every fused node gets one module of ``@triton.jit`` kernels (see NOTE [triton kernels]).
Rendering is a pure function of the kernel description and the layout, which holds the
dtype and the broadcast structure of the feature axes, never a graph size: one module
serves every graph.

# NOTE [triton kernels]
Let ``F`` be the number of message features (the trailing axes, flattened) and ``dst(e)``,
``src(e)`` the endpoints of edge ``e``.  The kernels of a module are

* ``forward``: one program per (target node ``i``, block of ``BLOCK_F`` features); it walks
  the CSR of ``i``'s incoming edges in blocks of ``BLOCK_E``, evaluates the expression on a
  ``[BLOCK_E, BLOCK_F]`` tile in registers and folds it into an accumulator tile, which is
  reduced over its edge axis once after the loop and stored once:
  ``out[i] = reduce_e expr(e)``.  No atomics, and a fixed order (deterministic).
* ``ties`` (max/min only): the same walk, counting the winners ``expr(e) == out[i]`` per
  feature and storing ``gscale[i] = grad[i] / #winners`` (node-sized).
* ``grad_src`` / ``grad_dst``: one program per node of that side, walking its edges (the
  CSR by source, i.e. the transposed graph, for ``src`` operands; the CSR by target for
  ``dst`` operands); the expression is recomputed and its symbolic derivative summed:
  ``g_k[n] = sum_{e at n} seed(e) * d expr / d in_k (e)`` with ``seed(e) = gscale[dst(e)]``
  (times ``[expr(e) == out[dst(e)]]`` for max/min).  The result has the message's feature
  shape per node; the caller sums it over the operand's broadcast axes.
* ``grad_edge<g>``: one program per block of ``(edge, operand element)`` pairs for the
  edge operands of broadcast pattern ``g``, looping over the message features that map to
  the element (those the operand is broadcast along) and storing the operand's gradient.

Nothing of size ``[E, F]`` is written: per-edge messages live in registers only.

# NOTE [feature layout]
The trailing axes of the message are coalesced into ``R`` axes of sizes ``fs<d>``
(row-major, flat index ``f``, ``fi<d>`` the stride of axis ``d`` in ``f``); an operand
either has axis ``d`` (its pattern entry is True) or is broadcast along it.  Operand
``k`` is contiguous with ``rs<k>`` elements per row, and its element for message feature
``f`` sits at ``sum_d coord_d(f) * s<k>_<d>`` over its own axes (the innermost stride is
1 and is not passed).  All of these are run-time integers chosen by the caller.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from gfx.ops.fused import FusedSpec

from .triton_expr import ExprCode

ACCUMULATOR = {"float16": "float32", "bfloat16": "float32", "float32": "float32",
               "float64": "float64"}


@dataclass(frozen=True)
class Layout:
    """What a module is generated for besides the spec: dtype and broadcast patterns.

    ``patterns[k][d]`` is True when operand ``k`` has coalesced feature axis ``d`` and
    False when it is broadcast along it (see NOTE [feature layout]).
    """
    dtype: str
    patterns: Tuple[Tuple[bool, ...], ...]

    @property
    def rank(self) -> int:
        return len(self.patterns[0])

    @property
    def acc(self) -> str:
        return ACCUMULATOR[self.dtype]


@dataclass(frozen=True)
class Param:
    """A kernel parameter: ``role`` is index/value/acc (pointers), int or constexpr."""
    name: str
    role: str


@dataclass(frozen=True)
class Kernel:
    """One generated kernel: its name in the module, parameters, and what it computes.

    ``side`` is the node side whose CSR it walks (``dst``/``src``) or ``edge``;
    ``outputs`` are the operand numbers whose gradients it stores (empty for forward
    and ties).
    """
    name: str
    params: Tuple[Param, ...]
    side: str
    outputs: Tuple[int, ...]


@dataclass(frozen=True)
class Module:
    """The source text of a module of kernels and the kernels it defines."""
    text: str
    kernels: Tuple[Kernel, ...]

    def kernel(self, name: str) -> Kernel:
        for k in self.kernels:
            if k.name == name:
                return k
        raise KeyError(f"gfx triton: the module has no kernel '{name}'; it has "
                       f"{', '.join(k.name for k in self.kernels)}")


def edge_groups(spec: FusedSpec, layout: Layout) -> Dict[Tuple[bool, ...], Tuple[int, ...]]:
    """Edge operands grouped by broadcast pattern (one ``grad_edge`` kernel per group)."""
    groups: Dict[Tuple[bool, ...], List[int]] = {}
    for k, kind in enumerate(spec.kinds):
        if kind == "edge":
            groups.setdefault(layout.patterns[k], []).append(k)
    return {p: tuple(ks) for p, ks in groups.items()}


class _Ints:
    """Collects the run-time integer parameters a kernel body refers to."""

    def __init__(self):
        self.used: List[str] = []

    def __call__(self, name: str) -> str:
        if name not in self.used:
            self.used.append(name)
        return name


def _split(flat: str, axes: Sequence[int], stride: str, ints: _Ints) -> Dict[int, str]:
    """Coordinates along ``axes`` (outer to inner) of a row-major flat index ``flat``."""
    coords = {}
    for i, d in enumerate(axes):
        if len(axes) == 1:
            coords[d] = flat
        elif i == 0:
            coords[d] = f"({flat} // {ints(f'{stride}{d}')})"
        elif i == len(axes) - 1:
            coords[d] = f"({flat} % {ints(f'fs{d}')})"
        else:
            coords[d] = f"(({flat} // {ints(f'{stride}{d}')}) % {ints(f'fs{d}')})"
    return coords


def _offset(k: int, pattern: Sequence[bool], coords: Dict[int, str], ints: _Ints,
            zero: str) -> str:
    """Where operand ``k``'s element sits within its row, from message coordinates."""
    axes = [d for d, kept in enumerate(pattern) if kept]
    if not axes:
        return zero
    terms = [f"{coords[d]} * {ints(f's{k}_{d}')}" for d in axes[:-1]] + [coords[axes[-1]]]
    return " + ".join(terms)


def _header(name: str, params: List[Param], size_args: Sequence[str] = ()) -> List[str]:
    """Decorator and ``def`` line; ``size_args`` grow with the graph and are not
    specialised on (a new graph size never recompiles a kernel)."""
    decorator = f"@triton.jit(do_not_specialize={list(size_args)!r})" if size_args \
        else "@triton.jit"
    lines = ["", "", decorator]
    args = [p.name + (": tl.constexpr" if p.role == "constexpr" else "") for p in params]
    lines.append(f"def {name}({', '.join(args)}):")
    return lines


def _root_seed(spec: FusedSpec, layout: Layout, code: ExprCode, msg: str, gs: str,
               out: str) -> str:
    """``d loss / d message``: the scaled gradient, masked to the winners for max/min."""
    if spec.reduce not in ("max", "min"):
        return gs
    code.lines.append(f"won = {_rounded(layout, msg)} == {out}")
    return code.emit("s", f"tl.where(won, {gs}, 0.0)")


def _rounded(layout: Layout, msg: str) -> str:
    # The stored result was rounded to the output dtype: compare in that precision.
    if layout.dtype == layout.acc:
        return msg
    return f"{msg}.to(tl.{layout.dtype}).to(tl.{layout.acc})"


def _reduction(spec: FusedSpec) -> Tuple[str, str, str]:
    """(fill value, tile update, final reduction) of the forward's accumulator tile."""
    if spec.reduce == "max":
        return 'float("-inf")', "tl.maximum(acc, tl.where(mask, {m}, -float(\"inf\")))", \
            "tl.max(acc, axis=0)"
    if spec.reduce == "min":
        return 'float("inf")', "tl.minimum(acc, tl.where(mask, {m}, float(\"inf\")))", \
            "tl.min(acc, axis=0)"
    return "0.0", "acc + tl.where(mask, {m}, 0.0)", "tl.sum(acc, axis=0)"


def _node_kernel(spec: FusedSpec, layout: Layout, name: str, side: str,
                 outputs: Tuple[int, ...]) -> Tuple[Kernel, List[str]]:
    """A kernel walking the CSR of ``side`` nodes: forward, ties or grad_<side>.

    Accumulators are ``[BLOCK_E, BLOCK_F]`` tiles reduced over edges once, after the
    loop (one cross-lane reduction per program, in a fixed order).
    """
    acc, dt = layout.acc, layout.dtype
    ints = _Ints()
    coords = _split("f", range(layout.rank), "fi", ints)
    body: List[str] = [
        "node = tl.program_id(0).to(tl.int64)",
        "f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)",
        f"fmask = f < {ints('F')}",
        "start = tl.load(ptr + node)",
        "end = tl.load(ptr + node + 1)",
        # (a vector test: the interpreter cannot combine a scalar mask with a vector one)
        "here = fmask & (f * 0 + end > start)",
    ]
    leaves: Dict[int, str] = {}
    for k, kind in enumerate(spec.kinds):
        body.append(f"o{k} = {_offset(k, layout.patterns[k], coords, ints, 'f * 0')}")
        if kind == side:
            body.append(f"v{k} = tl.load(in{k} + node * {ints(f'rs{k}')} + o{k}, mask=here, "
                        f"other=0.0).to(tl.{acc})[None, :]")
            leaves[k] = f"v{k}"
    # Per-target values the kernel reads: loaded once here when the program's node is
    # the target, per edge inside the loop otherwise.
    extras: List[Param] = []
    at_target: List[str] = []
    tile = f"[BLOCK_E, BLOCK_F], {{}}, tl.{acc})"
    if name == "forward":
        extras.append(Param("out", "value"))
        fill, update, final = _reduction(spec)
        body.append("acc = tl.full(" + tile.format(fill))
    elif name == "ties":
        extras += [Param("out", "value"), Param("grad", "value"), Param("gscale", "acc")]
        at_target.append("out")
        body.append("count = tl.full(" + tile.format("0.0"))
    else:
        extras.append(Param("gscale", "acc"))
        at_target.append("gscale")
        if spec.reduce in ("max", "min"):
            extras.append(Param("out", "value"))
            at_target.append("out")
        body += [f"acc{k} = tl.full(" + tile.format("0.0") for k in outputs]
    if side == "dst":
        body += [f"{slot}_i = tl.load({slot} + node * F + f, mask=here, other=0.0)"
                 f".to(tl.{acc})[None, :]" for slot in at_target]
    loop: List[str] = [
        "e = k0 + tl.arange(0, BLOCK_E)",
        "emask = e < end",
        "nbr = tl.load(col + e, mask=emask, other=0).to(tl.int64)",
        "eid = tl.load(perm + e, mask=emask, other=0).to(tl.int64)",
        "mask = emask[:, None] & fmask[None, :]",
    ]
    for k, kind in enumerate(spec.kinds):
        if kind != side:
            row = "eid" if kind == "edge" else "nbr"
            loop.append(f"v{k} = tl.load(in{k} + {row}[:, None] * {ints(f'rs{k}')} + "
                        f"o{k}[None, :], mask=mask, other=0.0).to(tl.{acc})")
            leaves[k] = f"v{k}"
    if side == "src":
        loop += [f"{slot}_i = tl.load({slot} + nbr[:, None] * F + f[None, :], mask=mask, "
                 f"other=0.0).to(tl.{acc})" for slot in at_target]
    code = ExprCode(loop, leaves, acc)
    msg = code.value(spec.expr)
    if name == "forward":
        loop.append("acc = " + update.format(m=msg))
    elif name == "ties":
        loop.append(f"won = mask & ({_rounded(layout, msg)} == out_i)")
        loop.append("count += tl.where(won, 1.0, 0.0)")
    else:
        seed = _root_seed(spec, layout, code, msg, "gscale_i", "out_i")
        for k, adjoint in code.adjoints(spec.expr, seed, outputs).items():
            loop.append(f"acc{k} += tl.where(mask, {adjoint}, 0.0)")
    body.append("for k0 in range(start, end, BLOCK_E):")
    body += ["    " + line for line in loop]
    if name == "forward":
        body.append(f"res = {final}")
        if spec.reduce == "mean":
            body.append(f"res = res / tl.maximum(end - start, 1).to(tl.{acc})")
        elif spec.reduce in ("max", "min"):
            body.append("res = tl.where(here, res, 0.0)")
        body.append(f"tl.store(out + node * F + f, res.to(tl.{dt}), mask=fmask)")
    elif name == "ties":
        body.append(f"g = tl.load(grad + node * F + f, mask=fmask, other=0.0).to(tl.{acc})")
        body.append("winners = tl.maximum(tl.sum(count, axis=0), 1.0)")
        body.append("tl.store(gscale + node * F + f, g / winners, mask=fmask)")
    else:
        body += [f"tl.store(g{k} + node * F + f, tl.sum(acc{k}, axis=0), mask=fmask)"
                 for k in outputs]
    params = [Param("ptr", "index"), Param("col", "index"), Param("perm", "index")]
    params += [Param(f"in{k}", "value") for k in range(len(spec.kinds))] + extras
    params += [Param(f"g{k}", "acc") for k in outputs]
    params += [Param(n, "int") for n in ints.used]
    params += [Param("BLOCK_E", "constexpr"), Param("BLOCK_F", "constexpr")]
    lines = _header(name, params) + ["    " + line for line in body]
    return Kernel(name, tuple(params), side, outputs), lines


def _edge_kernel(spec: FusedSpec, layout: Layout, name: str, pattern: Tuple[bool, ...],
                 outputs: Tuple[int, ...]) -> Tuple[Kernel, List[str]]:
    """Gradients of the edge operands ``outputs`` (all of broadcast ``pattern``).

    Pair ``p`` is (edge ``p // FK``, operand element ``o = p % FK``); the loop runs over
    the ``B`` message features that element is broadcast to (index ``r``).
    """
    acc, dt = layout.acc, layout.dtype
    ints = _Ints()
    kept = [d for d in range(layout.rank) if pattern[d]]
    spread = [d for d in range(layout.rank) if not pattern[d]]
    coords = {**_split("oo", kept, "oi", ints), **_split("rr", spread, "ri", ints)}
    fparts = [coords[d] + ("" if d == layout.rank - 1 else f" * {ints(f'fi{d}')}")
              for d in range(layout.rank)]
    body = [
        "p = tl.program_id(0).to(tl.int64) * BLOCK_P + tl.arange(0, BLOCK_P)",
        f"pmask = p < {ints('n_pairs')}",
        f"eid = p // {ints('FK')}",
        "o = p % FK",
        "src = tl.load(srcs + eid, mask=pmask, other=0).to(tl.int64)",
        "dst = tl.load(dsts + eid, mask=pmask, other=0).to(tl.int64)",
    ]
    body += [f"acc{k} = tl.full([BLOCK_P, BLOCK_R], 0.0, tl.{acc})" for k in outputs]
    loop = [
        "r = r0 + tl.arange(0, BLOCK_R)",
        f"mask = pmask[:, None] & (r < {ints('B')})[None, :]",
        "oo = o[:, None] + r[None, :] * 0",
        "rr = r[None, :] + o[:, None] * 0",
        f"f = {' + '.join(fparts)}",
    ]
    leaves: Dict[int, str] = {}
    for k, kind in enumerate(spec.kinds):
        off = _offset(k, layout.patterns[k], coords, ints, "oo * 0")
        row = {"src": "src", "dst": "dst", "edge": "eid"}[kind]
        loop.append(f"v{k} = tl.load(in{k} + {row}[:, None] * {ints(f'rs{k}')} + ({off}), "
                    f"mask=mask, other=0.0).to(tl.{acc})")
        leaves[k] = f"v{k}"
    extras = [Param("gscale", "acc")]
    loop.append(f"gscale_i = tl.load(gscale + dst[:, None] * {ints('F')} + f, mask=mask, "
                f"other=0.0)")
    if spec.reduce in ("max", "min"):
        extras.append(Param("out", "value"))
        loop.append(f"out_i = tl.load(out + dst[:, None] * F + f, mask=mask, "
                    f"other=0.0).to(tl.{acc})")
    code = ExprCode(loop, leaves, acc)
    msg = code.value(spec.expr)
    seed = _root_seed(spec, layout, code, msg, "gscale_i", "out_i")
    for k, adjoint in code.adjoints(spec.expr, seed, outputs).items():
        loop.append(f"acc{k} += tl.where(mask, {adjoint}, 0.0)")
    body.append("for r0 in range(0, B, BLOCK_R):")
    body += ["    " + line for line in loop]
    body += [f"tl.store(g{k} + p, tl.sum(acc{k}, axis=1).to(tl.{dt}), mask=pmask)"
             for k in outputs]
    params = [Param("srcs", "index"), Param("dsts", "index")]
    params += [Param(f"in{k}", "value") for k in range(len(spec.kinds))] + extras
    params += [Param(f"g{k}", "value") for k in outputs]
    params += [Param(n, "int") for n in ints.used]
    params += [Param("BLOCK_P", "constexpr"), Param("BLOCK_R", "constexpr")]
    lines = _header(name, params, ["n_pairs"]) + ["    " + line for line in body]
    return Kernel(name, tuple(params), "edge", outputs), lines


def render(spec: FusedSpec, layout: Layout) -> Module:
    """All kernels of one fused node, forward and backward, as a Python module's text."""
    if len(layout.patterns) != len(spec.kinds):
        raise ValueError(f"gfx triton: layout has {len(layout.patterns)} operand patterns "
                         f"but the spec has {len(spec.kinds)} operands")
    if layout.dtype not in ACCUMULATOR:
        raise ValueError(f"gfx triton: unsupported dtype '{layout.dtype}'; supported: "
                         f"{', '.join(ACCUMULATOR)}")
    parts = [_node_kernel(spec, layout, "forward", "dst", ())]
    if spec.reduce in ("max", "min"):
        parts.append(_node_kernel(spec, layout, "ties", "dst", ()))
    for side in ("src", "dst"):
        wanted = tuple(k for k, kind in enumerate(spec.kinds) if kind == side)
        if wanted:
            parts.append(_node_kernel(spec, layout, f"grad_{side}", side, wanted))
    for g, (pattern, wanted) in enumerate(edge_groups(spec, layout).items()):
        parts.append(_edge_kernel(spec, layout, f"grad_edge{g}", pattern, wanted))
    text = [f'"""Generated by gfx.codegen.triton_backend: {spec.describe()} '
            f'({layout.dtype}, patterns {list(map(list, layout.patterns))})."""',
            "import triton", "import triton.language as tl"]
    for _, lines in parts:
        text += lines
    return Module("\n".join(text) + "\n", tuple(kernel for kernel, _ in parts))
