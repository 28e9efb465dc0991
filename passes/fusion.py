"""Fusion: ``gather -> elementwise* -> scatter`` becomes one ``gfx::fused_message_reduce``.

The pattern, declaratively (see NOTE [fusion pattern]):

    root      scatter(msg, edge_index[d], dim, dim_size, reduce in sum/mean/max/min)
    body      nodes of ELEMENTWISE, each used only inside the region
    leaves    gather(x, edge_index[r], dim) (same edge_index and dim) -> operand "src" (r != d)
                                                                       or "dst" (r == d)
              a tensor at edge level (meta["level"] == "edge")       -> operand "edge"
              a Python number                                         -> constant

After the pass, no ``scatter`` that matches the pattern remains; each was replaced by a
fused node whose :class:`gfx.ops.fused.FusedSpec` holds the expression, and whose
operands are the gathered node tensors and the edge tensors (never the ``[E, F]``
messages).  The fused node evaluates exactly the ops it replaced, on the same tensors
(edge operands are used as they are, node operands read along the same ``dim``), so
the rewrite needs no shapes; a kernel backend checks layouts at run time.

# NOTE [fusion pattern]
Adding an elementwise op to fusion is one entry in :data:`ELEMENTWISE` (fx target or
method name -> expression op of :data:`gfx.ops.fused.EXPR_OPS`).  Anything the matcher
does not recognise ends the region and, if it is not a valid leaf, cancels the fusion
of that scatter: the unfused graph is always correct.
"""
from __future__ import annotations

import operator
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch.fx import GraphModule, Node

from gfx.ops.fused import FUSED_REDUCTIONS, FusedSpec, fused_message_reduce_op

# fx target (function) or call_method name -> (expression op, constant extra args)
ELEMENTWISE: Dict[object, str] = {
    operator.add: "add", torch.add: "add", "add": "add",
    operator.sub: "sub", torch.sub: "sub", "sub": "sub",
    operator.mul: "mul", torch.mul: "mul", "mul": "mul",
    operator.truediv: "div", torch.div: "div", "div": "div",
    operator.neg: "neg", torch.neg: "neg", "neg": "neg",
    torch.exp: "exp", "exp": "exp",
    torch.sigmoid: "sigmoid", "sigmoid": "sigmoid",
    torch.tanh: "tanh", "tanh": "tanh",
    torch.relu: "relu", F.relu: "relu", "relu": "relu",
    F.leaky_relu: "leaky_relu",
}
_ALLOWED_KWARGS = {"inplace": False}


def _is(node, name: str) -> bool:
    packet = getattr(torch.ops.gfx, name)
    return isinstance(node, Node) and node.op == "call_function" and (
        node.target is packet or getattr(node.target, "overloadpacket", None) is packet)


def _edge_row(index: Node) -> Optional[Tuple[Node, int]]:
    """``edge_index[r]`` -> ``(edge_index node, r)``."""
    if isinstance(index, Node) and index.op == "call_function" and \
            index.target is operator.getitem and index.args[1] in (0, 1) and \
            isinstance(index.args[0], Node):
        return index.args[0], index.args[1]
    return None


def _expr_op(node: Node) -> Optional[Tuple[str, tuple]]:
    """The expression op of an elementwise node and its tensor/number arguments."""
    key = node.target if node.op == "call_function" else \
        node.target if node.op == "call_method" else None
    if key is None or key not in ELEMENTWISE:
        return None
    name = ELEMENTWISE[key]
    kwargs = dict(node.kwargs)
    if name == "leaky_relu":
        slope = kwargs.pop("negative_slope", node.args[1] if len(node.args) > 1 else 0.01)
        args = (node.args[0], slope)
    else:
        args = tuple(node.args)
    if any(k not in _ALLOWED_KWARGS or v != _ALLOWED_KWARGS[k] for k, v in kwargs.items()):
        return None
    return name, args


class _Region:
    """The nodes and operands collected while matching one scatter."""

    def __init__(self, edge_index: Node, dst_row: int, dim):
        self.edge_index, self.dst_row, self.dim = edge_index, dst_row, dim
        self.inner: List[Node] = []
        self.operands: List[Node] = []
        self.kinds: List[str] = []
        self.failure: Optional[Tuple[Node, str]] = None  # the first leaf that did not fit

    def fail(self, node: Node, why: str) -> None:
        if self.failure is None:
            self.failure = (node, why)

    def operand(self, node: Node, kind: str) -> tuple:
        for k, (n, kd) in enumerate(zip(self.operands, self.kinds)):
            if n is node and kd == kind:
                return ("in", k)
        self.operands.append(node)
        self.kinds.append(kind)
        return ("in", len(self.operands) - 1)

    def expression(self, value) -> Optional[tuple]:
        if isinstance(value, bool) or not isinstance(value, (int, float, Node)):
            return None
        if not isinstance(value, Node):
            return ("const", value)
        if _is(value, "gather"):
            src, index, dim = value.args[:3]
            row = _edge_row(index)
            if row is None or row[0] is not self.edge_index or dim != self.dim:
                self.fail(value, "it gathers along another edge_index or dim than the "
                                 "scatter's")
                return None
            self.inner.append(value)
            return self.operand(src, "dst" if row[1] == self.dst_row else "src")
        op = _expr_op(value)
        if op is not None:
            name, args = op
            parts = [self.expression(a) for a in args]
            if any(p is None for p in parts):
                return None
            self.inner.append(value)
            return (name, *parts)
        target = getattr(value.target, "__name__", value.target)
        if value.meta.get("level") == "edge":
            if any(_is(n, "gather") for n in value.all_input_nodes):
                self.fail(value, f"'{value.name}' ({value.op} {target}) is not an "
                                 f"elementwise op the kernels know")
            return self.operand(value, "edge")
        self.fail(value, f"'{value.name}' ({value.op} {target}) is neither an elementwise "
                         f"op the kernels know nor an edge-level value (level "
                         f"{value.meta.get('level')!r})")
        return None


def _unfused(gm: GraphModule, root: Node, why: str) -> bool:
    """Record why ``root`` stays unfused in ``gm.meta["unfused"]``; returns False."""
    gm.meta.setdefault("unfused", []).append((root.name, root.meta.get("source"), why))
    return False


def fuse_scatter(gm: GraphModule, root: Node, backend: str) -> bool:
    """Replace ``root`` (a scatter) and its message region by one fused node, if it matches.

    A scatter whose message reads node features (a gather) but cannot fuse is recorded
    with the reason in ``gm.meta["unfused"]`` (``gfx.compile`` warns about each).
    """
    msg, index, dim, dim_size, reduce = root.args[:5]
    row = _edge_row(index)
    if reduce not in FUSED_REDUCTIONS or row is None or not isinstance(msg, Node) or \
            not isinstance(dim, int):
        return False
    region = _Region(row[0], row[1], dim)
    expr = region.expression(msg)
    gathers = any(_is(n, "gather") for n in region.inner)
    if expr is None:
        if gathers or (region.failure and region.failure[0].meta.get("level") == "node"):
            return _unfused(gm, root, region.failure[1] if region.failure else "no match")
        return False
    if not any(k != "edge" for k in region.kinds):
        if region.failure is not None:
            return _unfused(gm, root, region.failure[1])
        return False
    members = set(region.inner)
    outside = [node for node in region.inner for user in node.users
               if user not in members and user is not root]
    if outside:
        return _unfused(gm, root, f"the message value '{outside[0].name}' is also used "
                                  f"outside the message")
    spec = FusedSpec(tuple(region.kinds), expr, reduce)
    with gm.graph.inserting_before(root):
        fused = gm.graph.call_function(
            fused_message_reduce_op._opoverload,
            (region.edge_index, list(region.operands), 1 - region.dst_row, dim, dim_size,
             spec.to_string(), backend))
    fused.meta.update({k: v for k, v in root.meta.items() if k in ("level", "source")})
    fused.meta["fused"] = spec
    root.replace_all_uses_with(fused)
    return True


def fuse_message_reduce(backend: str):
    """The fusion pass for ``backend``: a function ``GraphModule -> GraphModule``."""
    def run(gm: GraphModule) -> GraphModule:
        for node in list(gm.graph.nodes):
            if _is(node, "scatter"):
                fuse_scatter(gm, node, backend)
        gm.recompile()
        return gm
    run.__name__ = f"fuse_message_reduce[{backend}]"
    return run
