"""C source for the ``cpp`` backend: a kernel description in, source text out.

:func:`render` turns a :class:`gfx.ops.fused.FusedSpec` and a :class:`Layout` (the
scalar type and which feature axes each operand varies along) into one C file that
holds every kernel of that fused node:

* ``gfx_forward``: ``out[i] = reduce_{e : dst(e) == i} expr(e)``, one target row per
  iteration of the parallel loop, its edges in CSR order, the feature loops inside the
  edge loop;
* ``gfx_ties`` (``max``/``min`` only): the incoming gradient divided by the number of
  edges that reach each row's extremum, so tied winners share it evenly;
* ``gfx_grad_<k>``: the gradient of operand ``k``, recomputing the message and its
  derivative (reverse mode over the expression tree) edge by edge.  ``src`` operands
  walk the CSR grouped by source, ``dst`` and ``edge`` operands the CSR grouped by
  target, so every thread writes only its own rows: no atomics.

The source never allocates: every buffer is a parameter, and no parameter has one
entry per (edge, feature) pair except an ``edge`` operand the caller already holds
(see NOTE [cpp feature layout]).  Nothing here knows graph sizes: they are run-time
arguments, so one build serves every graph.

# NOTE [cpp feature layout]
Every operand has its edge or node axis first and the same rank as the message; the
trailing ("feature") axes broadcast as in torch.  Axes of size 1 in the message are
dropped and neighbouring axes along which the same operands vary are merged, so
``[E, 1] * [N, F]`` has one feature axis (``edge`` constant along it) and GAT's
``[E, H, 1] * [N, H, F]`` two.  ``Layout.masks[k][a]`` says whether operand ``k``
varies along merged axis ``a``; the axis sizes ``n0, n1, ...`` are arguments.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from gfx.ops.fused import FusedSpec

SCALAR_TYPES = ("float", "double")
_MATH = {"float": {"exp": "expf", "tanh": "tanhf"}, "double": {"exp": "exp", "tanh": "tanh"}}
_PARALLEL = "#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 32)"
# Parameter kinds -> C declaration (``{T}`` is the scalar type).
_DECL = {"index": "const int64_t* restrict {name}", "value": "const {T}* restrict {name}",
         "result": "{T}* restrict {name}", "size": "int64_t {name}", "threads": "int {name}"}


@dataclass(frozen=True)
class Layout:
    """Scalar type and per-operand feature masks of one fused call (no sizes).

    Args:
        ctype (str): ``"float"`` or ``"double"``.
        masks (tuple): ``masks[k][a]`` is True when operand ``k`` varies along merged
            feature axis ``a`` (see NOTE [cpp feature layout]).
    """
    ctype: str
    masks: Tuple[Tuple[bool, ...], ...]

    @property
    def rank(self) -> int:
        return len(self.masks[0]) if self.masks else 0


def feature_layout(ctype: str, trailing: Sequence[Sequence[int]]
                   ) -> Tuple[Layout, Tuple[int, ...], Tuple[int, ...]]:
    """``(layout, merged axis sizes, message feature shape)`` of operands' trailing shapes.

    ``trailing[k]`` is operand ``k``'s shape without its first axis; all have the same
    length, and each axis is either 1 or the message's size (torch broadcasting).
    """
    if ctype not in SCALAR_TYPES:
        raise ValueError(f"cpp: scalar type must be one of {SCALAR_TYPES}, got {ctype!r}")
    shape = tuple(max(sizes) if min(sizes) != 0 else 0 for sizes in zip(*trailing))
    columns: List[Tuple[bool, ...]] = []
    sizes: List[int] = []
    for a, n in enumerate(shape):
        if n == 1:
            continue
        column = tuple(t[a] != 1 for t in trailing)
        if columns and columns[-1] == column:
            sizes[-1] *= n
        else:
            columns.append(column)
            sizes.append(n)
    masks = tuple(tuple(col[k] for col in columns) for k in range(len(trailing)))
    return Layout(ctype, masks), tuple(sizes), shape


def literal(value, ctype: str) -> str:
    """A Python number as a C constant of type ``ctype`` (inf and nan included)."""
    v = float(value)
    if math.isnan(v):
        return f"(({ctype})NAN)"
    if math.isinf(v):
        return f"(({ctype})INFINITY)" if v > 0 else f"(-({ctype})INFINITY)"
    return f"(({ctype}){v!r})"


class ExpressionCode:
    """The expression tree as C statements: values forward, adjoints in reverse.

    Nodes are numbered in post-order; node ``n``'s value is ``t<n>`` (operand ``k``'s
    value is ``v<k>``, constants are literals) and its adjoint ``d<n>``.
    """

    def __init__(self, expr: tuple, ctype: str):
        self.ctype = ctype
        self.nodes: List[tuple] = []          # (op, child ids) | ("in", k) | ("const", v)
        self.root = self._add(expr)

    def _add(self, e: tuple) -> int:
        if e[0] in ("in", "const"):
            self.nodes.append(e)
        else:
            self.nodes.append((e[0], tuple(self._add(a) for a in e[1:])))
        return len(self.nodes) - 1

    def value(self, n: int) -> str:
        node = self.nodes[n]
        if node[0] == "in":
            return f"v{node[1]}"
        if node[0] == "const":
            return literal(node[1], self.ctype)
        return f"t{n}"

    def _formula(self, op: str, args: List[str]) -> str:
        T, fn = self.ctype, _MATH[self.ctype]
        a = args[0]
        b = args[1] if len(args) > 1 else ""
        return {
            "add": f"{a} + {b}", "sub": f"{a} - {b}", "mul": f"{a} * {b}",
            "div": f"{a} / {b}", "neg": f"-{a}", "exp": f"{fn['exp']}({a})",
            "sigmoid": f"({T})1 / (({T})1 + {fn['exp']}(-{a}))",
            "tanh": f"{fn['tanh']}({a})",
            "relu": f"{a} < ({T})0 ? ({T})0 : {a}",
            "leaky_relu": f"{a} > ({T})0 ? {a} : {a} * {b}",
        }[op]

    def _partials(self, op: str, args: List[str], t: str, d: str) -> List[str]:
        """``d(node)/d(child) * d`` for each child (the slope of leaky_relu has none)."""
        T = self.ctype
        a = args[0]
        b = args[1] if len(args) > 1 else ""
        return {
            "add": [d, d], "sub": [d, f"-{d}"], "mul": [f"{d} * {b}", f"{d} * {a}"],
            "div": [f"{d} / {b}", f"-{d} * {a} / ({b} * {b})"], "neg": [f"-{d}"],
            "exp": [f"{d} * {t}"], "sigmoid": [f"{d} * (({T})1 - {t}) * {t}"],
            "tanh": [f"{d} * (({T})1 - {t} * {t})"],
            "relu": [f"{t} > ({T})0 ? {d} : ({T})0"],
            "leaky_relu": [f"{a} > ({T})0 ? {d} : {d} * {b}", ""],
        }[op]

    def forward_lines(self) -> List[str]:
        """``const T t<n> = ...;`` for every op node, children first."""
        lines = []
        for n, node in enumerate(self.nodes):
            if node[0] not in ("in", "const"):
                args = [self.value(c) for c in node[1]]
                lines.append(f"const {self.ctype} t{n} = {self._formula(node[0], args)};")
        return lines

    def result(self) -> str:
        return self.value(self.root)

    def _contains(self, n: int, k: int) -> bool:
        node = self.nodes[n]
        if node[0] == "in":
            return node[1] == k
        if node[0] == "const":
            return False
        return any(self._contains(c, k) for c in node[1])

    def adjoint(self, k: int, seed: str) -> Tuple[List[str], str]:
        """Statements and the final expression of ``d expr / d v<k>``, times ``seed``."""
        lines: List[str] = []
        terms: List[str] = []
        adjoints: Dict[int, str] = {self.root: seed}
        for n in range(len(self.nodes) - 1, -1, -1):      # parents before children
            node = self.nodes[n]
            if n not in adjoints:
                continue
            if node[0] == "in":
                terms.append(adjoints[n])
                continue
            args = [self.value(c) for c in node[1]]
            partials = self._partials(node[0], args, self.value(n), adjoints[n])
            for c, partial in zip(node[1], partials):
                if self._contains(c, k):
                    if self.nodes[c][0] == "in":
                        adjoints[c] = f"({partial})"
                    else:
                        lines.append(f"const {self.ctype} d{c} = {partial};")
                        adjoints[c] = f"d{c}"
        return lines, " + ".join(terms) if terms else f"({self.ctype})0"


class _Writer:
    """Lines of C with the current indentation."""

    def __init__(self):
        self.lines: List[str] = []
        self.depth = 0

    def line(self, text: str = "") -> None:
        self.lines.append("    " * self.depth + text if text else "")

    def open(self, text: str) -> None:
        self.line(text + " {")
        self.depth += 1

    def close(self) -> None:
        self.depth -= 1
        self.line("}")


def _offset(mask: Sequence[bool]) -> str:
    """Flat position inside one operand row for feature loop indices ``x0, x1, ...``."""
    terms = []
    for a, varies in enumerate(mask):
        if varies:
            later = [f"n{b}" for b in range(a + 1, len(mask)) if mask[b]]
            terms.append(" * ".join([f"x{a}", *later]))
    return " + ".join(terms) if terms else "0"


def _row_size(mask: Sequence[bool]) -> str:
    sizes = [f"n{a}" for a, varies in enumerate(mask) if varies]
    return " * ".join(sizes) if sizes else "1"


@dataclass(frozen=True)
class Kernel:
    """One generated C function: its name and ``(kind, name)`` parameters in order."""
    name: str
    params: Tuple[Tuple[str, str], ...]


@dataclass(frozen=True)
class Rendered:
    """A fused node's C source and the functions it defines."""
    source: str
    kernels: Dict[str, Kernel]


class _Renderer:
    """Writes the kernels of one (spec, layout) into one C file, one function at a time."""

    def __init__(self, spec: FusedSpec, layout: Layout):
        if len(layout.masks) != len(spec.kinds):
            raise ValueError(f"cpp: layout has {len(layout.masks)} operands, spec "
                             f"{len(spec.kinds)}")
        self.spec, self.layout, self.T = spec, layout, layout.ctype
        self.code = ExpressionCode(spec.expr, layout.ctype)
        self.w = _Writer()
        self.kernels: Dict[str, Kernel] = {}
        self.full = tuple(True for _ in range(layout.rank))

    def _signature(self, name: str, params: List[Tuple[str, str]]) -> None:
        self.kernels[name] = Kernel(name, tuple(params))
        decls = [_DECL[kind].format(T=self.T, name=pname) for kind, pname in params]
        self.w.open(f"void {name}({', '.join(decls)})")

    def _params(self, extra: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
        ops = [("value", f"in{k}") for k in range(len(self.spec.kinds))]
        sizes = [("size", f"n{a}") for a in range(self.layout.rank)]
        return ([("index", "ptr"), ("index", "col"), ("index", "eid"), *ops, *extra,
                 ("size", "rows"), *sizes, ("threads", "nthreads")])

    def _prologue(self) -> None:
        for k, mask in enumerate(self.layout.masks):
            self.w.line(f"const int64_t rs{k} = {_row_size(mask)};")
        self.w.line(f"const int64_t F = {_row_size(self.full)};")

    def _rows(self, by_source: bool) -> None:
        """Open the parallel loop over CSR rows (``i`` targets, or ``j`` sources)."""
        row = "j" if by_source else "i"
        self.w.line(_PARALLEL)
        self.w.open(f"for (int64_t {row} = 0; {row} < rows; ++{row})")
        self.w.line(f"const int64_t begin = ptr[{row}], end = ptr[{row} + 1];")

    def _edge_loop(self, by_source: bool) -> None:
        """Open the loop over the row's edges and point ``a<k>`` at each operand's row."""
        other = "i" if by_source else "j"
        self.w.open("for (int64_t p = begin; p < end; ++p)")
        self.w.line(f"const int64_t {other} = col[p], e = eid[p];")
        for k, kind in enumerate(self.spec.kinds):
            at = {"src": "j", "dst": "i", "edge": "e"}[kind]
            self.w.line(f"const {self.T}* restrict a{k} = in{k} + {at} * rs{k};")

    def _features(self, reduction: Optional[str] = None) -> None:
        """Open the feature loops and load every operand's value at ``x0, x1, ...``.

        The innermost loop is an OpenMP SIMD loop: its iterations touch distinct
        elements (no runtime aliasing checks).  With ``reduction``, a local of that
        name is zeroed before it and the loop sums into it.
        """
        for a in range(self.layout.rank):
            if a == self.layout.rank - 1:
                if reduction is not None:
                    self.w.line(f"{self.T} {reduction} = ({self.T})0;")
                    self.w.line(f"#pragma omp simd reduction(+:{reduction})")
                else:
                    self.w.line("#pragma omp simd")
            self.w.open(f"for (int64_t x{a} = 0; x{a} < n{a}; ++x{a})")
        self.w.line(f"const int64_t of = {_offset(self.full)};")
        for k, mask in enumerate(self.layout.masks):
            self.w.line(f"const {self.T} v{k} = a{k}[{_offset(mask)}];")
        for text in self.code.forward_lines():
            self.w.line(text)

    def _close_features(self) -> None:
        for _ in range(self.layout.rank):
            self.w.close()

    def forward(self) -> None:
        reduce, T = self.spec.reduce, self.T
        self._signature("gfx_forward", self._params([("result", "out")]))
        self._prologue()
        self._rows(by_source=False)
        self.w.line(f"{T}* restrict o = out + i * F;")
        init = {"max": f"-({T})INFINITY", "min": f"({T})INFINITY"}.get(reduce, f"({T})0")
        self.w.line(f"for (int64_t f = 0; f < F; ++f) o[f] = {init};")
        self._edge_loop(by_source=False)
        self._features()
        m = self.code.result()
        if reduce in ("sum", "mean"):
            self.w.line(f"o[of] += {m};")
        else:
            better = ">" if reduce == "max" else "<"
            # NaN wins, as in torch's amax/amin.
            self.w.line(f"const {T} m = {m};")
            self.w.line(f"o[of] = (m {better} o[of] || m != m) ? m : o[of];")
        self._close_features()
        self.w.close()
        self.w.line(f"if (end == begin) for (int64_t f = 0; f < F; ++f) o[f] = ({T})0;")
        if reduce == "mean":
            self.w.line(f"else for (int64_t f = 0; f < F; ++f) o[f] /= ({T})(end - begin);")
        self.w.close()
        self.w.close()

    def ties(self) -> None:
        T = self.T
        self._signature("gfx_ties", self._params(
            [("value", "out"), ("value", "grad"), ("result", "scaled")]))
        self._prologue()
        self._rows(by_source=False)
        self.w.line(f"{T}* restrict c = scaled + i * F;")
        self.w.line(f"const {T}* restrict o = out + i * F;")
        self.w.line(f"for (int64_t f = 0; f < F; ++f) c[f] = ({T})0;")
        self._edge_loop(by_source=False)
        self._features()
        self.w.line(f"c[of] += {self.code.result()} == o[of] ? ({T})1 : ({T})0;")
        self._close_features()
        self.w.close()
        self.w.line("for (int64_t f = 0; f < F; ++f)")
        self.w.line(f"    c[f] = grad[i * F + f] / (c[f] > ({T})1 ? c[f] : ({T})1);")
        self.w.close()
        self.w.close()

    def gradient(self, k: int) -> None:
        T, kind = self.T, self.spec.kinds[k]
        extremum = self.spec.reduce in ("max", "min")
        extra = [("value", "out")] if extremum else []
        self._signature(f"gfx_grad_{k}", self._params(
            extra + [("value", "scaled"), ("result", "result")]))
        self._prologue()
        by_source = kind == "src"
        self._rows(by_source)
        self._edge_loop(by_source)
        self.w.line(f"const {T}* restrict s = scaled + i * F;")
        if extremum:
            self.w.line(f"const {T}* restrict o = out + i * F;")
        at = {"src": "j", "dst": "i", "edge": "e"}[kind]
        self.w.line(f"{T}* restrict r = result + {at} * rs{k};")
        # An operand constant along the innermost feature axis sums that axis into one
        # value: a SIMD reduction in a local, then one store (see _features).
        mask = self.layout.masks[k]
        reduced = self.layout.rank > 0 and not mask[-1]
        self._features(reduction=f"r{k}" if reduced else None)
        seed = f"({self.code.result()} == o[of] ? s[of] : ({T})0)" if extremum else "s[of]"
        self.w.line(f"const {T} w = {seed};")
        lines, total = self.code.adjoint(k, "w")
        for text in lines:
            self.w.line(text)
        if reduced:
            self.w.line(f"r{k} += {total};")
            self.w.close()
            self.w.line(f"r[{_offset(mask)}] += r{k};")
            for _ in range(self.layout.rank - 1):
                self.w.close()
        else:
            self.w.line(f"r[{_offset(mask)}] += {total};")
            self._close_features()
        self.w.close()
        self.w.close()
        self.w.close()

    def render(self) -> Rendered:
        masks = ", ".join(f"in{k}:{kind}{list(m)}" for k, (kind, m) in
                          enumerate(zip(self.spec.kinds, self.layout.masks)))
        self.w.line(f"/* gfx cpp kernels: {self.spec.describe()} */")
        self.w.line(f"/* scalar {self.T}; feature masks {masks or '-'} */")
        self.w.line("#include <math.h>")
        self.w.line("#include <stdint.h>")
        self.w.line()
        self.forward()
        if self.spec.reduce in ("max", "min"):
            self.w.line()
            self.ties()
        for k in range(len(self.spec.kinds)):
            self.w.line()
            self.gradient(k)
        return Rendered("\n".join(self.w.lines) + "\n", dict(self.kernels))


def render(spec: FusedSpec, layout: Layout) -> Rendered:
    """The C source of every kernel of ``spec`` for operands laid out as ``layout``."""
    return _Renderer(spec, layout).render()
