"""``HeteroConv``: one convolution per edge type, combined per destination node type."""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch
from torch import Tensor


EdgeType = Tuple[str, str, str]
AGGRS = ("sum", "mean", "min", "max", "cat", None)


def edge_type_key(edge_type: EdgeType) -> str:
    """The module name of an edge type: ``"<src___rel___dst>"``, with ``.`` written ``#``.

    The same names as the reference library's checkpoints; :class:`EdgeTypeModuleDict`
    keeps the mapping back to the tuple, so no name has to be parsed.
    """
    return "<" + "___".join(edge_type).replace(".", "#") + ">"


class EdgeTypeModuleDict(torch.nn.ModuleDict):
    """A :class:`torch.nn.ModuleDict` keyed by edge-type tuples ``(src, rel, dst)``.

    Modules are registered under :func:`edge_type_key` names (what checkpoints and
    ``named_modules`` show); indexing, ``in``, ``keys()``, ``items()`` and iteration use
    the tuples.  Two edge types with the same module name are refused.
    """

    def __init__(self, modules: Optional[Dict[EdgeType, torch.nn.Module]] = None):
        super().__init__()
        self._edge_types: Dict[str, EdgeType] = {}
        for edge_type, module in (modules or {}).items():
            self[edge_type] = module

    @staticmethod
    def _validate(edge_type: Any) -> EdgeType:
        if not (isinstance(edge_type, tuple) and len(edge_type) == 3
                and all(isinstance(part, str) for part in edge_type)):
            raise TypeError(f"HeteroConv: edge types must be (source, relation, destination) "
                            f"tuples of strings, got {edge_type!r}")
        return edge_type

    def __setitem__(self, edge_type: EdgeType, module: torch.nn.Module) -> None:
        key = edge_type_key(self._validate(edge_type))
        other = self._edge_types.get(key)
        if other is not None and other != edge_type:
            raise ValueError(f"HeteroConv: edge types {other!r} and {edge_type!r} have the "
                             f"same module name {key!r}; rename one of them")
        self._edge_types[key] = edge_type
        super().__setitem__(key, module)

    def __getitem__(self, edge_type: EdgeType) -> torch.nn.Module:
        return super().__getitem__(edge_type_key(self._validate(edge_type)))

    def __delitem__(self, edge_type: EdgeType) -> None:
        key = edge_type_key(self._validate(edge_type))
        super().__delitem__(key)
        del self._edge_types[key]

    def __contains__(self, edge_type: object) -> bool:
        return isinstance(edge_type, tuple) and edge_type_key(edge_type) in self._modules

    def __iter__(self) -> Iterator[EdgeType]:
        return iter(self.keys())

    def keys(self) -> List[EdgeType]:
        return [self._edge_types[key] for key in self._modules]

    def items(self) -> List[Tuple[EdgeType, torch.nn.Module]]:
        return [(self._edge_types[key], module) for key, module in self._modules.items()]

    def values(self) -> List[torch.nn.Module]:
        return list(self._modules.values())


def combine(outs: List[Tensor], aggr: Optional[str]) -> Optional[Tensor]:
    """Combine the outputs that reach one node type (see :class:`HeteroConv`)."""
    if not outs:
        return None
    if aggr is None:
        return torch.stack(outs, dim=1)
    if len(outs) == 1:
        return outs[0]
    if aggr == "cat":
        return torch.cat(outs, dim=-1)
    stacked = torch.stack(outs, dim=0)
    if aggr == "sum":
        return stacked.sum(dim=0)
    if aggr == "mean":
        return stacked.mean(dim=0)
    return stacked.amax(dim=0) if aggr == "max" else stacked.amin(dim=0)


class HeteroConv(torch.nn.Module):
    """Message passing on heterogeneous graphs: one layer per edge type.

    .. math::
        \\mathbf{x}_v^{(t)\\prime} = \\bigoplus_{(s, r, t) \\in \\mathcal{R}}
        f_{(s,r,t)}\\big(\\mathbf{x}^{(s)}, \\mathbf{x}^{(t)},
        \\mathcal{E}_{(s,r,t)}\\big)_v

    where :math:`f_{(s,r,t)}` is the layer of edge type :math:`(s, r, t)` and
    :math:`\\bigoplus` combines, for every destination node type :math:`t`, the outputs
    of all edge types ending in :math:`t`: ``"sum"``, ``"mean"``, ``"min"``, ``"max"``
    (elementwise; ties in min/max share the gradient), ``"cat"`` (along the feature
    axis, in the order of ``convs``) or ``None`` (stacked along a new axis 1, giving
    ``[N_t, num_relations, F]``).

    :meth:`forward` routes every positional dictionary argument (and every keyword
    argument, whose name must end in ``_dict``; the suffix is dropped) to the layer of
    each edge type :math:`(s, r, t)`: a dictionary keyed by edge types passes its entry
    for :math:`(s, r, t)`; one keyed by node types passes ``x[s]`` when :math:`s = t` and
    the pair ``(x.get(s), x.get(t))`` otherwise; a dictionary with neither is skipped.
    An edge type with no entry in any edge-keyed dictionary is skipped, and node types
    that receive nothing are absent from the output.

    The dictionaries must be real Python dicts, also while tracing: build them inside
    the model's ``forward`` from its tensor inputs.

    Args:
        convs (dict): maps each edge type ``(src, rel, dst)`` to its layer (layers are
            registered as ``convs.<src___rel___dst>``).
        aggr (str, optional): how outputs reaching one node type are combined.
            (default: ``"sum"``)
    """

    def __init__(self, convs: Dict[EdgeType, torch.nn.Module], aggr: Optional[str] = "sum"):
        super().__init__()
        if aggr not in AGGRS:
            raise ValueError(f"HeteroConv: unknown aggr {aggr!r}; expected one of {AGGRS}")
        if not isinstance(convs, dict) or not convs:
            raise ValueError("HeteroConv: 'convs' must be a non-empty dict {edge_type: layer}")
        for edge_type, conv in convs.items():
            src, _, dst = EdgeTypeModuleDict._validate(edge_type)
            if src != dst and getattr(conv, "add_self_loops", False):
                raise ValueError(f"HeteroConv: the layer {conv!r} of edge type {edge_type!r} "
                                 f"has add_self_loops=True, but source and destination "
                                 f"types differ, so self-loops would connect unrelated "
                                 f"nodes; build it with add_self_loops=False")
        self.convs = EdgeTypeModuleDict(convs)
        self.aggr = aggr

    def reset_parameters(self) -> None:
        """Reset every layer."""
        for conv in self.convs.values():
            if hasattr(conv, "reset_parameters"):
                conv.reset_parameters()

    def forward(self, *args_dict: Dict[Any, Any], **kwargs_dict: Dict[Any, Any]
                ) -> Dict[str, Tensor]:
        """Run every edge type's layer and combine the results per node type."""
        if isinstance(args_dict, torch.fx.Proxy) or isinstance(kwargs_dict, torch.fx.Proxy):
            raise TypeError("HeteroConv: traced with its inputs as opaque values; the "
                            "arguments must be dicts, so build the dicts inside forward "
                            "from tensor inputs (or capture the model that calls this layer)")
        for name, value in [(f"positional argument {i}", v) for i, v in enumerate(args_dict)] \
                + list(kwargs_dict.items()):
            if not isinstance(value, dict):
                raise TypeError(f"HeteroConv: {name} must be a dict (keyed by node or edge "
                                f"types), got {type(value).__name__}; while tracing, build "
                                f"the dicts inside forward from tensor inputs")
        for name in kwargs_dict:
            if not name.endswith("_dict"):
                raise ValueError(f"HeteroConv: keyword argument '{name}' must end with "
                                 f"'_dict' (e.g. edge_attr_dict=...)")
        outs: Dict[str, List[Tensor]] = {}
        for edge_type, conv in self.convs.items():
            found_edge_level = False
            args = []
            for value in args_dict:
                routed, edge_level = _route(value, edge_type)
                found_edge_level |= edge_level
                if routed is not _SKIP:
                    args.append(routed)
            kwargs = {}
            for name, value in kwargs_dict.items():
                routed, edge_level = _route(value, edge_type)
                found_edge_level |= edge_level
                if routed is not _SKIP:
                    kwargs[name[:-len("_dict")]] = routed
            if not found_edge_level:
                continue
            outs.setdefault(edge_type[-1], []).append(conv(*args, **kwargs))
        return {node_type: combine(values, self.aggr) for node_type, values in outs.items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_relations={len(self.convs)})"


_SKIP = object()


def _route(value: Dict[Any, Any], edge_type: EdgeType) -> Tuple[Any, bool]:
    """The entry of ``value`` for ``edge_type`` and whether it was edge-keyed."""
    src, _, dst = edge_type
    if edge_type in value:
        return value[edge_type], True
    if src == dst and src in value:
        return value[src], False
    if src in value or dst in value:
        return (value.get(src), value.get(dst)), False
    return _SKIP, False


__all__ = ["HeteroConv"]
