"""``to_hetero_with_bases``: a heterogeneous GNN whose size does not grow with relations.

After the pass, with metadata ``(node_types, edge_types)``:

* the per-type inputs are merged into one *typed homogeneous* graph at the start: the
  node-level dicts are concatenated in node-type order (each type first mapped to
  ``in_channels[arg]`` features by its own bias-free linear map ``align_lin__<arg>``
  when given), the connectivity dicts are concatenated in edge-type order with node ids
  shifted by their type's offset, and a relation id per edge (``edge_type``) is built;
  other edge-level dicts are concatenated in edge-type order;
* every :class:`MessagePassing` layer became a :class:`BasisDecomposedConv`: ``num_bases``
  independently initialised copies whose messages are weighted by a learnable
  coefficient per (relation, basis), summed;
* everything else runs once on the merged values (its parameters are shared by all
  types);
* node-level (edge-level) outputs are split back into ``{type: tensor}`` dicts.

.. math::
    \\mathbf{h}_v^{(\\ell)} = \\sum_{r \\in \\mathcal{R}} \\sum_{b=1}^{B}
    f^{(\\ell, b)}\\left(\\mathbf{h}_v^{(\\ell - 1)},
    \\{ a^{(\\ell)}_{r, b} \\cdot \\mathbf{m}^{(\\ell, b)}_{w \\to v} :
    w \\in \\mathcal{N}^{(r)}(v) \\}\\right)
"""
from __future__ import annotations

import inspect
import operator
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.fx import GraphModule, Node
from torch.fx.node import map_aggregate

from gfx.nn.dense.linear import Linear
from gfx.ops._checks import is_tracing

from ._basis_conv import BasisDecomposedConv
from ._hetero_common import (EdgeType, HeteroTransformer, Metadata, TypeName, adds_self_loops,
                             mark_wrapped, select_type)

OWNER = "to_hetero_with_bases"


# ----------------------------------------------------------------------------- run time
def node_axis(value: Tensor) -> int:
    """The axis that indexes nodes (or edges): ``-2`` as MessagePassing's default
    ``node_dim``, so batched ``[B, N, F]`` inputs merge along ``N``; ``0`` for vectors."""
    return -2 if value.dim() >= 2 else 0


def count_along_node_axis(value: Tensor) -> int:
    return value.size(node_axis(value))


def narrow_node_axis(value: Tensor, offset: int, count: int) -> Tensor:
    return torch.narrow(value, node_axis(value), offset, count)


def concat_types(values: Sequence[Tensor], types: Sequence[TypeName], argument: str) -> Tensor:
    """Concatenate per-type tensors along the node axis; their other sizes must agree."""
    if not is_tracing(*values):
        shapes = {}
        for t, v in zip(types, values):
            shape = list(v.shape)
            del shape[node_axis(v)]
            shapes[t] = tuple(shape)
        if len(set(shapes.values())) > 1:
            listed = ", ".join(f"{t!r}: {list(s)}" for t, s in shapes.items())
            raise ValueError(
                f"{OWNER}: the entries of '{argument}' differ in feature size ({listed}), "
                f"so they cannot be merged into one tensor; pass in_channels={{'{argument}': "
                f"<size>}} to map every type to one size first")
    return torch.cat(list(values), dim=node_axis(values[0]))


def typed_edge_index(edge_indices: Sequence[Tensor], node_counts: Sequence[int],
                     edge_types: Sequence[EdgeType], node_types: Sequence[str],
                     argument: str) -> Tuple[Tensor, Tensor]:
    """Merge per-relation ``edge_index`` tensors into one graph over all node types.

    Node ids of type ``t`` are shifted by the number of nodes of the types before ``t``;
    returns the merged ``[2, E]`` connectivity and the ``[E]`` relation id of each edge.
    """
    offsets, total = {}, 0
    for node_type, count in zip(node_types, node_counts):
        offsets[node_type] = total
        total = total + count
    parts, relation = [], []
    for r, (edge_type, edge_index) in enumerate(zip(edge_types, edge_indices)):
        src, _, dst = edge_type
        if not is_tracing(edge_index):
            _check_edge_index(edge_index, edge_type, argument,
                              node_counts[node_types.index(src)],
                              node_counts[node_types.index(dst)])
        parts.append(edge_index + edge_index.new_tensor([[offsets[src]], [offsets[dst]]]))
        relation.append(torch.full_like(edge_index[0], r))
    return torch.cat(parts, dim=1), torch.cat(relation)


def _check_edge_index(edge_index: Tensor, edge_type: EdgeType, argument: str,
                      num_src: int, num_dst: int) -> None:
    where = f"{OWNER}: '{argument}' of edge type {edge_type}"
    if edge_index.dim() != 2 or edge_index.shape[0] != 2 or edge_index.is_floating_point():
        raise ValueError(f"{where} must be an integer [2, num_edges] tensor, got "
                         f"{edge_index.dtype} of shape {list(edge_index.shape)}")
    for row, count, side in ((0, num_src, "source"), (1, num_dst, "destination")):
        ids = edge_index[row]
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= count):
            raise IndexError(f"{where} refers to {side} node {int(ids.max())}, but node type "
                             f"{edge_type[2 * row]!r} has {count} nodes")


torch.fx.wrap("concat_types")
torch.fx.wrap("typed_edge_index")
torch.fx.wrap("count_along_node_axis")
torch.fx.wrap("narrow_node_axis")


# ----------------------------------------------------------------------------- the pass
class ToHeteroWithBasesTransformer(HeteroTransformer):
    """The pass behind :func:`to_hetero_with_bases` (see the module docstring).

    Args:
        module (torch.nn.Module): the homogeneous model.
        metadata (tuple): ``(node_types, edge_types)``.
        num_bases (int): number of bases :math:`B`.
        in_channels (dict, optional): feature size to map each named input to, per
            type, before merging. (default: ``None``)
        input_map (dict, optional): level of each ``forward`` argument.
            (default: ``None``)
        debug (bool, optional): print the graph before and after. (default: ``False``)
    """

    owner = OWNER

    def __init__(self, module: torch.nn.Module, metadata: Metadata, num_bases: int,
                 in_channels: Optional[Dict[str, int]] = None,
                 input_map: Optional[Dict[str, str]] = None, debug: bool = False):
        super().__init__(module, metadata, input_map, debug)
        if isinstance(num_bases, bool) or not isinstance(num_bases, int) or num_bases < 1:
            raise ValueError(f"{OWNER}: 'num_bases' must be a positive int, got {num_bases!r}")
        self.num_bases = num_bases
        self.in_channels = dict(in_channels or {})
        for name, size in self.in_channels.items():
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise ValueError(f"{OWNER}: in_channels['{name}'] must be a positive int, "
                                 f"got {size!r}")
        self.edge_type_of: Dict[Node, Node] = {}  # connectivity placeholder -> relation ids
        self.node_counts: List[Node] = []
        self.edge_counts: List[Node] = []
        self.layers: List[str] = []

    # ------------------------------------------------------------------ analysis
    def edge_index_argument(self, node: Node) -> Optional[Node]:
        """The value a layer call passes as its ``edge_index`` (or ``adj_t``)."""
        module = self.gm.get_submodule(node.target)
        try:
            bound = inspect.signature(module.forward).bind(*node.args, **node.kwargs)
        except TypeError:
            return node.args[1] if len(node.args) > 1 else None
        for name in ("edge_index", "adj_t"):
            if isinstance(bound.arguments.get(name), Node):
                return bound.arguments[name]
        return None

    def connectivity_of(self, node: Node) -> Node:
        """The connectivity placeholder that a layer call's ``edge_index`` comes from."""
        argument = self.edge_index_argument(node)
        found = set()
        if argument is not None:
            stack, seen = [argument], set()
            while stack:
                current = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                if current.op == "placeholder" and current.meta.get("level") == "edge":
                    found.add(current)
                stack.extend(current.all_input_nodes)
        if len(found) != 1:
            got = "none" if not found else ", ".join(sorted(f"'{n.target}'" for n in found))
            raise ValueError(f"{OWNER}: the edge_index of layer '{node.target}' "
                             f"({self.where(node)}) must come from exactly one edge-level "
                             f"input of forward(), found {got}")
        return found.pop()

    def prepare(self) -> None:
        placeholders = [n for n in self.graph.nodes if n.op == "placeholder"
                        and not self.is_fixed_to_none(n)]
        names = {n.target for n in placeholders}
        unknown = sorted(set(self.in_channels) - names)
        if unknown:
            raise ValueError(f"{OWNER}: in_channels names {unknown}, which are not inputs of "
                             f"forward() (inputs: {sorted(names)})")
        calls = [n for n in self.graph.nodes if self.kind_of(n) == "call_message_passing_module"]
        connectivity = {}
        for call in calls:
            module = self.gm.get_submodule(call.target)
            if adds_self_loops(module):
                raise ValueError(
                    f"{OWNER}: '{call.target}' ({type(module).__name__}) adds self-loops "
                    f"inside the layer; their messages belong to no relation, so no basis "
                    f"coefficient applies to them. Construct it with add_self_loops=False")
            connectivity[call] = self.connectivity_of(call)
        node_inputs = [n for n in placeholders if n.meta.get("level") == "node"]
        edge_inputs = [n for n in placeholders if n.meta.get("level") == "edge"]
        if calls and not node_inputs:
            raise ValueError(f"{OWNER}: forward() has no node-level input to count the nodes "
                             f"of each type from; mark one with input_map={{name: 'node'}}")
        anchor = self.first_body_node()
        for position, node in enumerate(node_inputs):
            self.merge_input(node, anchor, self.node_types, count=position == 0)
        connected = set(connectivity.values())
        for node in edge_inputs:
            if node in connected:
                self.merge_connectivity(node, anchor, count=not self.edge_counts)
            else:
                self.merge_input(node, anchor, self.edge_types, count=False)
        for call, source in connectivity.items():
            call.args = (self.edge_type_of[source],) + tuple(call.args)
            self.layers.append(call.target)

    # ------------------------------------------------------------------ merging inputs
    def lookups(self, node: Node, anchor: Node, types: Sequence[TypeName]) -> List[Node]:
        level = node.meta["level"]
        return [mark_wrapped(self.emit(anchor, "call_function", select_type,
                                       (node, t, node.target), None, level, t,
                                       f"{node.name}__{self.type_key(t)}")) for t in types]

    def count(self, values: List[Node], anchor: Node, types: Sequence[TypeName],
              dim: Optional[int]) -> List[Node]:
        """The size of each value along ``dim`` (``None``: the node axis)."""
        return [self.emit(anchor, "call_method", "size", (v, dim), None, None, t,
                          f"num__{self.type_key(t)}") if dim is not None else
                mark_wrapped(self.emit(anchor, "call_function", count_along_node_axis, (v,), None,
                                       None, t, f"num__{self.type_key(t)}"))
                for v, t in zip(values, types)]

    def merge_input(self, node: Node, anchor: Node, types: Sequence[TypeName],
                    count: bool) -> None:
        values = self.lookups(node, anchor, types)
        if count:
            self.node_counts = self.count(values, anchor, types, None)
        if node.target in self.in_channels:
            values = self.align(node, values, anchor, types)
        merged = mark_wrapped(self.emit(anchor, "call_function", concat_types,
                                        (values, list(types), node.target), None,
                                        node.meta["level"], None, f"{node.name}__merged"))
        self.replace_uses(node, merged)

    def align(self, node: Node, values: List[Node], anchor: Node,
              types: Sequence[TypeName]) -> List[Node]:
        name = f"align_lin__{node.target}"
        if hasattr(self.gm, name):
            raise ValueError(f"{OWNER}: the model already has an attribute '{name}'")
        size = self.in_channels[node.target]
        lins = torch.nn.ModuleDict({self.type_key(t): Linear(-1, size, bias=False) for t in types})
        self.gm.add_submodule(name, torch.nn.ModuleDict({"lins": lins}))
        return [self.emit(anchor, "call_module", f"{name}.lins.{self.type_key(t)}", (v,), None,
                          node.meta["level"], t, f"{node.name}__aligned__{self.type_key(t)}")
                for v, t in zip(values, types)]

    def merge_connectivity(self, node: Node, anchor: Node, count: bool) -> None:
        values = self.lookups(node, anchor, self.edge_types)
        if count:
            self.edge_counts = self.count(values, anchor, self.edge_types, 1)
        merged = mark_wrapped(self.emit(
            anchor, "call_function", typed_edge_index,
            (values, list(self.node_counts), list(self.edge_types), list(self.node_types),
             node.target), None, "edge", None, f"{node.name}__merged"))
        edge_index = self.emit(anchor, "call_function", operator.getitem, (merged, 0), None,
                               "edge", None, f"{node.name}__typed")
        self.edge_type_of[node] = self.emit(anchor, "call_function", operator.getitem,
                                            (merged, 1), None, "edge", None, "edge_type")
        self.replace_uses(node, edge_index)

    def replace_uses(self, node: Node, merged: Node) -> None:
        """Point the model's uses of a placeholder at its merged value."""
        node.replace_all_uses_with(merged, delete_user_cb=lambda user: user not in self.created)

    # ------------------------------------------------------------------ splitting outputs
    def split(self, value: Node, anchor: Node, counts: List[Node],
              types: Sequence[TypeName]) -> Dict[TypeName, Node]:
        out, offset = {}, 0
        for count, type_name in zip(counts, types):
            out[type_name] = mark_wrapped(self.emit(
                anchor, "call_function", narrow_node_axis, (value, offset, count), None,
                value.meta["level"], type_name, f"{value.name}__{self.type_key(type_name)}"))
            offset = count if offset == 0 else self.emit(
                anchor, "call_function", operator.add, (offset, count), None, None, None,
                "offset")
        return out

    def output(self, node: Node, target: Any, name: str) -> None:
        def split(v: Any) -> Any:
            if not isinstance(v, Node):
                return v
            if v.meta.get("level") == "node" and self.node_counts:
                return self.split(v, node, self.node_counts, self.node_types)
            if v.meta.get("level") == "edge" and self.edge_counts:
                return self.split(v, node, self.edge_counts, self.edge_types)
            return v
        node.args = map_aggregate(node.args, split)

    def init_submodule(self, module: torch.nn.Module, target: str) -> torch.nn.Module:
        if target not in self.layers:
            return module
        return BasisDecomposedConv(module, len(self.edge_types), self.num_bases, target)


def to_hetero_with_bases(module: torch.nn.Module, metadata: Metadata, num_bases: int,
                         in_channels: Optional[Dict[str, int]] = None,
                         input_map: Optional[Dict[str, str]] = None,
                         debug: bool = False) -> GraphModule:
    """Convert a homogeneous GNN into a heterogeneous one by basis decomposition.

    The heterogeneous inputs are merged into one typed homogeneous graph, and every
    :class:`MessagePassing` layer :math:`f^{(\\ell)}` becomes ``num_bases`` copies
    :math:`f^{(\\ell, b)}` whose message along an edge of relation :math:`r` is
    multiplied by a learnable :math:`a^{(\\ell)}_{r, b}`:

    .. math::
        \\mathbf{h}_v^{(\\ell)} = \\sum_{r \\in \\mathcal{R}} \\sum_{b=1}^{B}
        f^{(\\ell, b)}\\left(\\mathbf{h}_v^{(\\ell - 1)},
        \\{ a^{(\\ell)}_{r, b} \\cdot \\mathbf{m}^{(\\ell, b)}_{w \\to v} :
        w \\in \\mathcal{N}^{(r)}(v) \\}\\right)

    Only the coefficients depend on the number of relations.  Layers other than message
    passing are shared by all types.  The result is called with dicts,
    ``model(x_dict, edge_index_dict)``, and returns ``{node_type: tensor}``; node
    features are ``[num_nodes, ...]`` per type.

    Args:
        module (torch.nn.Module): the homogeneous model (it is not modified).
        metadata (tuple): ``(node_types, edge_types)``, e.g. ``HeteroData.metadata()``.
        num_bases (int): number of bases :math:`B` (copies of each layer).
        in_channels (dict, optional): ``{argument: size}``: map every type's entry of
            that ``forward`` argument to ``size`` features (a bias-free linear map per
            type) before merging, so types may have different feature sizes.
            (default: ``None``)
        input_map (dict, optional): level (``"node"``, ``"edge"``, ``"graph"``) of each
            ``forward`` argument; when omitted, inferred from what the model does with
            it (connectivity of a layer, gather index), then from its name.
            (default: ``None``)
        debug (bool, optional): print the graph before and after. (default: ``False``)
    """
    return ToHeteroWithBasesTransformer(module, metadata, num_bases, in_channels, input_map,
                                        debug).transform()


__all__ = ["ToHeteroWithBasesTransformer", "concat_types", "to_hetero_with_bases",
           "typed_edge_index"]
