"""Lowering: inline every message passing layer into gfx primitives.

After :func:`lower`, a graph contains no :class:`MessagePassing` or :class:`Aggregation`
``call_module`` nodes.  Each layer call became what its ``propagate`` does: one
``torch.ops.gfx.gather`` per ``_i``/``_j`` argument, the user's ``message`` body as
ordinary torch ops on edge-level values, the reduction as ``torch.ops.gfx.scatter`` /
``segment`` / ``segment_softmax`` (the aggregation module's own code), then ``update``.
Nothing is special-cased by class: lowering *is* tracing the layer's Python with fx, so
a user subclass lowers exactly like a catalogue layer, hooks and explain masks included
(they run while tracing and are recorded if traceable; a hook that is not traceable is
refused with a :class:`gfx.capture.CaptureError` naming its line).

Dense layers (:class:`gfx.nn.Linear`, ``torch.nn`` modules) stay ``call_module`` nodes.
"""
from __future__ import annotations

import re
from collections import defaultdict, deque
from typing import Deque, Dict, Optional

import torch
from torch.fx import GraphModule

from gfx.capture import CaptureTracer, capture, trace
from gfx.levels import infer_levels


class LoweringTracer(CaptureTracer):
    """Traces through message passing layers; nodes they create inherit the layer's source."""

    def __init__(self, root: GraphModule, sources: Dict[str, Deque[Optional[str]]]):
        from gfx.nn.dense import Linear
        super().__init__((Linear,))
        self._sources = sources
        self._layer_source: list = []
        # Generated-code line -> captured node, for nodes traced from the root's own code.
        nodes = list(root.graph.nodes)
        def_line = next(i for i, line in enumerate(root.code.splitlines(), start=1)
                        if line.startswith("def forward"))
        self._line_source = {def_line + k: nodes[v].meta.get("source")
                             for k, v in (getattr(root, "_lineno_map", None) or {}).items()
                             if v < len(nodes)}

    def call_module(self, m, forward, args, kwargs):
        queue = self._sources.get(self.path_of_module(m))
        if queue:
            source = queue.popleft()
        else:  # a module inside a layer (e.g. its aggregation): the layer's call line
            source = self._layer_source[-1] if self._layer_source else None
        self._layer_source.append(source)
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self._layer_source.pop()

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        if node.meta.get("source") is None:
            if self._layer_source:
                node.meta["source"] = self._layer_source[-1]
            elif node.stack_trace:
                match = _GENERATED_LINE.search(node.stack_trace)
                if match:
                    node.meta["source"] = self._line_source.get(int(match.group(1)))
        return node


_GENERATED_LINE = re.compile(r'File "<eval_with_key>[^"]*", line (\d+)')


def lower(gm: torch.nn.Module, input_map: Optional[Dict[str, str]] = None) -> GraphModule:
    """Inline every message passing layer of ``gm`` into primitives.

    Args:
        gm (torch.nn.Module): a graph from :func:`gfx.capture` (a plain module is
            captured first).
        input_map (dict, optional): levels of the inputs; taken from the capture when
            omitted. (default: ``None``)
    """
    if not isinstance(gm, GraphModule) or "input_map" not in getattr(gm, "meta", {}):
        gm = capture(gm, input_map)
    input_map = input_map if input_map is not None else gm.meta.get("input_map", {})
    guards = _strip_none_guards(gm)
    sources: Dict[str, Deque[Optional[str]]] = defaultdict(deque)
    for node in gm.graph.nodes:
        if node.op == "call_module":
            sources[node.target].append(node.meta.get("source"))
    lowered = trace(gm, LoweringTracer(gm, sources), None, f"{type(gm).__name__} (lowering)")
    lowered.meta = {"input_map": dict(input_map),
                    "concrete_args": dict(gm.meta.get("concrete_args", {}))}
    _restore_none_guards(gm, lowered, guards)
    return infer_levels(lowered, input_map)


# NOTE [none guards]
# Capturing with an argument fixed to None (see gfx.capture) records a run-time guard
# ``_assert_is_none(arg, msg)``.  fx cannot re-trace a GraphModule containing that guard
# (its wrapped-function patching fails), so lowering traces a copy without the guards
# and puts them back on the matching placeholders of the lowered graph.

def _strip_none_guards(gm: GraphModule) -> Dict[str, tuple]:
    from torch.fx._symbolic_trace import _assert_is_none
    guards = {}
    for node in list(gm.graph.nodes):
        if node.op == "call_function" and node.target is _assert_is_none:
            guards[node.args[0].target] = node.args[1:]
            gm.graph.erase_node(node)
    if guards:
        gm.recompile()
    return guards


def _restore_none_guards(original: GraphModule, lowered: GraphModule,
                         guards: Dict[str, tuple]) -> None:
    from torch.fx._symbolic_trace import _assert_is_none
    if not guards:
        return
    for graph_module in (original, lowered):
        for node in list(graph_module.graph.nodes):
            if node.op == "placeholder" and node.target in guards:
                with graph_module.graph.inserting_after(node):
                    guard = graph_module.graph.call_function(
                        _assert_is_none, (node, *guards[node.target]))
                guard.meta["level"] = None
        graph_module.recompile()
