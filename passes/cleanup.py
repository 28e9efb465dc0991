"""Clean-up passes: dead-code elimination and common-subexpression elimination."""
from __future__ import annotations

import operator
from typing import Dict, Tuple

import torch
from torch.fx import GraphModule, Node


def is_inplace(node: Node) -> bool:
    """An in-place method (``x.relu_()``) or function, or an ``out=`` call."""
    if node.op == "call_method":
        return node.target.endswith("_") and not node.target.endswith("__")
    if node.op == "call_function":
        name = getattr(node.target, "__name__", "")
        return name.endswith("_") and not name.endswith("__") or "out" in node.kwargs
    return False


def _is_guard(node: Node) -> bool:
    from torch.fx._symbolic_trace import _assert_is_none
    return node.op == "call_function" and node.target in (_assert_is_none, torch._assert)


def has_side_effects(node: Node) -> bool:
    """Nodes that must stay even without users: I/O, in-place updates, run-time guards
    (``concrete_args`` checks, asserts) and calls fx deems impure."""
    return (node.op in ("placeholder", "output") or is_inplace(node) or _is_guard(node)
            or node.is_impure())


def eliminate_dead_code(gm: GraphModule) -> GraphModule:
    """Remove nodes whose results are unused.

    Afterwards every node has a user, is an input or output, or has a side effect
    (in-place method/function, ``out=`` argument, or impure per fx).
    """
    for node in reversed(list(gm.graph.nodes)):
        if not node.users and not has_side_effects(node):
            gm.graph.erase_node(node)
    gm.recompile()
    return gm


def _gfx_op(target) -> bool:
    return isinstance(target, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)) and \
        str(target).startswith("gfx.")


_PURE_FUNCTIONS = {operator.getitem, getattr, operator.add, operator.sub, operator.mul,
                   operator.truediv, operator.floordiv, operator.mod, operator.neg}
_PURE_METHODS = {"size", "dim", "view", "reshape", "t", "unsqueeze", "squeeze", "flip",
                 "transpose", "permute", "expand", "expand_as", "view_as", "contiguous",
                 "to", "float", "double", "long", "int", "__getitem__", "index_select"}


def is_pure(node: Node) -> bool:
    """Deterministic and side-effect free: equal inputs give equal outputs."""
    if node.op == "call_function":
        return node.target in _PURE_FUNCTIONS or _gfx_op(node.target)
    if node.op == "call_method":
        return node.target in _PURE_METHODS
    return node.op == "get_attr"


def _key(node: Node) -> Tuple:
    def freeze(value):
        if isinstance(value, (list, tuple)):
            return (type(value).__name__,) + tuple(freeze(v) for v in value)
        if isinstance(value, dict):
            return ("dict",) + tuple(sorted((k, freeze(v)) for k, v in value.items()))
        if isinstance(value, (Node, int, float, str, bool, type(None), torch.dtype,
                              torch.device, slice)) or callable(value):
            return (type(value).__name__, value if not isinstance(value, slice) else
                    (value.start, value.stop, value.step))
        return ("id", id(value))
    return (node.op, node.target, freeze(node.args), freeze(node.kwargs))


def eliminate_common_subexpressions(gm: GraphModule) -> GraphModule:
    """Merge pure nodes with identical target and arguments.

    Afterwards no two pure nodes (see :func:`is_pure`) compute the same target from the
    same arguments; the later one's users point at the earlier one.
    """
    seen: Dict[Tuple, Node] = {}
    for node in list(gm.graph.nodes):
        if not is_pure(node):
            continue
        try:
            key = _key(node)
            hash(key)
        except TypeError:
            continue
        if key in seen:
            node.replace_all_uses_with(seen[key])
            gm.graph.erase_node(node)
        else:
            seen[key] = node
    gm.recompile()
    return gm
