"""The fused expression as Triton statements: values forward, adjoints in reverse.

:class:`ExprCode` turns a :class:`gfx.ops.fused.FusedSpec` expression into straight-line
Triton code over tiles of per-edge values, one statement per distinct subexpression
(identical subtrees are emitted once).  :meth:`ExprCode.adjoints` then walks the same
statements in reverse and emits, for each requested operand ``k``, the symbolic
derivative ``seed * d expr / d in_k`` (reverse mode over the expression DAG):

    adjoint(node) = sum over parents p of  adjoint(p) * d p / d node

The derivative of each op is one entry of :data:`DERIVATIVES`, written with the value of
the op itself where that is cheaper (``exp``, ``sigmoid``, ``tanh``).  Every op of
:data:`gfx.ops.fused.EXPR_OPS` has one entry in :data:`VALUES` and one in
:data:`DERIVATIVES` (see NOTE [fused expression language]).
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Tuple

# op -> Triton text of its value, from the argument variables.  sigmoid and tanh are
# written with exp (tanh(x) = 2 sigmoid(2x) - 1): triton.language has no tanh, and its
# sigmoid is a nested jit function, which the interpreter runs far more slowly.
VALUES: Dict[str, Callable[..., str]] = {
    "add": lambda a, b: f"{a} + {b}",
    "sub": lambda a, b: f"{a} - {b}",
    "mul": lambda a, b: f"{a} * {b}",
    "div": lambda a, b: f"{a} / {b}",
    "neg": lambda a: f"-{a}",
    "exp": lambda a: f"tl.exp({a})",
    "sigmoid": lambda a: f"1.0 / (1.0 + tl.exp(-{a}))",
    "tanh": lambda a: f"2.0 / (1.0 + tl.exp(-2.0 * {a})) - 1.0",
    "relu": lambda a: f"tl.maximum({a}, 0.0)",
    "leaky_relu": lambda a, slope: f"tl.where({a} > 0, {a}, {a} * {slope})",
}

# op -> (adjoint A, value v, argument variables) -> one term per argument (None: the
# argument gets no gradient, e.g. the constant slope of leaky_relu).
DERIVATIVES: Dict[str, Callable[..., Tuple]] = {
    "add": lambda A, v, a, b: (A, A),
    "sub": lambda A, v, a, b: (A, f"-{A}"),
    "mul": lambda A, v, a, b: (f"{A} * {b}", f"{A} * {a}"),
    "div": lambda A, v, a, b: (f"{A} / {b}", f"-{A} * {v} / {b}"),
    "neg": lambda A, v, a: (f"-{A}",),
    "exp": lambda A, v, a: (f"{A} * {v}",),
    "sigmoid": lambda A, v, a: (f"{A} * {v} * (1.0 - {v})",),
    "tanh": lambda A, v, a: (f"{A} * (1.0 - {v} * {v})",),
    "relu": lambda A, v, a: (f"tl.where({v} > 0, {A}, 0.0)",),
    "leaky_relu": lambda A, v, a, slope: (f"tl.where({a} > 0, {A}, {A} * {slope})", None),
}


def operands_used(expr: tuple) -> set:
    """The operand numbers ``k`` of every ``("in", k)`` leaf of ``expr``."""
    if expr[0] == "in":
        return {expr[1]}
    if expr[0] == "const":
        return set()
    return set().union(*(operands_used(a) for a in expr[1:]))


def unsupported_expression(expr: tuple) -> str:
    """Why the Triton kernels cannot evaluate ``expr`` ('' when they can)."""
    if not operands_used(expr):
        return "the expression reads no operand"
    return _non_constant_slope(expr)


def _non_constant_slope(expr: tuple) -> str:
    if expr[0] in ("in", "const"):
        return ""
    if expr[0] == "leaky_relu" and expr[2][0] != "const":
        return "leaky_relu has a slope that is not a constant"
    for arg in expr[1:]:
        reason = _non_constant_slope(arg)
        if reason:
            return reason
    return ""


class ExprCode:
    """Emits the statements of one expression into ``lines`` (a list of source lines).

    Args:
        lines (list): where statements are appended (the caller indents them).
        leaves (dict): operand number -> the variable holding its tile of values.
        acc (str): the Triton dtype name constants are created in, e.g. ``"float64"``.
    """

    def __init__(self, lines: List[str], leaves: Dict[int, str], acc: str):
        self.lines = lines
        self.leaves = leaves
        self.acc = acc
        self.names: Dict[tuple, str] = {}
        self.order: List[tuple] = []
        self.count = 0

    def _fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def emit(self, prefix: str, text: str) -> str:
        name = self._fresh(prefix)
        self.lines.append(f"{name} = {text}")
        return name

    def value(self, expr: tuple) -> str:
        """The variable holding ``expr``'s value, emitting its statements once."""
        if expr in self.names:
            return self.names[expr]
        if expr[0] == "in":
            name = self.leaves[expr[1]]
        elif expr[0] == "const":
            # tl.full keeps the constant exact in float64 (a bare literal is float32).
            name = self.emit("c", f"tl.full([], {float(expr[1])!r}, tl.{self.acc})")
        else:
            args = [self.value(a) for a in expr[1:]]
            name = self.emit("t", VALUES[expr[0]](*args))
        self.names[expr] = name
        self.order.append(expr)
        return name

    def adjoints(self, root: tuple, seed: str, wanted: Sequence[int]) -> Dict[int, str]:
        """Emit ``seed * d root / d in_k`` for each ``k`` in ``wanted`` that ``root`` reads.

        ``root`` must have been emitted with :meth:`value` first.
        """
        wanted = set(wanted)
        reaches = {e: bool(operands_used(e) & wanted) for e in self.order}
        terms: Dict[tuple, List[str]] = {root: [seed]}
        found: Dict[int, str] = {}
        for expr in reversed(self.order):
            if expr not in terms or not reaches[expr]:
                continue
            parts = terms[expr]
            adjoint = parts[0] if len(parts) == 1 else self.emit("a", " + ".join(parts))
            if expr[0] == "in":
                found[expr[1]] = adjoint
                continue
            args = expr[1:]
            rule = DERIVATIVES[expr[0]](adjoint, self.names[expr],
                                        *(self.names[a] for a in args))
            for arg, term in zip(args, rule):
                if term is not None and reaches[arg]:
                    terms.setdefault(arg, []).append(self.emit("d", term))
        return found
