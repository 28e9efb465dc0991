"""``gfx::fused_message_reduce``: gather -> elementwise expression -> reduce, as one node.

    out[i] = reduce_{e : dst(e) == i} expr(operands evaluated at edge e)

with ``src(e) = edge_index[src_row, e]`` and ``dst(e) = edge_index[1 - src_row, e]``.
Each operand is one of

* ``src``: a node tensor read at the edge's source, ``x[src(e)]`` (an ``x_j``),
* ``dst``: a node tensor read at the edge's target, ``x[dst(e)]`` (an ``x_i``),
* ``edge``: an edge tensor read at ``e`` (edge weights, attributes, attention).

Node operands are read along axis ``dim`` (as the gathers they replace were), and all
values broadcast as in torch; the reduction runs along ``dim`` too.  The node is
created by the fusion pass (:mod:`gfx.passes.fusion`) and carries a :class:`FusedSpec`,
the kernel description every backend reads.  Backends register themselves in
:data:`BACKENDS` with :func:`register_backend`; ``reference`` (torch ops, always present)
evaluates the unfused computation, and its backward recomputes it (nothing of size
``[E, F]`` is kept between forward and backward by any backend).

# NOTE [fused expression language]
``expr`` is a nested tuple: ``("in", k)`` is operand ``k``, ``("const", v)`` a Python
number, and ``(op, *args)`` applies an entry of :data:`EXPR_OPS`.  Adding an
elementwise op to fusion is one entry there (and one in each generated backend's table).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .gather import gather_op
from .scatter import scatter_op

FUSED_REDUCTIONS = ("sum", "mean", "max", "min")
OPERAND_KINDS = ("src", "dst", "edge")

# name -> (arity, torch implementation); constants as extra args where noted.
EXPR_OPS: Dict[str, Tuple[int, Callable]] = {
    "add": (2, torch.add),
    "sub": (2, torch.sub),
    "mul": (2, torch.mul),
    "div": (2, torch.div),
    "neg": (1, torch.neg),
    "exp": (1, torch.exp),
    "sigmoid": (1, torch.sigmoid),
    "tanh": (1, torch.tanh),
    "relu": (1, torch.relu),
    "leaky_relu": (2, lambda x, slope: torch.nn.functional.leaky_relu(x, slope)),
}


@dataclass(frozen=True)
class FusedSpec:
    """The kernel description of a fused message-and-reduce node."""
    kinds: Tuple[str, ...]
    expr: tuple
    reduce: str

    def __post_init__(self):
        if self.reduce not in FUSED_REDUCTIONS:
            raise ValueError(f"FusedSpec: unknown reduce '{self.reduce}'")
        for kind in self.kinds:
            if kind not in OPERAND_KINDS:
                raise ValueError(f"FusedSpec: unknown operand kind '{kind}'")
        _check_expr(self.expr, len(self.kinds))

    def to_string(self) -> str:
        return json.dumps({"kinds": list(self.kinds), "expr": self.expr,
                           "reduce": self.reduce}, separators=(",", ":"))

    @staticmethod
    def parse(text: str) -> "FusedSpec":
        raw = json.loads(text)
        return FusedSpec(tuple(raw["kinds"]), _freeze(raw["expr"]), raw["reduce"])

    def describe(self) -> str:
        """Readable form, e.g. ``sum_j mul(in1:edge, in0:src)``."""
        def show(e):
            if e[0] == "in":
                return f"in{e[1]}:{self.kinds[e[1]]}"
            if e[0] == "const":
                return repr(e[1])
            return f"{e[0]}({', '.join(show(a) for a in e[1:])})"
        return f"{self.reduce}_e {show(self.expr)}"


def _freeze(e):
    return tuple(_freeze(a) for a in e) if isinstance(e, list) else e


def _check_expr(e, num_operands: int) -> None:
    if not isinstance(e, tuple) or not e:
        raise ValueError(f"FusedSpec: malformed expression {e!r}")
    if e[0] == "in":
        if not 0 <= e[1] < num_operands:
            raise ValueError(f"FusedSpec: operand {e[1]} out of range")
        return
    if e[0] == "const":
        if not isinstance(e[1], (int, float)):
            raise ValueError(f"FusedSpec: constant {e[1]!r} is not a number")
        return
    if e[0] not in EXPR_OPS:
        raise ValueError(f"FusedSpec: unknown op '{e[0]}'; known: {', '.join(EXPR_OPS)}")
    arity = EXPR_OPS[e[0]][0]
    if len(e) - 1 != arity:
        raise ValueError(f"FusedSpec: '{e[0]}' takes {arity} arguments, got {len(e) - 1}")
    for arg in e[1:]:
        _check_expr(arg, num_operands)


def evaluate(expr: tuple, values: Sequence[Tensor]):
    """Evaluate ``expr`` with torch ops on per-edge operand ``values``."""
    if expr[0] == "in":
        return values[expr[1]]
    if expr[0] == "const":
        return expr[1]
    return EXPR_OPS[expr[0]][1](*(evaluate(a, values) for a in expr[1:]))


def edge_values(spec: FusedSpec, edge_index: Tensor, operands: Sequence[Tensor],
                src_row: int, dim: int) -> List[Tensor]:
    src, dst = edge_index[src_row], edge_index[1 - src_row]
    picked = []
    for kind, t in zip(spec.kinds, operands):
        picked.append(gather_op(t, src, dim) if kind == "src" else
                      gather_op(t, dst, dim) if kind == "dst" else t)
    return picked


def reference_forward(spec: FusedSpec, edge_index: Tensor, operands: Sequence[Tensor],
                      src_row: int, dim: int, dim_size: int) -> Tensor:
    """The unfused computation: gather, evaluate, scatter (materialises ``[E, F]``)."""
    message = evaluate(spec.expr, edge_values(spec, edge_index, operands, src_row, dim))
    if not isinstance(message, Tensor):
        raise ValueError("gfx.fused_message_reduce: the expression uses no operand")
    return scatter_op(message, edge_index[1 - src_row], dim, dim_size, spec.reduce)


def reference_backward(spec: FusedSpec, edge_index: Tensor, operands: Sequence[Tensor],
                       src_row: int, dim: int, dim_size: int, out: Tensor, grad: Tensor
                       ) -> List[Optional[Tensor]]:
    """Gradients of every floating operand, by recomputing the unfused forward."""
    with torch.enable_grad():
        leaves = [t.detach().requires_grad_(t.is_floating_point()) for t in operands]
        recomputed = reference_forward(spec, edge_index, leaves, src_row, dim, dim_size)
        wanted = [t for t in leaves if t.requires_grad]
        grads = iter(torch.autograd.grad(recomputed, wanted, grad, allow_unused=True))
    return [next(grads) if t.requires_grad else None for t in leaves]


@dataclass(frozen=True)
class Backend:
    """How one backend runs a fused primitive; ``available()`` says whether it can here."""
    name: str
    forward: Callable
    backward: Callable
    available: Callable[[], bool]


class BackendRegistry(dict):
    """The backends of one fused primitive by name; a second one of a name is refused."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def register(self, backend: Backend) -> Backend:
        if backend.name in self:
            raise ValueError(f"gfx: a {self.what} named '{backend.name}' already exists")
        self[backend.name] = backend
        return backend

    def lookup(self, name: str) -> Backend:
        if name not in self:
            raise ValueError(f"gfx: unknown {self.what} '{name}'; registered: "
                             f"{', '.join(self)}")
        return self[name]


BACKENDS = BackendRegistry("fused-kernel backend")
register_backend = BACKENDS.register
get_backend = BACKENDS.lookup


register_backend(Backend("reference", reference_forward, reference_backward, lambda: True))


def output_shape(spec: FusedSpec, edge_index: Tensor, operands: Sequence[Tensor], dim: int,
                 dim_size: int) -> List[int]:
    """Shape of the result: the message shape with the edge axis replaced by ``dim_size``."""
    num_edges = edge_index.shape[1]
    shapes = []
    for kind, t in zip(spec.kinds, operands):
        shape = list(t.shape)
        if kind != "edge":
            shape[dim] = num_edges
        shapes.append(tuple(shape))
    out = list(torch.broadcast_shapes(*shapes))
    out[dim] = dim_size
    return out


@torch.library.custom_op("gfx::fused_message_reduce", mutates_args=())
def fused_message_reduce_op(edge_index: Tensor, operands: List[Tensor], src_row: int, dim: int,
                            dim_size: int, spec: str, backend: str) -> Tensor:
    parsed = FusedSpec.parse(spec)
    return get_backend(backend).forward(parsed, edge_index, operands, src_row, dim, dim_size)


@fused_message_reduce_op.register_fake
def _fused_fake(edge_index, operands, src_row, dim, dim_size, spec, backend):
    parsed = FusedSpec.parse(spec)
    return operands[0].new_empty(output_shape(parsed, edge_index, operands, dim, dim_size))


def _setup_context(ctx, inputs, output):
    edge_index, operands, src_row, dim, dim_size, spec, backend = inputs
    ctx.save_for_backward(edge_index, output, *operands)
    ctx.args = (src_row, dim, dim_size)
    ctx.spec, ctx.backend = spec, backend


def _backward(ctx, grad):
    edge_index, out, *operands = ctx.saved_tensors
    grads = get_backend(ctx.backend).backward(FusedSpec.parse(ctx.spec), edge_index, operands,
                                              *ctx.args, out, grad)
    return None, list(grads), None, None, None, None, None


fused_message_reduce_op.register_autograd(_backward, setup_context=_setup_context)
