"""``to_hetero``: turn a homogeneous GNN into one with a copy of each layer per type.

After the pass, with metadata ``(node_types, edge_types)``:

* every node-level input ``x`` is a dict ``{node_type: tensor}`` and every edge-level
  input a dict ``{edge_type: tensor}``; the graph reads each entry once
  (:func:`select_type`, an error naming the type when an entry is missing);
* every :class:`MessagePassing` call became one call per edge type ``(src, rel, dst)``
  to its own copy (``conv.<key>``, see NOTE [type keys]), receiving ``x[src]`` when
  ``src == dst`` and the pair ``(x[src], x[dst])`` otherwise; the outputs that reach one
  node type are combined with ``aggr``;
* every other module called on node-level (edge-level) values became one copy per node
  (edge) type; modules on graph-level values are shared; global pooling runs per node
  type and its results are combined with ``aggr``;
* functions and methods on per-type values run once per type;
* outputs are dicts keyed by type; every created node has ``meta["type"]``.

.. math::
    \\mathbf{h}_v^{(\\ell)} = \\bigoplus_{r = (s, \\cdot, t(v))}
    f_\\theta^{(\\ell, r)}\\left(\\mathbf{h}^{(\\ell - 1)}_v,
    \\{\\mathbf{h}^{(\\ell - 1)}_w : w \\in \\mathcal{N}^{(r)}(v)\\}\\right)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Set, Tuple

import torch
from torch.fx import GraphModule, Node
from torch.fx.node import map_aggregate

from gfx.levels import GRAPH_LEVEL_FUNCTIONS

from ._hetero_common import (EdgeType, HeteroTransformer, Metadata, TypeName, adds_self_loops,
                             fresh_copies, mark_wrapped, select_type)

AGGRS = ("sum", "mean", "max", "min", "mul")
_COMBINE = {"sum": torch.add, "mean": torch.add, "max": torch.maximum,
            "min": torch.minimum, "mul": torch.mul}


@dataclass
class PerType:
    """The per-type nodes standing for one node of the homogeneous graph."""

    level: str  # "node" or "edge"
    nodes: Dict[TypeName, Node]


class ToHeteroTransformer(HeteroTransformer):
    """The pass behind :func:`to_hetero` (see the module docstring for what holds after).

    Args:
        module (torch.nn.Module): the homogeneous model.
        metadata (tuple): ``(node_types, edge_types)``.
        aggr (str, optional): how outputs reaching one type are combined.
            (default: ``"sum"``)
        input_map (dict, optional): level of each ``forward`` argument.
            (default: ``None``)
        debug (bool, optional): print the graph before and after. (default: ``False``)
        drop_unreached (bool, optional): drop node types that a layer sends no messages
            to from that layer's output on, instead of raising. (default: ``False``)
    """

    owner = "to_hetero"

    def __init__(self, module: torch.nn.Module, metadata: Metadata, aggr: str = "sum",
                 input_map: Optional[Dict[str, str]] = None, debug: bool = False,
                 drop_unreached: bool = False):
        super().__init__(module, metadata, input_map, debug)
        if aggr not in AGGRS:
            raise ValueError(f"to_hetero: unknown aggr '{aggr}'; expected one of "
                             f"{', '.join(AGGRS)}")
        self.aggr = aggr
        self.drop_unreached = drop_unreached
        self.values: Dict[Node, PerType] = {}
        self.copy_level: Dict[str, str] = {}  # module -> the level of its per-type copies
        self.shared: Set[str] = set()  # modules also called on graph-level values

    # ------------------------------------------------------------------ helpers
    def types_of(self, level: str) -> List[TypeName]:
        return list(self.node_types) if level == "node" else list(self.edge_types)

    def per_type(self, value: Any, type_name: TypeName) -> Any:
        """``value`` with every per-type node replaced by its node for ``type_name``."""
        return map_aggregate(value, lambda v: self.values[v].nodes[type_name]
                             if isinstance(v, Node) and v in self.values else v)

    def typed_inputs(self, node: Node) -> List[PerType]:
        return [self.values[n] for n in node.all_input_nodes if n in self.values]

    def record_copy(self, node: Node, level: str) -> None:
        """Remember that the module called by ``node`` is copied per ``level`` type."""
        known = self.copy_level.setdefault(node.target, level)
        if known != level:
            raise ValueError(
                f"to_hetero: module '{node.target}' is called on {known}-level and on "
                f"{level}-level values ({self.where(node)}); it would need one copy per "
                f"node type and one per edge type. Use a separate module for each")

    def common_types(self, node: Node, inputs: List[PerType]) -> Tuple[str, List[TypeName]]:
        """The level of ``node``'s per-type inputs and the types all of them have."""
        levels = {value.level for value in inputs}
        if len(levels) > 1:
            raise ValueError(
                f"to_hetero: {self.where(node)} combines node-level and edge-level values "
                f"outside a MessagePassing layer, so the node type belonging to each edge "
                f"type is ambiguous; do this inside a MessagePassing layer (message())")
        level = levels.pop()
        types = [t for t in self.types_of(level) if all(t in v.nodes for v in inputs)]
        return level, types

    def combine(self, anchor: Node, outputs: List[Node], type_name: Optional[TypeName],
                level: str, name: str) -> Node:
        """Combine the outputs that reach one type with ``self.aggr``."""
        result = outputs[0]
        for other in outputs[1:]:
            result = self.emit(anchor, "call_function", _COMBINE[self.aggr], (result, other),
                               None, level, type_name, name)
        if self.aggr == "mean" and len(outputs) > 1:
            result = self.emit(anchor, "call_function", torch.div, (result, len(outputs)),
                               None, level, type_name, name)
        return result

    # ------------------------------------------------------------------ per-node hooks
    def placeholder(self, node: Node, target: Any, name: str) -> None:
        if node.meta.get("level") not in ("node", "edge") or self.is_fixed_to_none(node):
            return
        level = node.meta["level"]
        anchor = self.first_body_node()
        nodes = {}
        for type_name in self.types_of(level):
            lookup = self.emit(anchor, "call_function", select_type,
                               (node, type_name, target), None, level, type_name,
                               f"{name}__{self.type_key(type_name)}")
            nodes[type_name] = mark_wrapped(lookup)
        self.values[node] = PerType(level, nodes)

    def call_function(self, node: Node, target: Any, name: str) -> None:
        inputs = self.typed_inputs(node)
        if not inputs:
            return
        if target in GRAPH_LEVEL_FUNCTIONS or node.meta.get("level") == "graph":
            self.pool(node, node.op, lambda _: target)  # a readout, e.g. a scatter by batch
            return
        level, types = self.common_types(node, inputs)
        if node.meta.get("level") != level:
            raise ValueError(
                f"to_hetero: {self.where(node)} turns {level}-level values into "
                f"{node.meta.get('level')}-level ones outside a MessagePassing layer, so "
                f"the type of its result is ambiguous; do this inside a MessagePassing layer")
        nodes = {}
        for type_name in types:
            nodes[type_name] = self.emit(node, node.op, target, self.per_type(node.args, type_name),
                                         self.per_type(node.kwargs, type_name), level, type_name,
                                         f"{name}__{self.type_key(type_name)}")
        self.values[node] = PerType(level, nodes)

    call_method = call_function

    def call_module(self, node: Node, target: Any, name: str) -> None:
        inputs = self.typed_inputs(node)
        if not inputs:
            self.shared.add(target)
            return
        level, types = self.common_types(node, inputs)
        self.record_copy(node, level)
        nodes = {}
        for type_name in types:
            key = self.type_key(type_name)
            nodes[type_name] = self.emit(node, "call_module", f"{target}.{key}",
                                         self.per_type(node.args, type_name),
                                         self.per_type(node.kwargs, type_name), level, type_name,
                                         f"{name}__{key}")
        self.values[node] = PerType(level, nodes)

    def call_global_pooling_module(self, node: Node, target: Any, name: str) -> None:
        if not self.typed_inputs(node):
            self.shared.add(target)
            return
        self.record_copy(node, "node")
        self.pool(node, "call_module", lambda t: f"{target}.{self.type_key(t)}")

    def pool(self, node: Node, op: str, target_of) -> None:
        """Run a graph-level readout per node type and combine the results with ``aggr``."""
        level, types = self.common_types(node, self.typed_inputs(node))
        if level != "node":
            raise ValueError(f"to_hetero: graph-level readout {self.where(node)} is applied to "
                             f"edge-level values; only node-level values can be pooled")
        outputs = [self.emit(node, op, target_of(t), self.per_type(node.args, t),
                             self.per_type(node.kwargs, t), "graph", t,
                             f"{node.name}__{self.type_key(t)}") for t in types]
        combined = self.combine(node, outputs, None, "graph", f"{node.name}__{self.aggr}")
        node.replace_all_uses_with(combined)

    def call_message_passing_module(self, node: Node, target: Any, name: str) -> None:
        module = self.gm.get_submodule(target)
        self.record_copy(node, "edge")
        reverse = getattr(module, "flow", "source_to_target") == "target_to_source"
        reached: Dict[str, List[Node]] = {}
        for edge_type in self.edge_types:
            src, _, dst = edge_type
            if src != dst and adds_self_loops(module):
                raise ValueError(
                    f"to_hetero: '{target}' ({type(module).__name__}) adds self-loops, but "
                    f"edge type {edge_type} joins two different node types, where a node "
                    f"has no loop to itself; construct the layer with add_self_loops=False")
            args = self.relation_args(node, node.args, edge_type)
            kwargs = self.relation_args(node, node.kwargs, edge_type)
            if args is None or kwargs is None:  # an input was dropped for this relation
                continue
            key = self.type_key(edge_type)
            out_type = src if reverse else dst
            reached.setdefault(out_type, []).append(self.emit(
                node, "call_module", f"{target}.{key}", args, kwargs, "node", out_type,
                f"{name}__{key}"))
        unreached = [t for t in self.node_types if t not in reached]
        if unreached and not self.drop_unreached:
            end = "starts" if reverse else "ends"
            raise ValueError(
                f"to_hetero: node type(s) {', '.join(map(repr, unreached))} receive no "
                f"messages in layer '{target}' ({type(module).__name__}{self.at(node)}): no "
                f"edge type in the metadata {end} at them, so the layer has no output for "
                f"them. Add edge types that reach them (e.g. reverse edges) or pass "
                f"drop_unreached=True to drop them from this layer's output on")
        self.values[node] = PerType("node", {
            t: self.combine(node, reached[t], t, "node", f"{name}__{self.type_key(t)}")
            for t in self.node_types if t in reached})

    def relation_args(self, node: Node, value: Any, edge_type: EdgeType) -> Any:
        """The arguments of a layer's copy for ``edge_type``; ``None`` if one is missing.

        A node-level argument becomes ``x[src]`` (``src == dst``) or the pair
        ``(x[src], x[dst])``; inside a pair given by the model, its first entry is
        taken from ``src`` and its second from ``dst``.  Edge-level values become
        ``value[edge_type]``.
        """
        src, _, dst = edge_type

        def side(v: Node, type_name: TypeName) -> Node:
            nodes = self.values[v].nodes
            if type_name not in nodes:
                raise LookupError
            return nodes[type_name]

        def convert(v: Any, position: str) -> Any:
            if isinstance(v, Node) and v in self.values:
                if self.values[v].level == "edge":
                    return side(v, edge_type)
                if position == "source":
                    return side(v, src)
                if position == "target":
                    return side(v, dst)
                if position == "nested":
                    raise ValueError(
                        f"to_hetero: {self.where(node)} passes node-level values nested in "
                        f"a container to a MessagePassing layer; pass them as an argument or "
                        f"as a (source, target) pair")
                return side(v, src) if src == dst else (side(v, src), side(v, dst))
            if isinstance(v, (tuple, list)):
                pair = position == "argument" and len(v) == 2
                return type(v)(convert(item, ("source", "target")[k] if pair else "nested")
                               for k, item in enumerate(v))
            if isinstance(v, dict):
                return {k: convert(item, "nested") for k, item in v.items()}
            return v

        try:
            if isinstance(value, dict):
                return {k: convert(v, "argument") for k, v in value.items()}
            return tuple(convert(v, "argument") for v in value)
        except LookupError:
            return None

    def output(self, node: Node, target: Any, name: str) -> None:
        def to_dict(v: Any) -> Any:
            if isinstance(v, Node) and v in self.values:
                return dict(self.values[v].nodes)
            return v
        node.args = map_aggregate(node.args, to_dict)

    # ------------------------------------------------------------------ modules
    def init_submodule(self, module: torch.nn.Module, target: str) -> torch.nn.Module:
        level = self.copy_level.get(target)
        if level is None:
            return module
        if target in self.shared:
            raise ValueError(
                f"to_hetero: module '{target}' is called on {level}-level values, which "
                f"need one copy per {level} type, and on graph-level values, which need "
                f"one shared module; use a separate module for each")
        types = self.types_of(level)
        copies = fresh_copies(module, target, len(types), self.owner,
                              f"once per {level} type")
        return torch.nn.ModuleDict({self.type_key(t): c for t, c in zip(types, copies)})


def to_hetero(module: torch.nn.Module, metadata: Metadata, aggr: str = "sum",
              input_map: Optional[Dict[str, str]] = None, debug: bool = False, *,
              drop_unreached: bool = False) -> GraphModule:
    """Convert a homogeneous GNN into its heterogeneous counterpart.

    Every :class:`MessagePassing` layer :math:`f^{(\\ell)}` gets one independently
    initialised copy :math:`f^{(\\ell, r)}` per edge type :math:`r`, and the outputs
    that reach a node type are combined with :math:`\\bigoplus` (``aggr``):

    .. math::
        \\mathbf{h}_v^{(\\ell)} = \\bigoplus_{r \\in \\mathcal{R}(v)}
        f^{(\\ell, r)}\\left(\\mathbf{h}^{(\\ell - 1)}_v,
        \\{\\mathbf{h}^{(\\ell - 1)}_w : w \\in \\mathcal{N}^{(r)}(v)\\}\\right)

    Other modules are copied per node type (on node-level values) or per edge type (on
    edge-level values), graph-level ones are shared, and global pooling runs per node
    type and is combined with ``aggr``.  The result is called with dicts:
    ``model(x_dict, edge_index_dict)`` returns ``{node_type: tensor}``.  It follows
    ``train()``/``eval()``, pickles, and compiles with :func:`gfx.compile`.

    Args:
        module (torch.nn.Module): the homogeneous model (it is not modified).
        metadata (tuple): ``(node_types, edge_types)``, e.g. ``HeteroData.metadata()``.
            Any strings work as type names.
        aggr (str, optional): how outputs reaching one node type are combined:
            ``"sum"``, ``"mean"``, ``"max"``, ``"min"`` or ``"mul"``. (default: ``"sum"``)
        input_map (dict, optional): level (``"node"``, ``"edge"``, ``"graph"``) of each
            ``forward`` argument; when omitted, inferred from what the model does with
            it (connectivity of a layer, gather index), then from its name.
            (default: ``None``)
        debug (bool, optional): print the graph before and after. (default: ``False``)
        drop_unreached (bool, optional): a node type that a layer sends no messages to
            is an error at transform time; with ``True`` it is dropped from that layer's
            output (and from what is computed from it) instead. (default: ``False``)
    """
    return ToHeteroTransformer(module, metadata, aggr, input_map, debug,
                               drop_unreached).transform()


__all__ = ["ToHeteroTransformer", "to_hetero"]
