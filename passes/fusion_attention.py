"""Attention fusion: scores -> segment softmax -> weighted sum becomes one node.

The pattern, declaratively (see NOTE [attention pattern]):

    root      scatter(message, edge_index[d], dim, dim_size, reduce "sum")
    message   the region of :mod:`gfx.passes.fusion` (gathers, elementwise ops, edge
              tensors, numbers), with one edge operand that is the chain
    chain     (unsqueeze(-1) | identity dropout)* applied to
    softmax   segment_softmax(score, edge_index[d], softmax_dim, num_segments)
    score     again a region of :mod:`gfx.passes.fusion` over the same edge_index

After the pass, every matching scatter has been replaced by one
``gfx::fused_attention`` node (:mod:`gfx.ops.fused_attention`) whose operands are the
node and edge tensors the gathers read; the ``[E, H]`` scores and coefficients and the
``[E, H, C]`` messages are no longer values of the graph.  The replaced nodes are
erased.  The pass runs before :func:`gfx.passes.fusion.fuse_message_reduce`, which then
fuses the reductions that did not match.

# NOTE [attention pattern]
A dropout is an identity, and may sit in the chain, when it cannot drop anything:
``F.dropout`` with ``p == 0`` or ``training=False`` (a constant in the traced graph,
which :class:`gfx.compile.CompiledModule` builds once per train/eval mode), or an
``nn.Dropout`` module with ``p == 0``.  Dropout that may drop (``p > 0`` in training
mode) keeps the graph unfused: its random mask would have to be stored per edge.  A
value of the pattern used anywhere else (``return_attention_weights=True`` returns the
coefficients) also keeps it unfused, as does a backend without an attention kernel.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch.fx import GraphModule, Node

from gfx.ops.fused_attention import ATTENTION_BACKENDS, AttentionSpec, fused_attention_op
from gfx.passes.fusion import _edge_row, _is, _Region


def _is_unsqueeze_last(node: Node) -> bool:
    if node.op == "call_method" and node.target == "unsqueeze":
        axis = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
    elif node.op == "call_function" and node.target is torch.unsqueeze:
        axis = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
    else:
        return False
    return axis == -1 and isinstance(node.args[0], Node)


def _is_identity_dropout(gm: GraphModule, node: Node) -> bool:
    """A dropout that cannot drop anything (see NOTE [attention pattern])."""
    if node.op == "call_function" and node.target is F.dropout:
        p = node.kwargs.get("p", node.args[1] if len(node.args) > 1 else 0.5)
        training = node.kwargs.get("training", node.args[2] if len(node.args) > 2 else True)
        inplace = node.kwargs.get("inplace", node.args[3] if len(node.args) > 3 else False)
        constant = isinstance(p, (int, float)) and isinstance(training, bool)
        return constant and inplace is False and (p == 0 or training is False)
    if node.op == "call_module":
        module = gm.get_submodule(node.target)
        return isinstance(module, torch.nn.Dropout) and module.p == 0
    return False


def _alpha_chain(gm: GraphModule, node: Node) -> Optional[Tuple[Node, List[Node], int]]:
    """``(softmax node, chain nodes above it, unsqueezes)`` if ``node`` is a chain."""
    chain: List[Node] = []
    axes = 0
    while not _is(node, "segment_softmax"):
        if _is_unsqueeze_last(node):
            axes += 1
        elif not _is_identity_dropout(gm, node):
            return None
        chain.append(node)
        node = node.args[0]
        if not isinstance(node, Node):
            return None
    return node, chain, axes


def _renumber(expr: tuple, alpha: int, last: int) -> tuple:
    """Operand ``alpha`` becomes ``last``; the operands after it move down by one."""
    if expr[0] == "in":
        k = expr[1]
        return ("in", last if k == alpha else k - 1 if k > alpha else k)
    if expr[0] == "const":
        return expr
    return (expr[0], *(_renumber(a, alpha, last) for a in expr[1:]))


def _erase_unused(gm: GraphModule, nodes: List[Node]) -> None:
    order = {n: k for k, n in enumerate(gm.graph.nodes)}
    for node in sorted(set(nodes), key=order.__getitem__, reverse=True):
        if not node.users:
            gm.graph.erase_node(node)


def fuse_attention_scatter(gm: GraphModule, root: Node, backend: str) -> bool:
    """Replace ``root`` (a scatter) and its attention region by one fused node, if it matches."""
    msg, index, dim, dim_size, reduce = root.args[:5]
    row = _edge_row(index)
    if reduce not in ("sum", "add") or row is None or not isinstance(msg, Node) or \
            not isinstance(dim, int):
        return False
    region = _Region(row[0], row[1], dim)
    message = region.expression(msg)
    if message is None:
        return False
    found = None
    for k, (node, kind) in enumerate(zip(region.operands, region.kinds)):
        chain = _alpha_chain(gm, node) if kind == "edge" else None
        if chain is not None:
            found = (k, *chain)
            break
    if found is None:
        return False
    alpha_operand, softmax, chain, axes = found
    score_node, softmax_index, softmax_dim = softmax.args[:3]
    softmax_row = _edge_row(softmax_index)
    if softmax_row != (region.edge_index, region.dst_row) or not isinstance(softmax_dim, int):
        return False
    message_members = set(region.inner)
    score = region.expression(score_node)
    if score is None:
        return False
    # Every intermediate value must die inside the pattern.
    members = set(region.inner) | set(chain) | {softmax}
    if any(user not in members and user is not root
           for node in region.inner for user in node.users):
        return False
    top, below = chain[0] if chain else softmax, chain[1:] + [softmax] if chain else []
    if any(user not in message_members for user in top.users):
        return False
    if any(len(node.users) != 1 for node in below):
        return False
    operands = [n for k, n in enumerate(region.operands) if k != alpha_operand]
    kinds = tuple(kd for k, kd in enumerate(region.kinds) if k != alpha_operand)
    last = len(operands)
    spec = AttentionSpec(kinds, _renumber(score, alpha_operand, last),
                         _renumber(message, alpha_operand, last), axes)
    with gm.graph.inserting_before(root):
        fused = gm.graph.call_function(
            fused_attention_op._opoverload,
            (region.edge_index, operands, 1 - region.dst_row, dim, softmax_dim, dim_size,
             spec.to_string(), backend))
    fused.meta.update({k: v for k, v in root.meta.items() if k in ("level", "source")})
    fused.meta["fused_attention"] = spec
    root.replace_all_uses_with(fused)
    _erase_unused(gm, [root, *region.inner, *chain, softmax])
    return True


def fuse_attention(backend: str):
    """The attention fusion pass for ``backend``: a function ``GraphModule -> GraphModule``.

    A backend without an attention kernel (see
    :data:`gfx.ops.fused_attention.ATTENTION_BACKENDS`) leaves the graph unchanged.
    """
    def run(gm: GraphModule) -> GraphModule:
        import gfx.codegen  # noqa: F401  registers the kernel backends' attention kernels
        if backend not in ATTENTION_BACKENDS:
            return gm
        changed = False
        for node in list(gm.graph.nodes):
            if _is(node, "scatter"):
                changed |= fuse_attention_scatter(gm, node, backend)
        if changed:
            gm.recompile()
        return gm
    run.__name__ = f"fuse_attention[{backend}]"
    return run
