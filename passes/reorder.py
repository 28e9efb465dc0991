"""Reorder: apply a linear map before a gather instead of after it.

``linear(gather(x, index, dim))`` equals ``gather(linear(x), index, dim)`` whenever the
gather's axis is not the feature (last) axis, and the right-hand side multiplies
``N`` rows instead of ``E``: usually far fewer.  After the pass, no Linear module
(``gfx.nn.Linear`` or ``torch.nn.Linear``) reads a gather along a non-last axis that has
no other user.
"""
from __future__ import annotations

import torch
from torch.fx import GraphModule, Node

from gfx.nn.dense.linear import Linear

LINEAR_MODULES = (Linear, torch.nn.Linear)


def _is_gather(node) -> bool:
    packet = torch.ops.gfx.gather
    return isinstance(node, Node) and node.op == "call_function" and (
        node.target is packet or getattr(node.target, "overloadpacket", None) is packet)


def _not_last_axis(dim) -> bool:
    # Non-negative axes other than the last, or -2 and below (gathers read rows).
    return isinstance(dim, int) and (dim <= -2 or dim == 0)


def move_linear_before_gather(gm: GraphModule) -> GraphModule:
    """Rewrite ``Linear(gather(x, i, d))`` into ``gather(Linear(x), i, d)`` (see module doc)."""
    for node in list(gm.graph.nodes):
        if node.op != "call_module" or len(node.args) != 1 or node.kwargs:
            continue
        if not isinstance(gm.get_submodule(node.target), LINEAR_MODULES):
            continue
        gather = node.args[0]
        if not _is_gather(gather) or len(gather.users) != 1 or \
                not _not_last_axis(gather.args[2]):
            continue
        x, index, dim = gather.args[:3]
        with gm.graph.inserting_before(node):
            mapped = gm.graph.call_module(node.target, (x,))
            moved = gm.graph.call_function(gather.target, (mapped, index, dim))
        mapped.meta.update(level=x.meta.get("level") if isinstance(x, Node) else None,
                           source=node.meta.get("source"))
        moved.meta.update(level=gather.meta.get("level"), source=node.meta.get("source"))
        node.replace_all_uses_with(moved)
        gm.graph.erase_node(node)
        gm.graph.erase_node(gather)
    gm.recompile()
    return gm
