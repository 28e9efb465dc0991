"""``Transformer``: rewrite a captured model node by node (the base of ``to_hetero``).

The call tree of :meth:`Transformer.transform` (override any box)::

    transform()
    +-- capture self.module (levels in node.meta["level"])
    +-- for each node, by kind:
    |     placeholder()  get_attr()  call_function()  call_method()
    |     call_module()  call_message_passing_module()  call_global_pooling_module()
    |     output()
    +-- erase nodes whose results are no longer used
    +-- for each child module: init_submodule() (containers are walked into)
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import torch
from torch.fx import GraphModule, Node

from gfx.capture import capture
from gfx.levels import input_nodes


class Transformer:
    """Executes a captured graph node by node, letting subclasses rewrite each node.

    Args:
        module (torch.nn.Module): the model to transform.
        input_map (dict, optional): level (``"node"`` or ``"edge"``, also ``"graph"``) of
            each ``forward`` argument; inferred from dataflow when omitted.
            (default: ``None``)
        debug (bool, optional): print the graph before and after the transformation.
            (default: ``False``)
    """

    def __init__(self, module: torch.nn.Module, input_map: Optional[Dict[str, str]] = None,
                 debug: bool = False):
        self.module = module
        self.input_map = dict(input_map or {})
        self.debug = debug
        self.gm: Optional[GraphModule] = None

    # ---------------------------------------------------------------- per-node hooks
    def placeholder(self, node: Node, target: Any, name: str) -> None:
        pass

    def get_attr(self, node: Node, target: Any, name: str) -> None:
        pass

    def call_message_passing_module(self, node: Node, target: Any, name: str) -> None:
        pass

    def call_global_pooling_module(self, node: Node, target: Any, name: str) -> None:
        pass

    def call_module(self, node: Node, target: Any, name: str) -> None:
        pass

    def call_method(self, node: Node, target: Any, name: str) -> None:
        pass

    def call_function(self, node: Node, target: Any, name: str) -> None:
        pass

    def output(self, node: Node, target: Any, name: str) -> None:
        pass

    def init_submodule(self, module: torch.nn.Module, target: str) -> torch.nn.Module:
        return module

    # ---------------------------------------------------------------- driver
    @property
    def graph(self) -> torch.fx.Graph:
        return self.gm.graph

    def kind_of(self, node: Node) -> str:
        """The hook that handles ``node``: its fx opcode, with modules subdivided."""
        if node.op != "call_module":
            return node.op
        from gfx.message_passing import MessagePassing
        from gfx.nn.aggr import Aggregation
        module = self.gm.get_submodule(node.target)
        if isinstance(module, MessagePassing):
            return "call_message_passing_module"
        if isinstance(module, Aggregation):
            return "call_global_pooling_module"
        return "call_module"

    def transform(self) -> GraphModule:
        """Capture ``self.module``, apply the per-node hooks and return the new module."""
        self.gm = capture(self.module, self.input_map)
        if self.debug:
            print(f"Transformer: graph before\n{self.gm.graph}")
        for node in list(self.graph.nodes):
            getattr(self, self.kind_of(node))(node, node.target, node.name)
        self._erase_unused()
        for name, child in list(self.gm.named_children()):
            setattr(self.gm, name, self._init_submodule(child, name))
        self.graph.lint()
        self.gm.recompile()
        if self.debug:
            print(f"Transformer: graph after\n{self.gm.graph}")
        return self.gm

    def _erase_unused(self) -> None:
        from gfx.passes.cleanup import has_side_effects
        for node in reversed(list(self.graph.nodes)):
            if not node.users and not has_side_effects(node):  # keeps run-time guards
                self.graph.erase_node(node)

    def _init_submodule(self, module: torch.nn.Module, target: str) -> torch.nn.Module:
        from gfx.capture import default_leaf_types
        containers = (torch.nn.ModuleList, torch.nn.ModuleDict, torch.nn.Sequential)
        # fx builds plain torch.nn.Module holders for nested names ("convs.0"): walk them.
        walk = isinstance(module, containers) or type(module) is torch.nn.Module or (
            not isinstance(module, default_leaf_types())
            and type(module).__module__.split(".")[0] != "torch"
            and any(True for _ in module.children()))
        if walk:
            for name, child in list(module.named_children()):
                setattr(module, name, self._init_submodule(child, f"{target}.{name}"))
            return module
        return self.init_submodule(module, target)

    # ---------------------------------------------------------------- level queries
    def is_node_level(self, node: Node) -> bool:
        return node.meta.get("level") == "node"

    def is_edge_level(self, node: Node) -> bool:
        return node.meta.get("level") == "edge"

    def is_graph_level(self, node: Node) -> bool:
        return node.meta.get("level") == "graph"

    def has_node_level_arg(self, node: Node) -> bool:
        return any(self.is_node_level(n) for n in input_nodes(node))

    def has_edge_level_arg(self, node: Node) -> bool:
        return any(self.is_edge_level(n) for n in input_nodes(node))

    def has_graph_level_arg(self, node: Node) -> bool:
        return any(self.is_graph_level(n) for n in input_nodes(node))

    def find_by_name(self, name: str) -> Optional[Node]:
        return next((n for n in self.graph.nodes if n.name == name), None)

    def find_by_target(self, target: Any) -> Optional[Node]:
        return next((n for n in self.graph.nodes if n.target == target), None)

    def replace_all_uses_with(self, to_replace: Node, replace_with: Node) -> None:
        """Point every user of ``to_replace`` at ``replace_with`` (except itself)."""
        to_replace.replace_all_uses_with(replace_with,
                                         delete_user_cb=lambda user: user is not replace_with)
