"""Pieces shared by :mod:`gfx.passes.to_hetero` and :mod:`gfx.passes.to_hetero_with_bases`.

* :func:`check_metadata`: validate ``(node_types, edge_types)``;
* :func:`type_keys`: the collision-free submodule names of the node and edge types (see
  NOTE [type keys]);
* :func:`select_type`: the run-time lookup ``values[type]`` with an error naming the type;
* :func:`fresh_copies`: independently re-initialised copies of a module;
* :func:`adds_self_loops`: whether a layer adds edges of its own;
* :class:`HeteroTransformer`: the :class:`gfx.transformer.Transformer` driver both passes
  share (capture that follows ``train()``/``eval()``, see :mod:`gfx.passes._training_mode`).

# NOTE [type keys]
Per-type copies of a module live in a :class:`torch.nn.ModuleDict` under a key derived
from the type, computed once per metadata by :func:`type_keys`.  Checkpoints written by
the reference library must load, so a type gets the reference's key wherever that key
works: the parts joined with ``"__"``, spaces and ``-`` replaced by ``_``
(``("paper", "cites", "paper")`` -> ``paper__cites__paper``, ``"written-by"`` ->
``written_by``).  That key is kept unless it cannot work or would be ambiguous: it is
empty or holds a ``.``, a quote, a backslash or an unprintable character, is a Python
keyword, an attribute of the container (``"keys"``, ``"type"``, ...) or an identifier
that Python would NFKC-normalise (``"º"``), or another type of the same metadata gets the same key
(``"rev-to"`` next to ``"rev_to"``; ``("a", "b__c", "d")`` next to ``("a__b", "c", "d")``).
Those types are escaped: in each part, ASCII letters and digits other than ``x`` stay,
every other character becomes ``x`` and its code point in six hex digits; parts are
joined with ``"_"`` and a final ``"_"`` is appended (``"a.b"`` -> ``ax00002eb_``).
Escaping is injective, and a readable key that equals some escaped key is escaped too,
so two types never share a key.
"""
from __future__ import annotations

import copy
import keyword
import unicodedata
import warnings
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple, Union

import torch
from torch.fx import GraphModule, Node

from gfx.passes.cleanup import eliminate_dead_code, has_side_effects, is_inplace
from gfx.transformer import Transformer

from ._training_mode import capture_following_training_mode, user_stacklevel

NodeType = str
EdgeType = Tuple[str, str, str]
TypeName = Union[NodeType, EdgeType]
Metadata = Tuple[List[NodeType], List[EdgeType]]

_CONTAINER_ATTRIBUTES = frozenset(dir(torch.nn.ModuleDict()))


# ----------------------------------------------------------------------------- metadata
def check_metadata(metadata: Any, owner: str) -> Metadata:
    """Validate ``metadata`` and return ``(node_types, edge_types)`` as lists.

    Node types are distinct strings; edge types are distinct ``(src, relation, dst)``
    triples of strings whose end points are node types.
    """
    if not isinstance(metadata, (tuple, list)) or len(metadata) != 2:
        raise TypeError(f"{owner}: 'metadata' must be a (node_types, edge_types) pair, as "
                        f"returned by HeteroData.metadata(); got {metadata!r}")
    node_types = list(metadata[0])
    edge_types = [tuple(e) if isinstance(e, (tuple, list)) else e for e in metadata[1]]
    if not node_types:
        raise ValueError(f"{owner}: 'metadata' lists no node types")
    for node_type in node_types:
        if not isinstance(node_type, str):
            raise TypeError(f"{owner}: node types must be strings, got {node_type!r}")
    if len(set(node_types)) != len(node_types):
        raise ValueError(f"{owner}: 'metadata' lists a node type twice: {node_types}")
    for edge_type in edge_types:
        if not (isinstance(edge_type, tuple) and len(edge_type) == 3
                and all(isinstance(part, str) for part in edge_type)):
            raise TypeError(f"{owner}: edge types must be (src, relation, dst) triples of "
                            f"strings, got {edge_type!r}")
        for end in (edge_type[0], edge_type[2]):
            if end not in node_types:
                raise ValueError(f"{owner}: edge type {edge_type} uses node type {end!r}, "
                                 f"which is not in the node types {node_types}")
    if len(set(edge_types)) != len(edge_types):
        raise ValueError(f"{owner}: 'metadata' lists an edge type twice: {edge_types}")
    return node_types, edge_types


def _escape_part(part: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() and ch != "x" else f"x{ord(ch):06x}"
                   for ch in part)


def _reference_key(type_name: TypeName) -> str:
    parts = [type_name] if isinstance(type_name, str) else list(type_name)
    return "__".join(parts).replace(" ", "_").replace("-", "_")


def _escaped_key(type_name: TypeName) -> str:
    parts = [type_name] if isinstance(type_name, str) else list(type_name)
    return "_".join(_escape_part(part) for part in parts) + "_"


def _usable_key(key: str) -> bool:
    """Whether ``key`` works as a submodule name in fx-generated code: ``getattr`` with a
    quoted string, or attribute syntax for identifiers (which Python NFKC-normalises)."""
    if not key or "." in key or keyword.iskeyword(key) or key in _CONTAINER_ATTRIBUTES:
        return False
    if not key.isprintable() or any(ch in key for ch in "\"'\\"):
        return False
    return not key.isidentifier() or unicodedata.normalize("NFKC", key) == key


def type_keys(types: List[TypeName]) -> Dict[TypeName, str]:
    """The submodule key of every node and edge type of one metadata (see NOTE [type
    keys])."""
    keys = {t: _reference_key(t) for t in types}
    usable = {t for t, k in keys.items() if _usable_key(k)}
    while True:
        owners: Dict[str, List[TypeName]] = {}
        for t in types:
            owners.setdefault(keys[t] if t in usable else _escaped_key(t), []).append(t)
        clashing = {t for group in owners.values() if len(group) > 1 for t in group} & usable
        if not clashing:
            return {t: keys[t] if t in usable else _escaped_key(t) for t in types}
        usable -= clashing


def describe_type(type_name: TypeName) -> str:
    kind = "node type" if isinstance(type_name, str) else "edge type"
    return f"{kind} {type_name!r}"


# ----------------------------------------------------------------------------- run time
class MissingTypeError(KeyError):
    """A per-type input dict lacks an entry the transformed model needs."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


def select_type(values: Any, type_name: TypeName, argument: str) -> Any:
    """``values[type_name]``, with an error that names the argument and the type.

    Called by transformed models on every per-type input (one graph node per type).
    """
    if not isinstance(values, Mapping):
        kind = "node" if isinstance(type_name, str) else "edge"
        raise TypeError(f"heterogeneous model: argument '{argument}' must be a dict keyed by "
                        f"{kind} type, got {type(values).__name__}")
    try:
        return values[type_name]
    except KeyError:
        raise MissingTypeError(
            f"heterogeneous model: argument '{argument}' has no entry for "
            f"{describe_type(type_name)}; its keys are {list(values)}") from None


# One call node per lookup in captured graphs; fx re-registers the wrap in generated code
# (see mark_wrapped) so a transformed model captures and compiles again.
torch.fx.wrap("select_type")


def mark_wrapped(node: Node) -> Node:
    """Tell fx's code generator that ``node`` calls a ``torch.fx.wrap``-ped function.

    Nodes created by hand (not traced) lack the flag; without it a transformed model
    could not be traced again (``gfx.compile``), since the call would be traced into.
    """
    node.meta["is_wrapped"] = True
    return node


# ----------------------------------------------------------------------------- modules
def adds_self_loops(module: torch.nn.Module) -> bool:
    """True when a layer adds edges of its own (self-loops) before passing messages."""
    return getattr(module, "add_self_loops", False) is True


def _owns_parameters(module: torch.nn.Module) -> bool:
    return any(p is not None for p in module._parameters.values())


def _has_own_reset(module: torch.nn.Module) -> bool:
    """A ``reset_parameters`` that covers the whole module.

    The base :class:`MessagePassing` method only resets the aggregation, so a subclass
    that does not override it is walked into like a module without one.
    """
    from gfx.message_passing import MessagePassing
    method = getattr(type(module), "reset_parameters", None)
    return callable(method) and method is not MessagePassing.reset_parameters


def _reset_tree(module: torch.nn.Module, path: str, untouched: List[str]) -> None:
    if _has_own_reset(module):
        module.reset_parameters()
        return
    if callable(getattr(module, "reset_parameters", None)):
        module.reset_parameters()
    if _owns_parameters(module):
        untouched.append(f"'{path}' ({type(module).__name__})")
    for name, child in module.named_children():
        _reset_tree(child, f"{path}.{name}", untouched)


def reset_copy(module: torch.nn.Module, path: str) -> List[str]:
    """Re-initialise ``module`` in place; return the parts that could not be.

    Modules with their own ``reset_parameters`` are trusted to reset their whole
    subtree; other modules are walked into.  A module that owns parameters but has no
    ``reset_parameters`` cannot be re-initialised and is returned.
    """
    untouched: List[str] = []
    _reset_tree(module, path, untouched)
    return untouched


def fresh_copies(module: torch.nn.Module, target: str, count: int, owner: str,
                 what: str) -> List[torch.nn.Module]:
    """``count`` deep copies of ``module``, each re-initialised independently.

    Warns (once per module) when part of it cannot be re-initialised, since those
    copies then start from identical values.  ``what`` says what the copies are for.
    """
    copies = [copy.deepcopy(module) for _ in range(count)]
    untouched: List[str] = []
    for clone in copies:
        untouched = reset_copy(clone, target)
    if untouched:
        warnings.warn(
            f"{owner}: '{target}' ({type(module).__name__}) is copied {what}, but "
            f"{', '.join(untouched)} has no reset_parameters(), so its copies start from "
            f"identical values; add a reset_parameters() method to re-initialise them "
            f"independently", UserWarning, stacklevel=user_stacklevel())
    return copies


def set_submodule(root: torch.nn.Module, target: str, module: torch.nn.Module) -> None:
    prefix, _, name = target.rpartition(".")
    parent = root.get_submodule(prefix) if prefix else root
    setattr(parent, name, module)


# ----------------------------------------------------------------------------- driver
class HeteroTransformer(Transformer):
    """The driver shared by the heterogeneous passes.

    Differences from :meth:`Transformer.transform`: the model is deep-copied first (the
    result never shares modules with the caller's model); it is captured so that
    arguments read from ``self.training`` follow ``train()``/``eval()`` of the result
    (see :mod:`gfx.passes._training_mode`); :meth:`prepare` runs before the per-node
    hooks; :meth:`init_submodule` is called once per module that the captured graph
    calls, with its full dotted path (also inside containers); and the result's
    ``meta["metadata"]`` holds ``(node_types, edge_types)``.

    Args:
        module (torch.nn.Module): the homogeneous model.
        metadata (tuple): ``(node_types, edge_types)``.
        input_map (dict, optional): level of each ``forward`` argument.
            (default: ``None``)
        debug (bool, optional): print the graph before and after. (default: ``False``)
    """

    owner = "heterogeneous transform"

    def __init__(self, module: torch.nn.Module, metadata: Metadata,
                 input_map: Optional[Dict[str, str]] = None, debug: bool = False):
        super().__init__(module, input_map, debug)
        self.node_types, self.edge_types = check_metadata(metadata, self.owner)
        self.metadata = (self.node_types, self.edge_types)
        self.keys = type_keys(self.node_types + self.edge_types)
        self.created: Set[Node] = set()

    def type_key(self, type_name: TypeName) -> str:
        """The submodule key of a node or edge type (see NOTE [type keys])."""
        return self.keys[type_name]

    def prepare(self) -> None:
        """Runs after capture, before the per-node hooks."""

    def transform(self) -> GraphModule:
        module = copy.deepcopy(self.module)
        self.gm = capture_following_training_mode(module, self.input_map, self.owner)
        self.gm.meta["metadata"] = self.metadata
        if self.debug:
            print(f"{self.owner}: graph before\n{self.gm.graph}")
        called = list(dict.fromkeys(n.target for n in self.graph.nodes
                                    if n.op == "call_module"))
        self.prepare()
        for node in list(self.graph.nodes):
            getattr(self, self.kind_of(node))(node, node.target, node.name)
        self.erase_replaced_inplace_updates()
        eliminate_dead_code(self.gm)  # keeps the run-time guards of fixed arguments
        for target in called:
            old = self.gm.get_submodule(target)
            new = self.init_submodule(old, target)
            if new is not old:
                set_submodule(self.gm, target, new)
        self.gm.train(module.training)  # new containers start in training mode
        self.graph.lint()
        self.gm.recompile()
        # Unpickling re-traces the generated code with the recorded tracer class; the
        # capture tracer needs constructor arguments, fx's default tracer does not.
        self.gm._tracer_cls = None
        self.gm._tracer_extras = {}
        if self.debug:
            print(f"{self.owner}: graph after\n{self.gm.graph}")
        return self.gm

    def erase_replaced_inplace_updates(self) -> None:
        """Drop in-place updates (``x.relu_()``) of original values whose per-type copies
        replaced them: the copies are updated by their own per-type nodes, and the
        original would otherwise keep the whole homogeneous computation alive."""
        for node in reversed(list(self.graph.nodes)):
            if node.users:
                continue
            replaced_update = (node not in self.created and is_inplace(node) and node.args
                               and isinstance(node.args[0], Node)
                               and node.args[0] not in self.created
                               and node.args[0].op != "placeholder")
            if replaced_update or not has_side_effects(node):
                self.graph.erase_node(node)

    # ------------------------------------------------------------------ graph editing
    def emit(self, anchor: Node, op: str, target: Any, args: tuple, kwargs: Optional[dict],
             level: Optional[str], type_name: Optional[TypeName], name: str) -> Node:
        """Create a node just before ``anchor``, carrying ``anchor``'s source line."""
        with self.graph.inserting_before(anchor):
            node = self.graph.create_node(op, target, tuple(args), dict(kwargs or {}), name=name)
        self.created.add(node)
        node.meta["level"] = level
        node.meta["type"] = type_name
        node.meta["source"] = anchor.meta.get("source")
        if anchor.stack_trace:
            node.stack_trace = anchor.stack_trace
        return node

    def first_body_node(self) -> Node:
        return next(n for n in self.graph.nodes if n.op != "placeholder")

    @staticmethod
    def is_fixed_to_none(node: Node) -> bool:
        """A placeholder that capture fixed to ``None`` (its default), guarded at run time."""
        from torch.fx._symbolic_trace import _assert_is_none
        return any(user.op == "call_function" and user.target is _assert_is_none
                   for user in node.users)

    def at(self, node: Node) -> str:
        """`` at <user's file:line>`` for ``node``, or nothing when it is not known."""
        source = node.meta.get("source")
        return f" at {source}" if source else ""

    def where(self, node: Node) -> str:
        return f"'{node.name}'{self.at(node)}"
