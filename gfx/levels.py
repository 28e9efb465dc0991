"""Level inference: is a value per node, per edge or per graph?

Every node of a captured or lowered graph gets ``node.meta["level"]`` in
``{"node", "edge", "graph"}``, or ``None`` for level-free constants (parameters,
buffers, Python values).  The rules, in order:

* placeholders: ``input_map[name]`` when given, else from dataflow (see NOTE [input
  levels]);
* ``get_attr``: ``None`` (a constant, not an error);
* a :class:`MessagePassing` module call: ``"node"``; an :class:`Aggregation` module call
  or a function registered with :func:`graph_level_function`: ``"graph"``;
* ``gfx::gather``: ``"edge"``; ``gfx::scatter``/``gfx::segment`` lower their input's
  level by one (edge -> node, node -> graph);
* anything else: the dominant level of its inputs, edge over node over graph.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, Optional, Set

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


# NOTE [input levels]
# An input's level comes from what the graph does with it, never from its name (a user
# may call edge_index ``ei``; torch.compile renames inputs ``L_stack0_...``):
#   edge: it feeds (through any computation but shapes) the connectivity of a compiled
#         ``propagate`` / ``edge_updater`` (the ``check_edge_index`` nodes, see
#         gfx.capture), the ``edge_index[r]`` index of a ``gfx::gather``, or an argument
#         of a message passing layer whose own parameter is edge-level (``edge_index``,
#         ``edge_weight``, ``edge_attr``, ``adj_t`` in the layer's signature);
#   node: it feeds the source of a ``gfx::gather`` or another argument of such a layer.
# Edge evidence wins.  Only an input the graph gives no evidence about (it reaches no
# layer and no primitive) falls back to its name.

def _ancestors(roots: Iterable[Node]) -> Set[Node]:
    """Placeholders that ``roots`` are computed from, not counting shapes and sizes."""
    seen: Set[Node] = set()
    stack = [r for r in roots if isinstance(r, Node)]
    while stack:
        node = stack.pop()
        if node in seen or node.meta.get("gfx_metadata"):
            continue
        seen.add(node)
        stack.extend(input_nodes(node))
    return {n for n in seen if n.op == "placeholder"}


def _is_check(node: Node) -> bool:
    return node.op == "call_function" and \
        getattr(node.target, "__name__", None) == "check_edge_index"


def _layer_arguments(node: Node, gm: GraphModule):
    """``(edge-level args, other args)`` of a message passing layer call."""
    import inspect
    from gfx.message_passing import MessagePassing
    module = gm.get_submodule(node.target)
    if not isinstance(module, MessagePassing):
        return [], []
    try:
        bound = inspect.signature(module.forward).bind(*node.args, **node.kwargs)
    except TypeError:
        return [], []
    edge, other = [], []
    for name, value in bound.arguments.items():
        lowered = name.lower()
        (edge if "edge" in lowered or "adj" in lowered else other).append(value)
    return edge, other


def input_levels(gm: GraphModule) -> Dict[str, str]:
    """The level of every placeholder the graph gives evidence about (NOTE [input levels])."""
    edge_roots, node_roots = [], []
    for node in gm.graph.nodes:
        if _is_check(node):
            edge_roots.append(node.args[0])
        elif node.op == "call_function" and _is_op(node.target, "gather"):
            src, index = node.args[0], node.args[1] if len(node.args) > 1 else None
            node_roots.append(src)
            if isinstance(index, Node) and index.op == "call_function" and \
                    getattr(index.target, "__name__", "") == "getitem" and \
                    index.args[1] in (0, 1):
                edge_roots.append(index.args[0])
        elif node.op == "call_module":
            edge, other = _layer_arguments(node, gm)
            edge_roots.extend(a for a in edge if isinstance(a, Node))
            node_roots.extend(a for a in other if isinstance(a, Node))
    levels = {n.target: "node" for n in _ancestors(node_roots)}
    levels.update({n.target: "edge" for n in _ancestors(edge_roots)})
    return levels


def infer_levels(gm: GraphModule, input_map: Optional[Dict[str, str]] = None) -> GraphModule:
    """Write ``meta["level"]`` on every node of ``gm`` (in place) and return ``gm``."""
    inferred = input_levels(gm)
    for name, level in (input_map or {}).items():
        placeholder_level(name, {name: level})  # checks the level
    levels = {**inferred, **(input_map or {})}
    for node in gm.graph.nodes:
        node.meta["level"] = infer_node_level(node, gm, levels)
    return gm
