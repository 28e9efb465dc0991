"""The ``MessagePassing`` base class: the contract every graph layer of gfx is built on.

A layer computes

.. math::
    \\mathbf{x}_i' = \\gamma\\left(\\mathbf{x}_i,\\;
        \\square_{j \\in \\mathcal{N}(i)} \\phi(\\mathbf{x}_i, \\mathbf{x}_j, \\mathbf{e}_{j,i})\\right)

by overriding :meth:`message` (:math:`\\phi`), optionally :meth:`aggregate`
(:math:`\\square`) and :meth:`update` (:math:`\\gamma`), and calling :meth:`propagate`.
The call tree of :meth:`propagate` (each box may be overridden)::

    propagate(edge_index, size, **kwargs)
    |-- [propagate pre-hooks]
    |-- sparse adj_t and message_and_aggregate overridden?
    |     yes: message_and_aggregate(adj_t, ...)    [its pre/post hooks]
    |     no:  message(...)                         [its pre/post hooks, explain mask]
    |          aggregate(inputs, index, ptr, dim_size)   [its pre/post hooks]
    |-- update(aggr_out, ...)
    |-- [propagate post-hooks]

    edge_updater(edge_index, size, **kwargs) -> edge_update(...)   [its pre/post hooks]

Arguments of ``message``/``edge_update``/``aggregate``/``update`` are filled by name from
``propagate``'s keyword arguments; a name ending in ``_i`` (``_j``) lifts a node tensor
to the target (source) node of every edge with :func:`gfx.ops.gather`.  The reserved
names ``edge_index``, ``edge_index_i``, ``edge_index_j``, ``index``, ``ptr``, ``size``,
``size_i``, ``size_j``, ``dim_size`` and ``adj_t`` are provided by ``propagate``.

Everything here is written with the gfx primitives and plain torch ops, so the same code
is the eager reference and what :func:`gfx.lower` inlines.
"""
from __future__ import annotations

import inspect
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.utils.hooks import RemovableHandle

from gfx.ops import gather
from gfx.ops._checks import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

SPECIAL_ARGS = frozenset({
    "edge_index", "edge_index_i", "edge_index_j", "index", "ptr", "size", "size_i",
    "size_j", "dim_size", "adj_t"})
FLOWS = ("source_to_target", "target_to_source")
HOOK_POINTS = ("propagate", "message", "aggregate", "message_and_aggregate", "edge_update")
Size = Optional[Tuple[Optional[int], Optional[int]]]


def _is_tensor(value) -> bool:
    """A tensor, or an fx proxy standing for one while :func:`gfx.lower` traces a layer."""
    return isinstance(value, (Tensor, torch.fx.Proxy))


class Signature:
    """The parameters of one overridable method, minus ``self`` and its first argument."""

    def __init__(self, fn, skip_first: bool):
        params = list(inspect.signature(fn).parameters.values())
        self.takes_any_keyword = any(p.kind == p.VAR_KEYWORD for p in params)
        params = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if skip_first and params:
            params = params[1:]
        self.names: List[str] = [p.name for p in params]
        self.defaults: Dict[str, Any] = {
            p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def _overrides(module: torch.nn.Module, name: str) -> bool:
    return getattr(type(module), name) is not getattr(MessagePassing, name)


class MessagePassing(torch.nn.Module):
    """Base class for message passing layers.

    Args:
        aggr (str or [str] or Aggregation, optional): the aggregation
            (``"sum"``/``"add"``, ``"mean"``, ``"max"``, ``"min"``, ``"mul"``, any name known
            to :func:`gfx.nn.aggr.aggregation_resolver`, a list of them for a
            :class:`MultiAggregation`, an :class:`Aggregation` module, or ``None`` when
            the layer overrides :meth:`aggregate`). (default: ``"sum"``)
        aggr_kwargs (dict, optional): arguments for the resolved aggregation.
            (default: ``None``)
        flow (str, optional): ``"source_to_target"`` or ``"target_to_source"``.
            (default: ``"source_to_target"``)
        node_dim (int, optional): the axis of node features along which to gather and
            aggregate. (default: ``-2``)
        decomposed_layers (int, optional): split the feature dimension into this many
            chunks and propagate them one after another, trading speed for peak memory.
            (default: ``1``)
    """

    special_args = SPECIAL_ARGS

    def __init__(self, aggr: Union[str, List[str], torch.nn.Module, None] = "sum", *,
                 aggr_kwargs: Optional[Dict[str, Any]] = None,
                 flow: str = "source_to_target", node_dim: int = -2,
                 decomposed_layers: int = 1):
        super().__init__()
        if flow not in FLOWS:
            raise ValueError(f"{type(self).__name__}: unknown flow '{flow}'; expected one of "
                             f"{', '.join(FLOWS)}")
        if not isinstance(decomposed_layers, int) or decomposed_layers < 1:
            raise ValueError(f"{type(self).__name__}: 'decomposed_layers' must be a positive "
                             f"int, got {decomposed_layers!r}")
        from gfx.nn.aggr.base import Aggregation
        from gfx.nn.aggr.resolver import aggregation_resolver
        if aggr is None:
            self.aggr, self.aggr_module = None, None
        else:
            self.aggr_module = aggregation_resolver(aggr, **(aggr_kwargs or {}))
            # ``aggr`` describes the aggregation; only ``aggr_module`` holds parameters
            # (a module stored under both names would duplicate checkpoint keys).
            if isinstance(aggr, str):
                self.aggr = aggr
            elif isinstance(aggr, Aggregation):
                self.aggr = type(aggr).__name__
            else:
                self.aggr = [a if isinstance(a, str) else type(a).__name__ for a in aggr]
        self.flow = flow
        self.node_dim = node_dim
        self.decomposed_layers = decomposed_layers

        self._message_sig = Signature(self.message, skip_first=False)
        self._aggregate_sig = Signature(self.aggregate, skip_first=True)
        self._update_sig = Signature(self.update, skip_first=True)
        self._mp_and_aggr_sig = Signature(self.message_and_aggregate, skip_first=True)
        self._edge_update_sig = Signature(self.edge_update, skip_first=False)
        self._fuse = _overrides(self, "message_and_aggregate")

        for point in HOOK_POINTS:
            setattr(self, f"_{point}_forward_pre_hooks", OrderedDict())
            setattr(self, f"_{point}_forward_hooks", OrderedDict())

        self._explain: Optional[bool] = None
        self._edge_mask: Optional[Tensor] = None
        self._loop_mask: Optional[Tensor] = None
        self._apply_sigmoid: bool = True

    def reset_parameters(self) -> None:
        """Re-initialise learnable parameters (the aggregation's, by default)."""
        if self.aggr_module is not None and hasattr(self.aggr_module, "reset_parameters"):
            self.aggr_module.reset_parameters()

    # ------------------------------------------------------------------ explain
    @property
    def explain(self) -> Optional[bool]:
        """When ``True``, messages are multiplied by ``sigmoid(edge_mask)`` (explainers)."""
        return self._explain

    @explain.setter
    def explain(self, value: Optional[bool]) -> None:
        if value and self._fuse:
            raise ValueError(f"{type(self).__name__}: explain mode needs materialised "
                             f"messages; this layer overrides message_and_aggregate")
        self._explain = value

    # ------------------------------------------------------------------ hooks
    def _register_hook(self, point: str, kind: str, hook) -> RemovableHandle:
        hooks = getattr(self, f"_{point}_forward_{kind}")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def register_propagate_forward_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, (edge_index, size, kwargs))`` -> ``None`` or new inputs."""
        return self._register_hook("propagate", "pre_hooks", hook)

    def register_propagate_forward_hook(self, hook) -> RemovableHandle:
        """``hook(module, (edge_index, size, kwargs), output)`` -> ``None`` or new output."""
        return self._register_hook("propagate", "hooks", hook)

    def register_message_forward_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, (kwargs,))`` -> ``None`` or new ``(kwargs,)``."""
        return self._register_hook("message", "pre_hooks", hook)

    def register_message_forward_hook(self, hook) -> RemovableHandle:
        """``hook(module, (kwargs,), output)`` -> ``None`` or new output."""
        return self._register_hook("message", "hooks", hook)

    def register_aggregate_forward_pre_hook(self, hook) -> RemovableHandle:
        return self._register_hook("aggregate", "pre_hooks", hook)

    def register_aggregate_forward_hook(self, hook) -> RemovableHandle:
        return self._register_hook("aggregate", "hooks", hook)

    def register_message_and_aggregate_forward_pre_hook(self, hook) -> RemovableHandle:
        return self._register_hook("message_and_aggregate", "pre_hooks", hook)

    def register_message_and_aggregate_forward_hook(self, hook) -> RemovableHandle:
        return self._register_hook("message_and_aggregate", "hooks", hook)

    def register_edge_update_forward_pre_hook(self, hook) -> RemovableHandle:
        return self._register_hook("edge_update", "pre_hooks", hook)

    def register_edge_update_forward_hook(self, hook) -> RemovableHandle:
        return self._register_hook("edge_update", "hooks", hook)

    def _call_with_hooks(self, point: str, fn, first, kwargs: Dict[str, Any]):
        """Run ``fn(first, **kwargs)`` (or ``fn(**kwargs)``) between its hooks."""
        for hook in getattr(self, f"_{point}_forward_pre_hooks").values():
            res = hook(self, (kwargs,))
            if res is not None:
                kwargs = res[0] if isinstance(res, tuple) else res
        out = fn(**kwargs) if first is None else fn(first, **kwargs)
        for hook in getattr(self, f"_{point}_forward_hooks").values():
            res = hook(self, (kwargs,), out)
            if res is not None:
                out = res
        return out

    # ------------------------------------------------------------------ input checks
    def _check_input(self, edge_index, size: Size) -> Tuple[Size, Optional[Tensor]]:
        """Validate the connectivity; return the size it implies and ``adj_t`` if sparse."""
        name = type(self).__name__
        if is_torch_sparse_tensor(edge_index):
            if self.flow == "target_to_source":
                raise ValueError(f"{name}: flow='target_to_source' is not supported for "
                                 f"sparse adjacency input; pass an edge_index instead")
            if edge_index.dim() < 2:
                raise ValueError(f"{name}: a sparse adjacency must be 2-D, got "
                                 f"{edge_index.dim()}-D")
            return (edge_index.shape[1], edge_index.shape[0]), edge_index
        if not _is_tensor(edge_index):
            raise TypeError(f"{name}: 'edge_index' must be a Tensor of shape [2, num_edges] "
                            f"or a torch.sparse adjacency, got {type(edge_index).__name__}")
        if is_tracing(edge_index):
            return size, None
        if edge_index.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"{name}: 'edge_index' must be int64 or int32, got "
                            f"{edge_index.dtype}")
        if edge_index.dim() != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"{name}: 'edge_index' must have shape [2, num_edges], got "
                             f"{list(edge_index.shape)}")
        if size is not None:
            if len(size) != 2:
                raise ValueError(f"{name}: 'size' must be (num_sources, num_targets), got "
                                 f"{size!r}")
            size = tuple(size)
        return size, None

    @staticmethod
    def _size_list(size) -> List[Any]:
        if size is None:
            return [None, None]
        if isinstance(size, torch.fx.Proxy):  # traced: a tuple known only at run time
            return [size[0], size[1]]
        return list(size)

    # ------------------------------------------------------------------ collection
    def _lift_positions(self) -> Tuple[int, int]:
        """``(i, j)``: which row of ``edge_index`` holds the target and the source."""
        return (1, 0) if self.flow == "source_to_target" else (0, 1)

    def _set_size(self, size: List[Optional[int]], dim: int, value: Tensor, arg: str) -> None:
        n = value.shape[self.node_dim]
        if size[dim] is None:
            size[dim] = n
        elif not is_tracing(value) and size[dim] != n:
            side = "source" if dim == self._lift_positions()[1] else "target"
            raise ValueError(
                f"{type(self).__name__}: '{arg}' has {n} nodes along node_dim="
                f"{self.node_dim}, but the {side} side of the graph has {size[dim]} nodes")

    def _collect(self, names: List[str], defaults: Dict[str, Any], edge_index,
                 size: List[Optional[int]], kwargs: Dict[str, Any], method: str
                 ) -> Dict[str, Any]:
        """Fill the arguments of ``method`` by name; lift ``_i``/``_j`` to edges."""
        i, j = self._lift_positions()
        out: Dict[str, Any] = {}
        lifted: Dict[str, Tuple[Tensor, int]] = {}
        for arg in names:
            if arg in SPECIAL_ARGS:
                continue
            if arg[-2:] in ("_i", "_j") and arg not in kwargs and arg[:-2] in kwargs:
                dim = j if arg.endswith("_j") else i
                data = kwargs[arg[:-2]]
                if isinstance(data, (tuple, list)):
                    if len(data) != 2:
                        raise ValueError(f"{type(self).__name__}: '{arg[:-2]}' must be a "
                                         f"tensor or a (source, target) pair")
                    if _is_tensor(data[1 - dim]):  # the pair also sizes the other side
                        self._set_size(size, 1 - dim, data[1 - dim], arg[:-2])
                    data = data[dim]
                if _is_tensor(data):
                    self._set_size(size, dim, data, arg[:-2])
                    lifted[arg] = (data, dim)
                else:
                    out[arg] = data
            elif arg in kwargs:
                out[arg] = kwargs[arg]
            elif arg in defaults:
                out[arg] = defaults[arg]
            else:
                raise TypeError(
                    f"{type(self).__name__}.{method}() needs '{arg}', but propagate() got "
                    f"no such keyword argument" + (
                        f" (nor '{arg[:-2]}' to lift from)" if arg[-2:] in ("_i", "_j") else ""))
        if size[0] is None and size[1] is not None:
            size[0] = size[1]
        if size[1] is None and size[0] is not None:
            size[1] = size[0]
        if not is_torch_sparse_tensor(edge_index):
            self._check_index_range(edge_index, size)
            for arg, (data, dim) in lifted.items():
                out[arg] = gather(data, edge_index[dim], self.node_dim)
            out.update(self._special(edge_index, size, i, j, names))
        else:
            out.update(self._special_sparse(edge_index, size, names))
        return out

    def _check_index_range(self, edge_index: Tensor, size: List[Optional[int]]) -> None:
        """Every source/target id must name an existing node (eager only: reads data)."""
        if is_tracing(edge_index) or edge_index.numel() == 0 or edge_index.is_meta:
            return
        for row in (0, 1):
            if size[row] is None:
                continue
            lo, hi = int(edge_index[row].min()), int(edge_index[row].max())
            if lo < 0 or hi >= size[row]:
                side = "sources" if row == self._lift_positions()[1] else "targets"
                bad = lo if lo < 0 else hi
                raise IndexError(
                    f"{type(self).__name__}: edge_index[{row}] ({side}) contains node {bad}, "
                    f"but there are {size[row]} {side[:-1]} nodes (valid ids 0..{size[row] - 1})")

    def _special(self, edge_index: Tensor, size, i: int, j: int, names) -> Dict[str, Any]:
        values = {
            "edge_index": edge_index, "edge_index_i": edge_index[i],
            "edge_index_j": edge_index[j], "index": edge_index[i], "ptr": None,
            "size": tuple(size), "size_i": size[i], "size_j": size[j], "dim_size": size[i],
            "adj_t": None}
        return {k: v for k, v in values.items() if k in names}

    def _special_sparse(self, adj_t: Tensor, size, names) -> Dict[str, Any]:
        values = {"adj_t": adj_t, "edge_index": adj_t, "size": tuple(size),
                  "size_i": size[1], "size_j": size[0], "dim_size": size[1]}
        return {k: v for k, v in values.items() if k in names}

    # ------------------------------------------------------------------ propagate
    def propagate(self, edge_index, size: Size = None, **kwargs) -> Any:
        """Run message passing over ``edge_index``.

        Args:
            edge_index (Tensor): ``[2, num_edges]`` integer connectivity (row 0 sources,
                row 1 targets for ``flow="source_to_target"``), or a torch.sparse
                ``adj_t`` of shape ``[num_targets, num_sources]``.
            size ((int, int), optional): ``(num_sources, num_targets)``; inferred from the
                lifted node tensors (square when only one side is known).
                (default: ``None``)
            **kwargs: everything ``message``, ``aggregate`` and ``update`` need.
        """
        for hook in self._propagate_forward_pre_hooks.values():
            res = hook(self, (edge_index, size, kwargs))
            if res is not None:
                edge_index, size, kwargs = res
        size, adj_t = self._check_input(edge_index, size)
        size = self._size_list(size)

        if adj_t is not None and self._fuse:
            coll = self._collect(self._mp_and_aggr_sig.names, self._mp_and_aggr_sig.defaults,
                                 adj_t, size, kwargs, "message_and_aggregate")
            coll.pop("adj_t", None)
            out = self._call_with_hooks("message_and_aggregate", self.message_and_aggregate,
                                        adj_t, coll)
        else:
            if adj_t is not None:
                edge_index, _ = adj_t_to_edge_index(adj_t)
            if self.decomposed_layers > 1:
                out = self._decomposed_message_aggregate(edge_index, size, kwargs)
            else:
                out = self._message_aggregate(edge_index, size, kwargs)
        upd = self._collect(self._update_sig.names, self._update_sig.defaults, edge_index,
                            size, kwargs, "update")
        out = self.update(out, **upd)

        for hook in self._propagate_forward_hooks.values():
            res = hook(self, (edge_index, size, kwargs), out)
            if res is not None:
                out = res
        return out

    def _message_aggregate(self, edge_index: Tensor, size, kwargs) -> Any:
        msg_kwargs = self._collect(self._message_sig.names, self._message_sig.defaults,
                                   edge_index, size, kwargs, "message")
        out = self._call_with_hooks("message", self.message, None, msg_kwargs)
        if self._explain:
            out = self._apply_edge_mask(out)
        aggr_kwargs = self._collect(self._aggregate_sig.names, self._aggregate_sig.defaults,
                                    edge_index, size, kwargs, "aggregate")
        # Only what the (possibly user-written) signature takes, e.g. aggregate(inputs, index).
        sig = self._aggregate_sig
        i = self._lift_positions()[0]
        for name, value in (("index", edge_index[i]), ("dim_size", size[i]), ("ptr", None)):
            if name in sig.names or (sig.takes_any_keyword and name != "ptr"):
                aggr_kwargs.setdefault(name, value)
        return self._call_with_hooks("aggregate", self.aggregate, out, aggr_kwargs)

    def _decomposed_message_aggregate(self, edge_index: Tensor, size, kwargs) -> Tensor:
        """Propagate ``decomposed_layers`` feature chunks one by one (lower peak memory)."""
        lifted = {name[:-2] for name in self._message_sig.names if name[-2:] in ("_i", "_j")}
        chunks: Dict[str, List[Any]] = {}
        for key in lifted & kwargs.keys():
            value = kwargs[key]
            if _is_tensor(value):
                chunks[key] = list(value.tensor_split(self.decomposed_layers, dim=-1))
            elif isinstance(value, (tuple, list)):
                parts = [None if v is None else v.tensor_split(self.decomposed_layers, dim=-1)
                         for v in value]
                chunks[key] = [tuple(None if p is None else p[k] for p in parts)
                               for k in range(self.decomposed_layers)]
        outs = []
        for k in range(self.decomposed_layers):
            part = dict(kwargs)
            part.update({key: pieces[k] for key, pieces in chunks.items()})
            outs.append(self._message_aggregate(edge_index, list(size), part))
        return torch.cat(outs, dim=-1)

    def _apply_edge_mask(self, out: Tensor) -> Tensor:
        mask = self._edge_mask
        if mask is None:
            raise ValueError(f"{type(self).__name__}: explain=True but no edge mask is set")
        if self._apply_sigmoid:
            mask = mask.sigmoid()
        # Layers that add self-loops append them after the original edges (see
        # gfx.utils.add_self_loops): those extra messages are kept with weight 1.  Layers
        # that first remove existing loops (add_remaining_self_loops) drop those edges'
        # entries: ``_loop_mask`` (set with the mask, True for non-loop edges) picks the
        # entries of the edges that remain.
        if self._loop_mask is not None and not is_tracing(out) and \
                out.shape[self.node_dim] != mask.shape[0]:
            mask = mask[self._loop_mask]
        if is_tracing(out):  # sizes unknown: pad by the difference, possibly zero
            mask = torch.cat([mask, mask.new_ones(out.shape[self.node_dim] - mask.shape[0])])
        elif out.shape[self.node_dim] != mask.shape[0]:
            extra = out.shape[self.node_dim] - mask.shape[0]
            if extra < 0:
                raise ValueError(f"{type(self).__name__}: edge mask has {mask.shape[0]} "
                                 f"entries but there are only {out.shape[self.node_dim]} "
                                 f"messages")
            mask = torch.cat([mask, mask.new_ones(extra)])
        return (out.movedim(self.node_dim, -1) * mask).movedim(-1, self.node_dim)

    # ------------------------------------------------------------------ overridables
    def message(self, x_j: Tensor) -> Tensor:
        """The message :math:`\\phi` from each source ``j`` to each target ``i`` (per edge)."""
        return x_j

    def aggregate(self, inputs: Tensor, index: Tensor, ptr: Optional[Tensor] = None,
                  dim_size: Optional[int] = None) -> Tensor:
        """Reduce messages per target node with the layer's aggregation module."""
        if self.aggr_module is None:
            raise NotImplementedError(f"{type(self).__name__} was built with aggr=None and "
                                      f"must override aggregate()")
        return self.aggr_module(inputs, index, ptr=ptr, dim_size=dim_size, dim=self.node_dim)

    def message_and_aggregate(self, adj_t: Tensor) -> Tensor:
        """Fused message + aggregate over a sparse ``adj_t``; override to use it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement "
                                  f"message_and_aggregate")

    def update(self, inputs: Tensor) -> Tensor:
        """The node update :math:`\\gamma`, applied to the aggregated messages."""
        return inputs

    def edge_update(self) -> Tensor:
        """Per-edge computation run by :meth:`edge_updater`; override to use it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement edge_update")

    def edge_updater(self, edge_index, size: Size = None, **kwargs) -> Any:
        """Compute per-edge values with :meth:`edge_update`, lifting ``_i``/``_j`` args."""
        size, adj_t = self._check_input(edge_index, size)
        if adj_t is not None:
            edge_index, _ = adj_t_to_edge_index(adj_t)
        size = self._size_list(size)
        coll = self._collect(self._edge_update_sig.names, self._edge_update_sig.defaults,
                             edge_index, size, kwargs, "edge_update")
        return self._call_with_hooks("edge_update", self.edge_update, None, coll)

    def __repr__(self) -> str:
        channels = [getattr(self, a) for a in ("in_channels", "out_channels") if hasattr(self, a)]
        return f"{type(self).__name__}({', '.join(map(str, channels))})"
