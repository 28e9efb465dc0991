"""C source of fused attention nodes: an :class:`AttentionSpec` in, source text out.

:func:`render` writes one C file with three functions, each a parallel loop over the
rows of a CSR (one thread owns a row: no atomics, deterministic):

* ``gfx_attention_forward`` (rows = targets ``i``): three passes over the incoming
  edges of ``i``, the heads ``h`` in the inner loop: the score maximum ``mx[h]``, the
  sum ``sm[h]`` of ``exp(s - mx[h])``, then ``alpha = exp(s - mx[h]) / sm[h]`` and
  ``out[i, h, c] += message(alpha, ...)`` over the channels ``c``;
* ``gfx_attention_grad_dst`` (rows = targets): recomputes ``mx`` and ``sm``, then the
  coefficient gradients :math:`g_e = \\sum_c \\bar{o}_{i,h,c}\\,\\partial m_{e,h,c} /
  \\partial\\alpha_e` and :math:`d_i = \\sum_e \\alpha_e g_e`, stores ``mx``, ``sm`` and
  ``d`` (``[rows, H]`` each), and in a fourth pass adds the gradients of the ``dst``
  and ``edge`` operands, with the score gradient
  :math:`\\partial L / \\partial s_e = \\alpha_e (g_e - d_i)`;
* ``gfx_attention_grad_src`` (rows = sources ``j``, CSR by source): the same per edge,
  reading the stored ``mx``, ``sm``, ``d`` of the edge's target, for the ``src``
  operands.

Per edge and head, the score is recomputed wherever it is needed; no buffer has one
entry per edge (only the per-row arrays ``mx``, ``sm``, ``d`` of ``H`` entries, on the
stack, and the ``[rows, H]`` statistics).  Graph sizes, ``H`` and ``C`` are run-time
arguments: one build serves every graph and width.

# NOTE [cpp attention layout]
The message feature axes split into a head group (the score's axes, ``H`` entries
flattened) and a channel group (the axes ``alpha.unsqueeze(-1)`` added, ``C``
entries).  A score operand is either ``[rows, H]``-shaped or constant along the heads;
a message operand varies along the heads, the channels, both or neither
(:class:`AttentionLayout`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from gfx.codegen.cpp_render import ExpressionCode, Kernel, Rendered
from gfx.ops.fused_attention import AttentionSpec

_MATH_EXP = {"float": "expf", "double": "exp"}
_PARALLEL = "#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 32)"
_DECL = {"index": "const int64_t* restrict {name}", "value": "const {T}* restrict {name}",
         "result": "{T}* restrict {name}", "size": "int64_t {name}", "threads": "int {name}"}


@dataclass(frozen=True)
class AttentionLayout:
    """Scalar type and how each operand varies (see NOTE [cpp attention layout]).

    Args:
        ctype (str): ``"float"`` or ``"double"``.
        score (tuple): per operand, ``None`` when the score does not read it, else
            whether it varies along the heads.
        message (tuple): per operand, ``None`` when the message does not read it, else
            ``(varies along the heads, varies along the channels)``.
    """
    ctype: str
    score: Tuple[Optional[bool], ...]
    message: Tuple[Optional[Tuple[bool, bool]], ...]


class _Writer:
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


class _Renderer:
    """Writes the three kernels of one (spec, layout)."""

    def __init__(self, spec: AttentionSpec, layout: AttentionLayout):
        n = len(spec.kinds)
        if len(layout.score) != n or len(layout.message) != n:
            raise ValueError(f"cpp attention: layout describes {len(layout.score)} operands, "
                             f"spec {n}")
        self.spec, self.layout, self.T = spec, layout, layout.ctype
        self.exp = _MATH_EXP[layout.ctype]
        self.score = ExpressionCode(spec.score, layout.ctype)
        self.message = ExpressionCode(spec.message, layout.ctype)
        self.w = _Writer()
        self.kernels = {}

    # -- pieces ------------------------------------------------------------------------
    def _signature(self, name: str, extra: List[Tuple[str, str]]) -> None:
        ops = [("value", f"in{k}") for k in range(len(self.spec.kinds))]
        params = [("index", "ptr"), ("index", "col"), ("index", "eid"), *ops, *extra,
                  ("size", "rows"), ("size", "H"), ("size", "C"), ("threads", "nthreads")]
        self.kernels[name] = Kernel(name, tuple(params))
        decls = [_DECL[kind].format(T=self.T, name=pname) for kind, pname in params]
        self.w.open(f"void {name}({', '.join(decls)})")

    def _row_size(self, k: int) -> str:
        if self.layout.score[k] is not None:
            return "H" if self.layout.score[k] else "1"
        along_h, along_c = self.layout.message[k]
        return " * ".join([s for s, v in (("H", along_h), ("C", along_c)) if v]) or "1"

    def _message_offset(self, k: int) -> str:
        along_h, along_c = self.layout.message[k]
        parts = [p for p, v in (("h * C" if along_c else "h", along_h), ("c", along_c)) if v]
        return " + ".join(parts) or "0"

    def _rows(self, row: str) -> None:
        self.w.line(_PARALLEL)
        self.w.open(f"for (int64_t {row} = 0; {row} < rows; ++{row})")
        self.w.line(f"const int64_t begin = ptr[{row}], end = ptr[{row} + 1];")

    def _edges(self, other: str) -> None:
        """Open the edge loop and point ``a<k>`` at each operand's row for this edge."""
        self.w.open("for (int64_t p = begin; p < end; ++p)")
        self.w.line(f"const int64_t {other} = col[p], e = eid[p];")
        for k, kind in enumerate(self.spec.kinds):
            at = {"src": "j", "dst": "i", "edge": "e"}[kind]
            self.w.line(f"const {self.T}* restrict a{k} = in{k} + {at} * ({self._row_size(k)});")

    def _score(self) -> None:
        """``const T s`` = the score of this edge at head ``h``."""
        T = self.T
        self.w.line(f"{T} s;")
        self.w.open("")
        for k, varies in enumerate(self.layout.score):
            if varies is not None:
                self.w.line(f"const {T} v{k} = a{k}[{'h' if varies else '0'}];")
        for text in self.score.forward_lines():
            self.w.line(text)
        self.w.line(f"s = {self.score.result()};")
        self.w.close()

    def _alpha(self, mx: str, sm: str) -> None:
        """``const T v<alpha>``, the coefficient of this edge at head ``h``."""
        self._score()
        self.w.line(f"const {self.T} v{self.spec.alpha} = {self.exp}(s - {mx}) / {sm};")

    def _message_values(self) -> None:
        for k, mask in enumerate(self.layout.message):
            if mask is not None:
                self.w.line(f"const {self.T} v{k} = a{k}[{self._message_offset(k)}];")
        for text in self.message.forward_lines():
            self.w.line(text)

    def _coefficient_gradient(self) -> None:
        """``T ga`` = sum over channels of grad * d message / d alpha."""
        T = self.T
        self.w.line(f"{T} ga = ({T})0;")
        self.w.line("#pragma omp simd reduction(+:ga)")
        self.w.open("for (int64_t c = 0; c < C; ++c)")
        self._message_values()
        lines, total = self.message.adjoint(self.spec.alpha, "g[h * C + c]")
        for text in lines:
            self.w.line(text)
        self.w.line(f"ga += {total};")
        self.w.close()

    def _operand_gradients(self, kinds: Tuple[str, ...]) -> None:
        """Add this edge's contribution at head ``h`` to the operands of ``kinds``."""
        T = self.T
        for k, kind in enumerate(self.spec.kinds):
            if kind not in kinds:
                continue
            if self.layout.score[k] is not None:
                lines, total = self.score.adjoint(k, "ds")
                self.w.open("")
                for k2, varies in enumerate(self.layout.score):
                    if varies is not None:
                        self.w.line(f"const {T} v{k2} = a{k2}[{'h' if varies else '0'}];")
                for text in self.score.forward_lines() + lines:
                    self.w.line(text)
                self.w.line(f"r{k}[{'h' if self.layout.score[k] else '0'}] += {total};")
                self.w.close()
            else:
                # Distinct channels write distinct entries only when the operand varies
                # along them; then the loop is a SIMD loop.
                if self.layout.message[k][1]:
                    self.w.line("#pragma omp simd")
                self.w.open("for (int64_t c = 0; c < C; ++c)")
                self._message_values()
                lines, total = self.message.adjoint(k, "g[h * C + c]")
                for text in lines:
                    self.w.line(text)
                self.w.line(f"r{k}[{self._message_offset(k)}] += {total};")
                self.w.close()

    def _results(self, kinds: Tuple[str, ...]) -> List[Tuple[str, str]]:
        return [("result", f"grad{k}") for k, kind in enumerate(self.spec.kinds)
                if kind in kinds]

    def _result_rows(self, kinds: Tuple[str, ...]) -> None:
        for k, kind in enumerate(self.spec.kinds):
            if kind in kinds:
                at = {"src": "j", "dst": "i", "edge": "e"}[kind]
                self.w.line(f"{self.T}* restrict r{k} = grad{k} + {at} * ({self._row_size(k)});")

    def _softmax_statistics(self) -> None:
        """``mx[h]`` and ``sm[h]`` of row ``i`` (two passes over its edges)."""
        T = self.T
        self.w.line(f"{T} mx[H], sm[H];")
        self.w.line(f"for (int64_t h = 0; h < H; ++h) {{ mx[h] = -({T})INFINITY; sm[h] = ({T})0; }}")
        self._edges("j")
        self.w.open("for (int64_t h = 0; h < H; ++h)")
        self._score()
        self.w.line("mx[h] = (s > mx[h] || s != s) ? s : mx[h];")
        self.w.close()
        self.w.close()
        self._edges("j")
        self.w.open("for (int64_t h = 0; h < H; ++h)")
        self._score()
        self.w.line(f"sm[h] += {self.exp}(s - mx[h]);")
        self.w.close()
        self.w.close()

    # -- kernels -----------------------------------------------------------------------
    def forward(self) -> None:
        T = self.T
        self._signature("gfx_attention_forward", [("result", "out")])
        self._rows("i")
        self.w.line(f"{T}* restrict o = out + i * H * C;")
        self.w.line(f"for (int64_t f = 0; f < H * C; ++f) o[f] = ({T})0;")
        self.w.line("if (end == begin) continue;")
        self._softmax_statistics()
        self._edges("j")
        self.w.open("for (int64_t h = 0; h < H; ++h)")
        self._alpha("mx[h]", "sm[h]")
        self.w.line("#pragma omp simd")
        self.w.open("for (int64_t c = 0; c < C; ++c)")
        self._message_values()
        self.w.line(f"o[h * C + c] += {self.message.result()};")
        self.w.close()
        self.w.close()
        self.w.close()
        self.w.close()
        self.w.close()

    def grad_dst(self) -> None:
        T, kinds = self.T, ("dst", "edge")
        self._signature("gfx_attention_grad_dst",
                        [("value", "grad"), ("result", "stat_max"), ("result", "stat_sum"),
                         ("result", "stat_dot"), *self._results(kinds)])
        self._rows("i")
        self.w.line(f"const {T}* restrict g = grad + i * H * C;")
        self.w.line("if (end == begin) continue;")
        self._softmax_statistics()
        self.w.line(f"{T} dot[H];")
        self.w.line(f"for (int64_t h = 0; h < H; ++h) dot[h] = ({T})0;")
        self._edges("j")
        self.w.open("for (int64_t h = 0; h < H; ++h)")
        self._alpha("mx[h]", "sm[h]")
        self._coefficient_gradient()
        self.w.line(f"dot[h] += v{self.spec.alpha} * ga;")
        self.w.close()
        self.w.close()
        self.w.open("for (int64_t h = 0; h < H; ++h)")
        self.w.line("stat_max[i * H + h] = mx[h];")
        self.w.line("stat_sum[i * H + h] = sm[h];")
        self.w.line("stat_dot[i * H + h] = dot[h];")
        self.w.close()
        if any(kind in kinds for kind in self.spec.kinds):
            self._edges("j")
            self._result_rows(kinds)
            self.w.open("for (int64_t h = 0; h < H; ++h)")
            self._alpha("mx[h]", "sm[h]")
            self._coefficient_gradient()
            self.w.line(f"const {T} ds = v{self.spec.alpha} * (ga - dot[h]);")
            self._operand_gradients(kinds)
            self.w.close()
            self.w.close()
        self.w.close()
        self.w.close()

    def grad_src(self) -> None:
        T, kinds = self.T, ("src",)
        self._signature("gfx_attention_grad_src",
                        [("value", "grad"), ("value", "stat_max"), ("value", "stat_sum"),
                         ("value", "stat_dot"), *self._results(kinds)])
        self._rows("j")
        self._edges("i")
        self.w.line(f"const {T}* restrict g = grad + i * H * C;")
        self._result_rows(kinds)
        self.w.open("for (int64_t h = 0; h < H; ++h)")
        self._alpha("stat_max[i * H + h]", "stat_sum[i * H + h]")
        self._coefficient_gradient()
        self.w.line(f"const {T} ds = v{self.spec.alpha} * (ga - stat_dot[i * H + h]);")
        self._operand_gradients(kinds)
        self.w.close()
        self.w.close()
        self.w.close()
        self.w.close()

    def render(self) -> Rendered:
        self.w.line(f"/* gfx cpp attention kernels: {self.spec.describe()} */")
        self.w.line(f"/* scalar {self.T}; score {list(self.layout.score)}; "
                    f"message {list(self.layout.message)} */")
        self.w.line("#include <math.h>")
        self.w.line("#include <stdint.h>")
        self.w.line()
        self.forward()
        self.w.line()
        self.grad_dst()
        if "src" in self.spec.kinds:
            self.w.line()
            self.grad_src()
        return Rendered("\n".join(self.w.lines) + "\n", dict(self.kernels))


def render(spec: AttentionSpec, layout: AttentionLayout) -> Rendered:
    """The C source of the forward and backward kernels of ``spec`` for ``layout``."""
    if layout.ctype not in _MATH_EXP:
        raise ValueError(f"cpp attention: scalar type must be float or double, got "
                         f"{layout.ctype!r}")
    return _Renderer(spec, layout).render()
