"""``gfx::fused_attention``: edge scores -> segment softmax -> weighted sum, as one node.

For every edge ``e`` with ``src(e) = edge_index[src_row, e]`` and
``dst(e) = edge_index[1 - src_row, e]``:

.. math::
    s_e = \\mathrm{score}(\\text{operands at } e), \\qquad
    \\alpha_e = \\frac{\\exp(s_e - \\max_{f \\in \\mathcal{E}(i)} s_f)}
                     {\\sum_{f \\in \\mathcal{E}(i)} \\exp(s_f - \\max_{g \\in \\mathcal{E}(i)} s_g)},
    \\qquad
    \\mathbf{out}_i = \\sum_{e \\in \\mathcal{E}(i)} \\mathrm{message}(\\alpha_e,
                     \\text{operands at } e)

where :math:`\\mathcal{E}(i)` are the edges with ``dst(e) == i``; the softmax runs
elementwise over the score's feature axes (e.g. one softmax per head), and a target
with no incoming edge gets 0.  Operands are read as in :mod:`gfx.ops.fused` (``src``,
``dst``, ``edge``).  The fusion pass :mod:`gfx.passes.fusion_attention` creates the
node from GAT-style graphs; its :class:`AttentionSpec` is what every backend reads.

# NOTE [attention expressions]
``score`` and ``message`` use the expression language of :mod:`gfx.ops.fused`
(NOTE [fused expression language]).  In ``message`` the leaf ``("in", n)``, one past
the last operand, is the attention coefficient, with ``alpha_axes`` trailing axes of
size 1 appended (``alpha.unsqueeze(-1)`` in GAT, so that ``[E, H, 1]`` broadcasts
against ``x_j`` of shape ``[E, H, C]``).  The reference backend evaluates exactly these
ops; its backward recomputes them, so no backend keeps ``[E, H]`` or ``[E, H, C]``
between forward and backward.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import List, Optional, Sequence, Set

import torch
from torch import Tensor

from .fused import OPERAND_KINDS, Backend, BackendRegistry, _check_expr, _freeze, evaluate
from .gather import gather_op
from .scatter import scatter_op
from .segment_softmax import segment_softmax_op


def operand_indices(expr: tuple) -> Set[int]:
    """The operand numbers an expression reads."""
    if expr[0] == "in":
        return {expr[1]}
    if expr[0] == "const":
        return set()
    return set().union(*(operand_indices(a) for a in expr[1:]))


@dataclass(frozen=True)
class AttentionSpec:
    """The kernel description of a fused attention node.

    Args:
        kinds (tuple): ``"src"``, ``"dst"`` or ``"edge"`` for each operand.
        score (tuple): expression of the scores over operands ``0 .. n - 1``.
        message (tuple): expression of the messages; ``("in", n)`` is the attention
            coefficient (see NOTE [attention expressions]).
        alpha_axes (int): size-1 axes appended to the coefficients before the message.
    """
    kinds: tuple
    score: tuple
    message: tuple
    alpha_axes: int

    def __post_init__(self):
        for kind in self.kinds:
            if kind not in OPERAND_KINDS:
                raise ValueError(f"AttentionSpec: unknown operand kind '{kind}'")
        n = len(self.kinds)
        _check_expr(self.score, n)
        _check_expr(self.message, n + 1)
        if not operand_indices(self.score):
            raise ValueError("AttentionSpec: the score uses no operand")
        if n not in operand_indices(self.message):
            raise ValueError("AttentionSpec: the message does not use the attention "
                             f"coefficient ('in', {n})")
        if isinstance(self.alpha_axes, bool) or not isinstance(self.alpha_axes, int) or \
                self.alpha_axes < 0:
            raise ValueError(f"AttentionSpec: alpha_axes must be an int >= 0, got "
                             f"{self.alpha_axes!r}")

    @property
    def alpha(self) -> int:
        """The operand number that stands for the attention coefficient in ``message``."""
        return len(self.kinds)

    def to_string(self) -> str:
        return json.dumps({"kinds": list(self.kinds), "score": self.score,
                           "message": self.message, "alpha_axes": self.alpha_axes},
                          separators=(",", ":"))

    @staticmethod
    def parse(text: str) -> "AttentionSpec":
        raw = json.loads(text)
        return AttentionSpec(tuple(raw["kinds"]), _freeze(raw["score"]),
                             _freeze(raw["message"]), raw["alpha_axes"])

    def describe(self) -> str:
        """Readable form, e.g. ``sum_e mul(alpha, in2:src) | alpha = softmax_e(...)``."""
        def show(e):
            if e[0] == "in":
                return "alpha" if e[1] == self.alpha else f"in{e[1]}:{self.kinds[e[1]]}"
            if e[0] == "const":
                return repr(e[1])
            return f"{e[0]}({', '.join(show(a) for a in e[1:])})"
        return f"sum_e {show(self.message)} | alpha = softmax_e {show(self.score)}"


def edge_values(spec: AttentionSpec, edge_index: Tensor, operands: Sequence[Tensor],
                src_row: int, dim: int) -> List[Tensor]:
    """Every operand at every edge: the gathers the fused node replaces."""
    src, dst = edge_index[src_row], edge_index[1 - src_row]
    return [gather_op(t, src, dim) if kind == "src" else
            gather_op(t, dst, dim) if kind == "dst" else t
            for kind, t in zip(spec.kinds, operands)]


def reference_forward(spec: AttentionSpec, edge_index: Tensor, operands: Sequence[Tensor],
                      src_row: int, dim: int, softmax_dim: int, dim_size: int) -> Tensor:
    """The unfused computation (materialises the scores and the messages)."""
    dst = edge_index[1 - src_row]
    values = edge_values(spec, edge_index, operands, src_row, dim)
    score = evaluate(spec.score, values)
    alpha = segment_softmax_op(score, dst, softmax_dim, dim_size)
    for _ in range(spec.alpha_axes):
        alpha = alpha.unsqueeze(-1)
    message = evaluate(spec.message, [*values, alpha])
    return scatter_op(message, dst, dim, dim_size, "sum")


def reference_backward(spec: AttentionSpec, edge_index: Tensor, operands: Sequence[Tensor],
                       src_row: int, dim: int, softmax_dim: int, dim_size: int, out: Tensor,
                       grad: Tensor) -> List[Optional[Tensor]]:
    """Gradients of every floating operand, by recomputing the unfused forward."""
    with torch.enable_grad():
        leaves = [t.detach().requires_grad_(t.is_floating_point()) for t in operands]
        recomputed = reference_forward(spec, edge_index, leaves, src_row, dim, softmax_dim,
                                       dim_size)
        wanted = [t for t in leaves if t.requires_grad]
        grads = iter(torch.autograd.grad(recomputed, wanted, grad, allow_unused=True))
    found = [next(grads) if t.requires_grad else None for t in leaves]
    return [torch.zeros_like(t) if g is None and t.is_floating_point() else g
            for t, g in zip(leaves, found)]


# Attention backends are described like the other fused primitive's, in their own registry.
AttentionBackend = Backend
ATTENTION_BACKENDS = BackendRegistry("attention backend")
register_attention_backend = ATTENTION_BACKENDS.register
get_attention_backend = ATTENTION_BACKENDS.lookup


register_attention_backend(AttentionBackend("reference", reference_forward,
                                            reference_backward, lambda: True))


def _value_shapes(spec: AttentionSpec, edge_index: Tensor, operands: Sequence[Tensor],
                  dim: int) -> List[tuple]:
    num_edges = edge_index.shape[1]
    shapes = []
    for kind, t in zip(spec.kinds, operands):
        shape = list(t.shape)
        if kind != "edge":
            shape[dim] = num_edges
        shapes.append(tuple(shape))
    return shapes


def output_shape(spec: AttentionSpec, edge_index: Tensor, operands: Sequence[Tensor],
                 dim: int, dim_size: int) -> List[int]:
    """The message shape with the edge axis replaced by ``dim_size``."""
    shapes = _value_shapes(spec, edge_index, operands, dim)
    score = tuple(torch.broadcast_shapes(*(shapes[k] for k in operand_indices(spec.score))))
    shapes.append(score + (1,) * spec.alpha_axes)
    out = list(torch.broadcast_shapes(*(shapes[k] for k in operand_indices(spec.message))))
    out[dim] = dim_size
    return out


@torch.library.custom_op("gfx::fused_attention", mutates_args=())
def fused_attention_op(edge_index: Tensor, operands: List[Tensor], src_row: int, dim: int,
                       softmax_dim: int, dim_size: int, spec: str, backend: str) -> Tensor:
    parsed = AttentionSpec.parse(spec)
    return get_attention_backend(backend).forward(parsed, edge_index, operands, src_row, dim,
                                                  softmax_dim, dim_size)


@fused_attention_op.register_fake
def _fused_attention_fake(edge_index, operands, src_row, dim, softmax_dim, dim_size, spec,
                          backend):
    parsed = AttentionSpec.parse(spec)
    return operands[0].new_empty(output_shape(parsed, edge_index, operands, dim, dim_size))


def _setup_context(ctx, inputs, output):
    edge_index, operands, src_row, dim, softmax_dim, dim_size, spec, backend = inputs
    ctx.save_for_backward(edge_index, output, *operands)
    ctx.args = (src_row, dim, softmax_dim, dim_size)
    ctx.spec, ctx.backend = spec, backend


def _backward(ctx, grad):
    edge_index, out, *operands = ctx.saved_tensors
    grads = get_attention_backend(ctx.backend).backward(
        AttentionSpec.parse(ctx.spec), edge_index, operands, *ctx.args, out, grad)
    return None, list(grads), None, None, None, None, None, None


fused_attention_op.register_autograd(_backward, setup_context=_setup_context)
