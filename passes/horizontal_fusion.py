"""Horizontal fusion: the per-relation kernels of a heterogeneous layer become one.

After :func:`gfx.passes.to_hetero.to_hetero`, lowering and fusion, a layer holds one
``gfx::fused_message_reduce`` per relation (edge type), all with the same kernel
description.  This pass replaces each such *family* by one typed call
(:mod:`gfx.ops.fused_typed`): one kernel over the concatenated edge lists, so the cost
grows with the edges, not with the number of edge types.

Two rewrites, tried in this order (see NOTE [relation families]):

``relation_linear_sum``
    the members' results each go through their own Linear (or straight) into one sum,
    the shape of ``to_hetero(..., aggr="sum" or "mean")`` around SAGE/GraphConv-like
    layers:  ``sum_r (lin_r(m_r) + rest_r)``.  The family becomes one kernel, one
    :func:`gfx.ops.fused_typed.segment_matmul` over the (relation, node) pairs that
    have edges, and the bias sum; the other Linear terms of the same sum that read the
    same input (SAGE's root weights ``lin_r(x_dst)``) become one product with the
    summed weights (:func:`gfx.ops.fused_typed.summed_linear`).
``relation_message_reduce``
    any other family: one kernel, and each member's uses read its relation's result.

Afterwards no two ``fused_message_reduce`` nodes with the same edge role (``src_row``),
``dim``, ``dim_size`` argument, kernel description and backend are independent of each
other (neither reads the other's result), except where moving them together would
cross a node with side effects.  The results equal the unfused graph's up to the
rounding of reordered sums.  At run time, relations whose feature shapes differ get a
kernel per shape, and a family that cannot share kernels at all runs relation by
relation (:class:`gfx.ops.fused_typed.TypedFallbackWarning`).

# NOTE [relation families]
A family is a set of fused nodes with equal ``(spec, src_row, dim, dim_size, backend)``
at equal *fusion depth* (the most fused nodes on a path from the inputs), so that no
member depends on another.  A member is a *sum term* when its only user is an eligible
Linear (plain :class:`gfx.nn.Linear` or :class:`torch.nn.Linear`, materialised, no
hooks) whose only user is an addition, or when its only user is an addition itself;
the additions above it, while each is used once by the next, form a sum tree whose
root identifies the sum.  Members of one sum with alike Linears (weight shape, dtype,
bias or none) form a ``relation_linear_sum`` family; members left over (one of a kind,
other uses) form ``relation_message_reduce`` families.  Rewriting a sum is only
algebra: ``lin_r(0) = b_r`` where relation ``r`` has no edge, and sums reassociate.
"""
from __future__ import annotations

import operator
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.fx import GraphModule, Node
from torch.nn.parameter import UninitializedParameter

from gfx.ops.fused import FusedSpec
from gfx.ops.fused_typed import bias_sum, relation_linear_sum, relation_message_reduce
from gfx.passes.cleanup import eliminate_dead_code, has_side_effects
from gfx.passes.reorder import LINEAR_MODULES

_ADDS = (operator.add, torch.add)


def _is_fused(node: Node) -> bool:
    packet = torch.ops.gfx.fused_message_reduce
    return node.op == "call_function" and (
        node.target is packet or getattr(node.target, "overloadpacket", None) is packet)


def _is_add(node) -> bool:
    if not isinstance(node, Node) or node.kwargs or len(node.args) != 2:
        return False
    return (node.op == "call_function" and node.target in _ADDS) or \
        (node.op == "call_method" and node.target == "add")


def _uses(user: Node, node: Node) -> int:
    return sum(1 for a in user.args if a is node)


def _sole_user(node: Node) -> Optional[Node]:
    return next(iter(node.users)) if len(node.users) == 1 else None


def _internal(node, parent: Node) -> bool:
    """``node`` is an inner addition of the sum tree that ``parent`` belongs to."""
    return _is_add(node) and _sole_user(node) is parent and _uses(parent, node) == 1


def _root(add: Node) -> Node:
    user = _sole_user(add)
    while user is not None and _is_add(user) and _internal(add, user):
        add, user = user, _sole_user(user)
    return add


def _leaves(root: Node) -> List:
    leaves: List = []

    def walk(node: Node) -> None:
        for arg in node.args:
            if _internal(arg, node):
                walk(arg)
            else:
                leaves.append(arg)
    walk(root)
    return leaves


def _linear(gm: GraphModule, node) -> Optional[torch.nn.Module]:
    """The Linear module a ``call_module`` node runs, if the rewrite may replace it."""
    if not isinstance(node, Node) or node.op != "call_module" or len(node.args) != 1 or \
            node.kwargs or not isinstance(node.args[0], Node):
        return None
    module = gm.get_submodule(node.target)
    if type(module) not in LINEAR_MODULES or isinstance(module.weight, UninitializedParameter) \
            or module.weight.dim() != 2 or module._forward_hooks or module._forward_pre_hooks:
        return None
    return module


def _linear_kind(module: torch.nn.Module) -> tuple:
    return (tuple(module.weight.shape), module.weight.dtype, module.bias is None)


def _fusion_depths(gm: GraphModule) -> Dict[Node, int]:
    depth: Dict[Node, int] = {}
    for node in gm.graph.nodes:
        above = max((depth[n] for n in node.all_input_nodes), default=0)
        depth[node] = above + 1 if _is_fused(node) else above
    return depth


def _family_key(node: Node, depth: int) -> tuple:
    edge_index, operands, src_row, dim, dim_size, spec, backend = node.args
    return (spec, src_row, dim, dim_size, backend, len(operands), depth)


def _sum_term(gm: GraphModule, node: Node) -> Optional[Tuple[Node, Optional[tuple], Node]]:
    """``(term, linear kind or None, sum root)`` when ``node`` feeds a sum as a term."""
    user = _sole_user(node)
    kind = None
    if user is not None and _linear(gm, user) is not None and _sole_user(user) is not None:
        node, kind = user, _linear_kind(_linear(gm, user))
    adder = _sole_user(node)
    if adder is None or not _is_add(adder) or _uses(adder, node) != 1:
        return None
    return node, kind, _root(adder)


class _Rewriter:
    """Builds the typed calls of one graph; positions guard against crossing effects."""

    def __init__(self, gm: GraphModule):
        self.gm, self.graph = gm, gm.graph
        self.position = {n: i for i, n in enumerate(gm.graph.nodes)}

    def crosses_effect(self, start: Node, end: Node) -> bool:
        """A node with side effects lies strictly between ``start`` and ``end``."""
        lo, hi = self.position[start], self.position[end]
        return any(lo < i < hi and has_side_effects(n) and n.op not in ("placeholder", "output")
                   for n, i in self.position.items())

    def emit(self, target, args, anchor: Node, level: Optional[str] = "node") -> Node:
        node = self.graph.call_function(target, args)
        node.meta.update(level=level, source=anchor.meta.get("source"),
                         type=anchor.meta.get("type"))
        if target in (linear_parameters, relation_linear_sum, relation_message_reduce,
                      summed_linear):  # hand-made calls of torch.fx.wrap-ped functions
            node.meta["is_wrapped"] = True
        return node

    def get_attr(self, target: str) -> Node:
        node = self.graph.get_attr(target)
        node.meta["level"] = None
        return node

    @staticmethod
    def typed_args(members: List[Node]) -> tuple:
        _, _, src_row, dim, dim_size, spec, backend = members[0].args
        return ([m.args[0] for m in members], [list(m.args[1]) for m in members], src_row,
                dim, dim_size, spec, backend)

    def parameters(self, linears: List[Node], anchor: Node) -> Tuple[object, object]:
        """The Linears' weights and biases: one ``linear_parameters`` node reading them
        under the modules' common parent (cheaper than one attribute chain each), or
        ``get_attr`` nodes when they have none."""
        paths = [n.target.split(".") for n in linears]
        depth = 0
        while all(len(p) > depth + 1 and p[depth] == paths[0][depth] for p in paths):
            depth += 1
        if depth:
            parent = self.get_attr(".".join(paths[0][:depth]))
            found = self.emit(linear_parameters,
                              (parent, [".".join(p[depth:]) for p in paths]), anchor, None)
            return (self.emit(operator.getitem, (found, 0), anchor, None),
                    self.emit(operator.getitem, (found, 1), anchor, None))
        weights = [self.get_attr(f"{n.target}.weight") for n in linears]
        biases = [self.get_attr(f"{n.target}.bias")
                  if self.gm.get_submodule(n.target).bias is not None else None
                  for n in linears]
        return weights, biases

    # ------------------------------------------------------------------ the two rewrites
    def linear_sum(self, root: Node, families: List[List[Tuple[Node, Node, bool]]]) -> bool:
        """Rewrite the sum rooted at ``root``; families hold (fused, term, has_linear)."""
        first = min((m[0] for f in families for m in f), key=self.position.__getitem__)
        if self.crosses_effect(first, root):
            return False
        terms = {id(m[1]) for f in families for m in f}
        rest = [leaf for leaf in _leaves(root) if id(leaf) not in terms]
        new_terms: List = []
        with self.graph.inserting_before(root):
            for family in families:
                fused = [m[0] for m in family]
                weights, biases = self.parameters([m[1] for m in family], root) if family[0][2] \
                    else (None, None)
                call = self.emit(relation_linear_sum,
                                 self.typed_args(fused) + (weights, biases), root)
                call.meta["fused"] = FusedSpec.parse(fused[0].args[5])
                call.meta["relations"] = len(fused)
                new_terms.append(call)
            new_terms += self.merge_shared_inputs(rest, root)
            total = new_terms[0]
            for term in new_terms[1:] + rest:
                total = self.emit(operator.add, (total, term), root)
        root.replace_all_uses_with(total)
        self.position = {n: i for i, n in enumerate(self.graph.nodes)}
        return True

    def merge_shared_inputs(self, rest: List, root: Node) -> List[Node]:
        """Linear terms of ``rest`` that read one input become one ``summed_linear``."""
        by_input: Dict[tuple, List[Node]] = defaultdict(list)
        for leaf in rest:
            module = _linear(self.gm, leaf)
            if module is not None and _sole_user(leaf) is not None and rest.count(leaf) == 1:
                by_input[(leaf.args[0],) + _linear_kind(module)].append(leaf)
        merged = []
        for (x, *_), linears in by_input.items():
            if len(linears) < 2 or self.crosses_effect(
                    min(linears, key=self.position.__getitem__), root):
                continue
            weights, biases = self.parameters(linears, root)
            merged.append(self.emit(summed_linear, (x, weights, biases), root))
            for leaf in linears:
                rest.remove(leaf)
        return merged

    def message_reduce(self, members: List[Node]) -> bool:
        """One ``relation_message_reduce`` for ``members``; uses read its entries.

        The call goes before the members' first use; inputs of later members computed
        after that point (pure nodes only) are moved up to it.
        """
        uses = [u for m in members for u in m.users]
        if not uses:
            return False
        anchor = min(uses, key=self.position.__getitem__)
        hoisted, stack = set(), [n for m in members for n in m.all_input_nodes]
        while stack:
            node = stack.pop()
            if node not in hoisted and self.position[node] > self.position[anchor]:
                hoisted.add(node)
                stack.extend(node.all_input_nodes)
        last = max([anchor, *hoisted], key=self.position.__getitem__)
        if any(has_side_effects(n) for n in hoisted) or \
                self.crosses_effect(min(members, key=self.position.__getitem__), last):
            return False
        for node in sorted(hoisted, key=self.position.__getitem__):
            anchor.prepend(node)
        with self.graph.inserting_before(anchor):
            call = self.emit(relation_message_reduce, self.typed_args(members), members[0])
            call.meta["fused"] = FusedSpec.parse(members[0].args[5])
            call.meta["relations"] = len(members)
            for r, member in enumerate(members):
                member.replace_all_uses_with(self.emit(operator.getitem, (call, r), member))
        self.position = {n: i for i, n in enumerate(self.graph.nodes)}
        return True


# ----------------------------------------------------------------------------- run time
# Called by the graphs this pass writes (as gfx.passes._hetero_common.select_type is by
# to_hetero's); relation_linear_sum and relation_message_reduce live in gfx.ops.
def summed_linear(x: Tensor, weights: List[Tensor], biases: List[Optional[Tensor]]) -> Tensor:
    """:math:`\\sum_k (\\mathbf{x} \\mathbf{W}_k^\\top + \\mathbf{b}_k)` as one product.

    .. math::
        \\mathbf{x} \\Big(\\sum_k \\mathbf{W}_k\\Big)^\\top + \\sum_k \\mathbf{b}_k

    Args:
        x (Tensor): the shared input ``[..., in]``.
        weights (list of Tensor): ``[out, in]`` each, all alike.
        biases (list of Tensor): ``[out]`` each, or ``None`` entries.
    """
    return F.linear(x, torch.stack(list(weights)).sum(0), bias_sum(biases))


def linear_parameters(parent: torch.nn.Module, paths: List[str]
                      ) -> Tuple[List[Tensor], List[Optional[Tensor]]]:
    """The weights and biases of the Linear modules at ``paths`` below ``parent``.

    Read through the module tree's dicts: one graph node instead of one attribute chain
    (a ``get_attr`` node) per parameter, which matters with many relations.

    Args:
        parent (torch.nn.Module): the modules' common parent.
        paths (list of str): dotted paths below ``parent``.
    """
    weights, biases = [], []
    for path in paths:
        module = parent
        for name in path.split("."):
            module = module._modules[name]
        weights.append(module.weight)
        biases.append(module.bias)
    return weights, biases


# Hand-made graph nodes call these; fx's code generator must know they are leaves.
torch.fx.wrap("summed_linear")
torch.fx.wrap("linear_parameters")


def fuse_relations(gm: GraphModule) -> GraphModule:
    """Horizontal fusion of relation families (see the module docstring).

    Afterwards no two ``gfx::fused_message_reduce`` nodes with equal
    ``(spec, src_row, dim, dim_size, backend)`` are independent of each other, unless
    fusing them would move a read across a node with side effects: each such family is
    one ``relation_linear_sum`` or ``relation_message_reduce`` call.
    """
    depth = _fusion_depths(gm)
    sums: Dict[tuple, List[Tuple[Node, Node, bool]]] = defaultdict(list)
    loose: Dict[tuple, List[Node]] = defaultdict(list)
    for node in gm.graph.nodes:
        if not _is_fused(node):
            continue
        key = _family_key(node, depth[node])
        term = _sum_term(gm, node)
        if term is None:
            loose[key].append(node)
        else:
            sums[(term[2], term[1]) + key].append((node, term[0], term[1] is not None))
    by_root: Dict[Node, List[List[Tuple[Node, Node, bool]]]] = defaultdict(list)
    for key, members in sums.items():
        if len(members) >= 2:
            by_root[key[0]].append(members)
        else:
            loose[key[2:]].append(members[0][0])
    rewriter = _Rewriter(gm)
    for root, families in by_root.items():
        if not rewriter.linear_sum(root, families):
            for family in families:
                loose[_family_key(family[0][0], depth[family[0][0]])] += [m[0] for m in family]
    for members in loose.values():
        if len(members) >= 2:
            rewriter.message_reduce(sorted(members, key=rewriter.position.__getitem__))
    gm.graph.lint()
    return eliminate_dead_code(gm)


__all__ = ["fuse_relations", "summed_linear", "linear_parameters"]
