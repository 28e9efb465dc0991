"""Level inference: is a value per node, per edge or per graph?

Every node of a captured or lowered graph gets ``node.meta["level"]`` in
``{"node", "edge", "graph"}``, or ``None`` for level-free constants (parameters,
buffers, Python values).  The rules, in order:

* placeholders: ``input_map[name]`` when given, else ``"edge"`` when the name mentions
  ``edge`` or ``adj``, else ``"node"``;
* ``get_attr``: ``None`` (a constant, not an error);
* a :class:`MessagePassing` module call: ``"node"``; an :class:`Aggregation` module call
  or a function registered with :func:`graph_level_function`: ``"graph"``;
* ``gfx::gather``: ``"edge"``; ``gfx::scatter``/``gfx::segment`` lower their input's
  level by one (edge -> node, node -> graph);
* anything else: the dominant level of its inputs, edge over node over graph.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, Optional

import torch
from torch.fx import GraphModule, Node
from torch.fx.node import map_arg

LEVELS = ("node", "edge", "graph")
_DOMINANCE = {"edge": 2, "node": 1, "graph": 0}
_LOWER = {"edge": "node", "node": "graph", "graph": "graph"}
GRAPH_LEVEL_FUNCTIONS: set = set()


def graph_level_function(fn: Callable) -> Callable:
    """Mark a function (e.g. ``global_mean_pool``) as producing graph-level values."""
    GRAPH_LEVEL_FUNCTIONS.add(fn)
    return fn


def placeholder_level(name: str, input_map: Optional[Dict[str, str]]) -> str:
    if input_map and name in input_map:
        level = input_map[name]
        if level not in LEVELS:
            raise ValueError(f"input_map['{name}'] = '{level}' is not a level; expected one "
                             f"of {', '.join(LEVELS)}")
        return level
    lowered = name.lower()
    return "edge" if "edge" in lowered or "adj" in lowered else "node"


def dominant(levels: Iterable[Optional[str]]) -> Optional[str]:
    known = [lv for lv in levels if lv is not None]
    return max(known, key=_DOMINANCE.__getitem__) if known else None


def input_nodes(node: Node) -> list:
    found: list = []
    map_arg((node.args, node.kwargs), lambda n: found.append(n) or n)
    return found


def _is_op(target, name: str) -> bool:
    packet = getattr(torch.ops.gfx, name)
    return target is packet or getattr(target, "overloadpacket", None) is packet


def infer_node_level(node: Node, gm: GraphModule, input_map=None) -> Optional[str]:
    from gfx.message_passing import MessagePassing
    from gfx.nn.aggr import Aggregation

    if node.op == "placeholder":
        return placeholder_level(node.target, input_map)
    if node.op == "get_attr":
        return None
    if node.op == "call_module":
        module = gm.get_submodule(node.target)
        if isinstance(module, MessagePassing):
            return "node"
        if isinstance(module, Aggregation):
            return "graph"
    if node.op == "call_function":
        if node.target in GRAPH_LEVEL_FUNCTIONS:
            return "graph"
        if _is_op(node.target, "gather"):
            return "edge"
        if _is_op(node.target, "scatter") or _is_op(node.target, "segment"):
            src = node.args[0] if node.args else node.kwargs.get("src")
            level = src.meta.get("level") if isinstance(src, Node) else None
            return _LOWER[level] if level else "node"
    return dominant(n.meta.get("level") for n in input_nodes(node))


def infer_levels(gm: GraphModule, input_map: Optional[Dict[str, str]] = None) -> GraphModule:
    """Write ``meta["level"]`` on every node of ``gm`` (in place) and return ``gm``."""
    for node in gm.graph.nodes:
        node.meta["level"] = infer_node_level(node, gm, input_map)
    return gm
