"""An explicit-loop model of ``gfx::fused_message_reduce`` for kernel tests.

Written independently of :mod:`gfx.ops.fused`: its own table of elementwise ops, one
Python loop over targets and their incoming edges, reductions by ``torch.stack``.  It
is differentiable, and ``amax``/``amin`` split gradients evenly between equal values,
so autograd through it gives the expected backward of every reduction.
"""
import torch

LOOP_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "exp": torch.exp,
    "sigmoid": lambda a: 1 / (1 + torch.exp(-a)),
    "tanh": torch.tanh,
    "relu": lambda a: torch.where(a > 0, a, torch.zeros_like(a)),
    "leaky_relu": lambda a, slope: torch.where(a > 0, a, a * slope),
}
STACK_REDUCE = {"sum": lambda s: s.sum(0), "mean": lambda s: s.mean(0),
                "max": lambda s: s.amax(0), "min": lambda s: s.amin(0)}


def evaluate(expr, values):
    if expr[0] == "in":
        return values[expr[1]]
    if expr[0] == "const":
        return expr[1]
    return LOOP_OPS[expr[0]](*(evaluate(a, values) for a in expr[1:]))


def loop_forward(spec, edge_index, operands, src_row, dim_size):
    """``out[i]`` = reduce over the edges ``e`` into ``i`` of ``expr`` at ``e`` (axis 0)."""
    src, dst = edge_index[src_row].tolist(), edge_index[1 - src_row].tolist()
    shapes = [tuple(t.shape[1:]) for t in operands]
    feature = torch.broadcast_shapes(*shapes)
    rows = []
    for i in range(dim_size):
        messages = []
        for e in range(len(dst)):
            if dst[e] != i:
                continue
            at = {"src": src[e], "dst": dst[e]}
            values = [t[at[kind]] if kind in at else t[e]
                      for kind, t in zip(spec.kinds, operands)]
            messages.append(torch.broadcast_to(evaluate(spec.expr, values), feature))
        if messages:
            rows.append(STACK_REDUCE[spec.reduce](torch.stack(messages)))
        else:
            rows.append(operands[0].new_zeros(feature))
    if not rows:
        return operands[0].new_zeros((0, *feature))
    return torch.stack(rows)


def loop_gradients(spec, edge_index, operands, src_row, dim_size, grad):
    """``(out, [d <out, grad> / d operand])`` by autograd through :func:`loop_forward`."""
    leaves = [t.detach().clone().requires_grad_() for t in operands]
    out = loop_forward(spec, edge_index, leaves, src_row, dim_size)
    if not out.requires_grad:  # no edges: nothing depends on the operands
        return out.detach(), [torch.zeros_like(t) for t in leaves]
    grads = torch.autograd.grad(out, leaves, grad, allow_unused=True)
    return out.detach(), [torch.zeros_like(t) if g is None else g
                          for t, g in zip(leaves, grads)]
