"""Explaining models with Captum: wrap a GNN so attribution methods see masks as inputs.

# NOTE [captum masks]
Captum attributes an output to the *inputs* of a function, along a leading batch
dimension.  For a GNN the interesting inputs are node features and edges, so:

* ``"node"``: the input is ``x`` itself, ``[1, N, F]``; attributions have its shape;
* ``"edge"``: the input is an edge mask ``m`` of ones, ``[1, E]``; every message
  :math:`\\mathbf{m}_{j \\to i}` of every :class:`~gfx.nn.MessagePassing` layer is
  multiplied by :math:`m_{ji}` (raw, no sigmoid), so :math:`\\partial y / \\partial m`
  measures each edge's contribution;
* ``"node_and_edge"``: both, ``(x, m)``.

Captum evaluates one mask per call (``internal_batch_size=1``): the leading dimension
must be 1.  For heterogeneous graphs the inputs are one tensor per node type (in the
order of ``metadata[0]``) and then one mask per edge type (order of ``metadata[1]``);
:func:`captum_output_to_dicts` turns Captum's tuple back into per-type dictionaries.
The package ``captum`` is only needed to run attribution methods, not for these
helpers.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing

MASK_TYPES = ("edge", "node", "node_and_edge")
Metadata = Tuple[List[str], List[Tuple[str, str, str]]]


def _mask_type(mask_type) -> str:
    value = getattr(mask_type, "value", mask_type)
    if value not in MASK_TYPES:
        raise ValueError(f"'mask_type' must be one of {', '.join(map(repr, MASK_TYPES))}, "
                         f"got {mask_type!r}")
    return value


def _set_edge_mask(module: MessagePassing, mask: Tensor, edge_index: Tensor) -> None:
    module.explain = True
    module._edge_mask = mask
    module._loop_mask = edge_index[0] != edge_index[1]  # entries kept if loops are re-added
    module._apply_sigmoid = False


def _clear_edge_masks(model: torch.nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, MessagePassing):
            module.explain = None
            module._edge_mask = None
            module._loop_mask = None
            module._apply_sigmoid = True


class CaptumModel(torch.nn.Module):
    """A homogeneous GNN as a function of Captum inputs (see NOTE [captum masks]).

    ``forward`` takes ``(edge_mask, x, edge_index, *args)`` for ``"edge"``,
    ``(x, edge_index, *args)`` for ``"node"`` and ``(x, edge_mask, edge_index, *args)``
    for ``"node_and_edge"``, where the Captum inputs carry a leading dimension of 1.

    Args:
        model (torch.nn.Module): the model, called as ``model(x, edge_index, *args)``.
        mask_type (str, optional): ``"edge"``, ``"node"`` or ``"node_and_edge"``.
            (default: ``"edge"``)
        output_idx (int, optional): return only ``out[output_idx]`` (with a leading
            dimension of 1). (default: ``None``)
    """

    def __init__(self, model: torch.nn.Module, mask_type: str = "edge",
                 output_idx: Optional[int] = None):
        super().__init__()
        self.mask_type = _mask_type(mask_type)
        self.model = model
        self.output_idx = output_idx

    def _select(self, out):
        if self.output_idx is None:
            return out
        if not isinstance(out, Tensor):
            raise TypeError(f"{type(self).__name__}: 'output_idx' needs a model that returns "
                            f"a tensor, got {type(out).__name__}")
        return out[self.output_idx].unsqueeze(0)

    @staticmethod
    def _one(value: Tensor, what: str) -> Tensor:
        if value.shape[0] != 1:
            raise ValueError(f"the {what} must have a leading dimension of 1 (use Captum's "
                             f"internal_batch_size=1), got shape {list(value.shape)}")
        return value[0]

    def forward(self, mask, *args):
        if self.mask_type == "node":
            x = self._one(mask, "node input")
            return self._select(self.model(x, *args))
        if self.mask_type == "edge":
            edge_mask = self._one(mask, "edge mask")
            x, edge_index, *rest = args
        else:
            x = self._one(mask, "node input")
            edge_mask = self._one(args[0], "edge mask")
            edge_index, *rest = args[1:]
        self._set_masks(edge_mask, edge_index)
        try:
            out = self.model(x, edge_index, *rest)
        finally:
            _clear_edge_masks(self.model)
        return self._select(out)

    def _set_masks(self, edge_mask: Tensor, edge_index: Tensor) -> None:
        for module in self.model.modules():
            if isinstance(module, MessagePassing):
                _set_edge_mask(module, edge_mask, edge_index)


class CaptumHeteroModel(CaptumModel):
    """A heterogeneous GNN (e.g. from :func:`~gfx.nn.to_hetero`) as a function of Captum
    inputs: one tensor per node type, then one edge mask per edge type, then
    ``edge_index_dict`` (and ``x_dict`` first for ``"edge"``), then extra arguments.

    Edge masks are set on the per-edge-type submodules (``ModuleDict`` entries keyed by
    the edge type); the model must return a tensor when ``output_idx`` is given.

    Args:
        model (torch.nn.Module): the model, called as
            ``model(x_dict, edge_index_dict, *args)``.
        mask_type (str, optional): ``"edge"``, ``"node"`` or ``"node_and_edge"``.
            (default: ``"edge"``)
        output_idx (int, optional): return only ``out[output_idx]``. (default: ``None``)
        metadata (Metadata): ``(node_types, edge_types)`` of the graph.
    """

    def __init__(self, model: torch.nn.Module, mask_type: str = "edge",
                 output_idx: Optional[int] = None, metadata: Optional[Metadata] = None):
        super().__init__(model, mask_type, output_idx)
        if metadata is None or len(metadata) != 2:
            raise ValueError("CaptumHeteroModel: 'metadata' must be (node_types, edge_types)")
        self.node_types = list(metadata[0])
        self.edge_types = [tuple(t) for t in metadata[1]]
        self.num_node_types = len(self.node_types)
        self.num_edge_types = len(self.edge_types)

    def forward(self, *args):
        n, e = self.num_node_types, self.num_edge_types
        if self.mask_type == "node":
            x_dict = {t: self._one(v, "node input") for t, v in zip(self.node_types, args[:n])}
            return self._select(self.model(x_dict, *args[n:]))
        if self.mask_type == "edge":
            masks, (x_dict, edge_index_dict, *rest) = args[:e], args[e:]
        else:
            x_dict = {t: self._one(v, "node input") for t, v in zip(self.node_types, args[:n])}
            masks, (edge_index_dict, *rest) = args[n:n + e], args[n + e:]
        mask_dict = {t: self._one(m, "edge mask") for t, m in zip(self.edge_types, masks)}
        self._apply_hetero(mask_dict, edge_index_dict)
        try:
            out = self.model(x_dict, edge_index_dict, *rest)
        finally:
            _clear_edge_masks(self.model)
        return self._select(out)

    def _apply_hetero(self, mask_dict: Dict[Tuple[str, str, str], Tensor],
                      edge_index_dict: Dict[Tuple[str, str, str], Tensor]) -> None:
        keys = _edge_type_keys(self.node_types, self.edge_types)
        for module in self.model.modules():
            if not isinstance(module, torch.nn.ModuleDict):
                continue
            for edge_type, mask in mask_dict.items():
                for key in keys[edge_type]:
                    if key in module and isinstance(module[key], MessagePassing):
                        _set_edge_mask(module[key], mask, edge_index_dict[edge_type])


def _edge_type_keys(node_types, edge_types) -> Dict[Tuple[str, str, str], set]:
    """Submodule names that ``to_hetero`` may give each edge type: the reference's
    ``"src__rel__dst"`` and gfx's (which escapes names that would collide)."""
    keys = {t: {"__".join(t), "__".join(t).replace(" ", "_").replace("-", "_")}
            for t in edge_types}
    try:
        from gfx.passes._hetero_common import type_keys
        for t, key in type_keys([*node_types, *edge_types]).items():
            if t in keys:
                keys[t].add(key)
    except ImportError:  # the plain keys above cover ordinary type names
        pass
    return keys


def to_captum_model(model: torch.nn.Module, mask_type: str = "edge",
                    output_idx: Optional[int] = None,
                    metadata: Optional[Metadata] = None
                    ) -> Union[CaptumModel, CaptumHeteroModel]:
    """Wrap a model so that Captum attribution methods can explain it.

    See NOTE [captum masks] for the inputs the wrapper takes; build them with
    :func:`to_captum_input`.

    Args:
        model (torch.nn.Module): the model to explain.
        mask_type (str, optional): ``"edge"``, ``"node"`` or ``"node_and_edge"``.
            (default: ``"edge"``)
        output_idx (int, optional): index of the output row (node or link) to explain;
            the wrapper then returns that row only. (default: ``None``)
        metadata (Metadata, optional): ``(node_types, edge_types)`` for a heterogeneous
            model. (default: ``None``)
    """
    if metadata is None:
        return CaptumModel(model, mask_type, output_idx)
    return CaptumHeteroModel(model, mask_type, output_idx, metadata)


def to_captum_input(x: Union[Tensor, Dict[str, Tensor]],
                    edge_index: Union[Tensor, Dict[Tuple[str, str, str], Tensor]],
                    mask_type: str, *args) -> Tuple[Tuple[Tensor, ...], Tuple]:
    """The ``inputs`` and ``additional_forward_args`` of Captum's ``attribute``.

    Args:
        x (Tensor or Dict[str, Tensor]): node features (per node type for a
            heterogeneous graph).
        edge_index (Tensor or Dict[EdgeType, Tensor]): edges (per edge type).
        mask_type (str): ``"edge"``, ``"node"`` or ``"node_and_edge"``.
        *args: further arguments of the model, appended to the additional arguments.

    Returns:
        ``(inputs, additional_forward_args)``: node inputs ``x.unsqueeze(0)`` and/or edge
        masks of ones ``[1, E]`` (requiring grad); then what the model also needs
        (``x`` for ``"edge"``, then ``edge_index``, then ``args``).
    """
    mask_type = _mask_type(mask_type)
    hetero = isinstance(x, dict)
    if hetero != isinstance(edge_index, dict):
        raise TypeError("to_captum_input: 'x' and 'edge_index' must both be tensors or both "
                        "be dictionaries")
    xs = list(x.values()) if hetero else [x]
    edges = list(edge_index.values()) if hetero else [edge_index]
    for e in edges:
        if not isinstance(e, Tensor) or e.dim() != 2 or e.shape[0] != 2:
            raise ValueError("to_captum_input: 'edge_index' must hold [2, E] tensors")
    inputs: List[Tensor] = []
    if mask_type in ("node", "node_and_edge"):
        inputs.extend(v.unsqueeze(0) for v in xs)
    if mask_type in ("edge", "node_and_edge"):
        inputs.extend(torch.ones(1, e.shape[1], dtype=torch.float, device=e.device,
                                 requires_grad=True) for e in edges)
    extra = (x, edge_index) if mask_type == "edge" else (edge_index,)
    return tuple(inputs), extra + tuple(args)


def captum_output_to_dicts(captum_attrs: Tuple[Tensor, ...], mask_type: str,
                           metadata: Metadata
                           ) -> Tuple[Optional[Dict[str, Tensor]],
                                      Optional[Dict[Tuple[str, str, str], Tensor]]]:
    """Split Captum's attributions of a heterogeneous model into per-type dictionaries.

    Args:
        captum_attrs (tuple of Tensor): the output of an attribution method: one tensor
            per node type (``[1, N_t, F_t]``) and/or one per edge type (``[1, E_t]``).
        mask_type (str): ``"edge"``, ``"node"`` or ``"node_and_edge"``.
        metadata (Metadata): ``(node_types, edge_types)`` of the graph.

    Returns:
        ``(node_attr_dict, edge_attr_dict)``, ``None`` for the kind that was not masked;
        the leading dimension of 1 is removed.
    """
    mask_type = _mask_type(mask_type)
    node_types, edge_types = list(metadata[0]), [tuple(t) for t in metadata[1]]
    expected = {"node": len(node_types), "edge": len(edge_types),
                "node_and_edge": len(node_types) + len(edge_types)}[mask_type]
    if len(captum_attrs) != expected:
        raise ValueError(f"captum_output_to_dicts: 'captum_attrs' must hold {expected} "
                         f"tensors for mask_type={mask_type!r} and this metadata, got "
                         f"{len(captum_attrs)}")
    node_dict = edge_dict = None
    rest = list(captum_attrs)
    if mask_type in ("node", "node_and_edge"):
        node_dict = {t: a.squeeze(0) for t, a in zip(node_types, rest[:len(node_types)])}
        rest = rest[len(node_types):]
    if mask_type in ("edge", "node_and_edge"):
        edge_dict = {t: a.squeeze(0) for t, a in zip(edge_types, rest)}
    return node_dict, edge_dict


__all__ = ["to_captum_model", "to_captum_input", "captum_output_to_dicts"]
