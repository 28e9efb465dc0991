"""Clean-up passes: dead-code elimination and common-subexpression elimination."""
from __future__ import annotations

import operator
from typing import Dict, Tuple

import torch
from torch.fx import GraphModule, Node


_MUTATING_FUNCTIONS = {operator.setitem, operator.iadd, operator.isub, operator.imul,
                       operator.itruediv, operator.ifloordiv, operator.imod, operator.ipow,
                       operator.iand, operator.ior, operator.ixor, operator.ilshift,
                       operator.irshift, operator.imatmul}


def is_inplace(node: Node) -> bool:
    """An in-place method (``x.relu_()``) or function, an ``out=`` or ``inplace=True``
    call, an item assignment / augmented assignment operator, or a call of a module
    built with ``inplace=True`` (``torch.nn.ReLU(inplace=True)``)."""
    if node.kwargs.get("inplace") is True:
        return True
    if node.op == "call_method":
        return node.target.endswith("_") and not node.target.endswith("__")
    if node.op == "call_function":
        if node.target in _MUTATING_FUNCTIONS:
            return True
        name = getattr(node.target, "__name__", "")
        return name.endswith("_") and not name.endswith("__") or "out" in node.kwargs
    if node.op == "call_module":
        owner = node.graph.owning_module
        try:
            module = owner.get_submodule(node.target) if owner is not None else None
        except AttributeError:
            return False
        return getattr(module, "inplace", False) is True
    return False


def _mutates(node: Node) -> bool:
    """May running ``node`` change the value of a tensor another node reads?"""
    return is_inplace(node) or (node.op == "call_function" and node.is_impure())


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

    Afterwards no two pure nodes (see :func:`is_pure`) between the same two mutations
    compute the same target from the same arguments; the later one's users point at the
    earlier one.  A node that may mutate a tensor (see :func:`_mutates`) is a barrier:
    ``a = x * 2; x.mul_(3); b = x * 2`` keeps both products, since ``b`` reads the
    updated ``x`` (and any view of it).
    """
    seen: Dict[Tuple, Node] = {}
    for node in list(gm.graph.nodes):
        if _mutates(node):
            seen.clear()
            continue
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
