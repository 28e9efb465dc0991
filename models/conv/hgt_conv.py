"""``HGTConv``: the Heterogeneous Graph Transformer operator (Hu et al., WWW 2020)."""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.dense.linear import HeteroDictLinear, HeteroLinear
from gfx.ops._checks import is_tracing
from gfx.utils import softmax
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

EdgeType = Tuple[str, str, str]
Metadata = Tuple[List[str], List[EdgeType]]


def check_metadata(owner: str, metadata: Metadata) -> Tuple[List[str], List[EdgeType]]:
    """Validate ``(node_types, edge_types)``; names become parameter keys, so no ``.``."""
    if not (isinstance(metadata, (tuple, list)) and len(metadata) == 2):
        raise ValueError(f"{owner}: 'metadata' must be (node_types, edge_types)")
    node_types, edge_types = list(metadata[0]), [tuple(et) for et in metadata[1]]
    for node_type in node_types:
        if not isinstance(node_type, str) or not node_type or "." in node_type:
            raise ValueError(f"{owner}: node type {node_type!r} must be a non-empty string "
                             f"without '.' (it names parameters)")
    for edge_type in edge_types:
        if len(edge_type) != 3 or not all(isinstance(p, str) for p in edge_type) \
                or any("." in p for p in edge_type):
            raise ValueError(f"{owner}: edge type {edge_type!r} must be a (source, relation, "
                             f"destination) tuple of strings without '.'")
        for node_type in (edge_type[0], edge_type[2]):
            if node_type not in node_types:
                raise ValueError(f"{owner}: edge type {edge_type!r} uses node type "
                                 f"{node_type!r}, which is not in the node types {node_types}")
    return node_types, edge_types


def present(types: list, values) -> list:
    """The ``types`` that ``values`` holds; every one while tracing (a proxy has no keys)."""
    if isinstance(values, dict):
        return [t for t in types if t in values]
    return list(types)


def check_inputs(owner: str, x_dict, edge_index_dict, edge_types: list,
                 in_channels: Dict[str, int]) -> None:
    """Eager checks: dict inputs, known edge types, features of the right size for every
    node type used."""
    if not isinstance(x_dict, dict) or not isinstance(edge_index_dict, dict):
        if is_tracing(x_dict) or is_tracing(edge_index_dict):
            return
        raise TypeError(f"{owner}: 'x_dict' and 'edge_index_dict' must be dicts keyed by "
                        f"node and edge types")
    unknown = [et for et in edge_index_dict if tuple(et) not in edge_types]
    if unknown:
        raise ValueError(f"{owner}: edge_index_dict has edge types {unknown} that are not "
                         f"in the metadata {edge_types}")
    used = sorted({et[0] for et in edge_index_dict} | {et[2] for et in edge_index_dict})
    missing = [nt for nt in used if nt not in x_dict]
    if missing:
        raise KeyError(f"{owner}: x_dict has no features for node type(s) {missing}, which "
                       f"edge_index_dict uses")
    for nt, x in x_dict.items():
        expected = in_channels.get(nt, -1)
        if is_tracing(x) or not isinstance(x, Tensor) or expected <= 0:
            continue
        if x.dim() != 2 or x.shape[-1] != expected:
            raise ValueError(f"{owner}: x_dict[{nt!r}] must have shape [num_nodes, {expected}] "
                             f"(in_channels[{nt!r}]={expected}), got {list(x.shape)}")


def as_edge_index(edge_index):
    """A ``[2, E]`` edge index (a sparse ``adj_t`` is converted)."""
    if is_torch_sparse_tensor(edge_index):
        return adj_t_to_edge_index(edge_index)[0]
    return edge_index


class HGTConv(MessagePassing):
    """The Heterogeneous Graph Transformer operator of "Heterogeneous Graph Transformer".

    For a target :math:`i` of type :math:`\\tau(i)` and an edge :math:`(j, i)` of type
    :math:`\\phi`, with :math:`H` heads of size :math:`D = F'/H`:

    .. math::
        \\alpha^{h}_{j,i} = \\mathrm{softmax}_{j \\in \\mathcal{N}(i)}\\Big(
        \\frac{\\mu^h_{\\phi}}{\\sqrt{D}} \\, \\mathbf{q}^h_i \\cdot
        \\big(\\mathbf{k}^h_j \\mathbf{W}^{h}_{K,\\phi}\\big)\\Big), \\qquad
        \\mathbf{m}_i = \\Big\\Vert_{h=1}^{H} \\sum_{j \\in \\mathcal{N}(i)}
        \\alpha^h_{j,i} \\, \\mathbf{v}^h_j \\mathbf{W}^{h}_{V,\\phi}

    where :math:`[\\mathbf{k} \\| \\mathbf{q} \\| \\mathbf{v}]` is the node-type specific
    map ``kqv_lin`` of the input, :math:`\\mathbf{W}_{K}, \\mathbf{W}_{V}` are per edge
    type and head (``k_rel``, ``v_rel``: weight ``[H * T, D, D]``, entry
    ``h * T + t`` for head :math:`h` of the :math:`t`-th edge type) and :math:`\\mu`
    (``p_rel``) is a learnable prior per edge type and head.  The softmax runs over the
    incoming edges of *all* edge types of node :math:`i` together.  Then

    .. math::
        \\mathbf{x}'_i = \\beta_{\\tau(i)} \\, \\mathrm{A}_{\\tau(i)}(
        \\mathrm{GELU}(\\mathbf{m}_i)) + (1 - \\beta_{\\tau(i)}) \\, \\mathbf{x}_i

    with the node-type specific map :math:`\\mathrm{A}` (``out_lin``) and
    :math:`\\beta = \\sigma(\\mathrm{skip})`; the skip term is used only for node types
    whose input size equals ``out_channels``.

    The output holds every node type that is a destination of some edge type in the
    metadata (and has features in ``x_dict``); a node without incoming edges gets
    :math:`\\mathbf{m}_i = 0`.  Edge types absent from ``edge_index_dict`` are skipped.

    Args:
        in_channels (int or dict): input features per node type (``-1`` for lazy).
        out_channels (int): output features :math:`F'`, divisible by ``heads``.
        metadata ((list, list)): the node types and the edge types
            ``(src, rel, dst)``.
        heads (int, optional): attention heads :math:`H`. (default: ``1``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x_dict`` ``{type: [N_type, in]}``, ``edge_index_dict``
    ``{edge_type: [2, E_type]}`` -> ``{type: [N_type, out_channels]}``.
    """

    def __init__(self, in_channels: Union[int, Dict[str, int]], out_channels: int,
                 metadata: Metadata, heads: int = 1, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(node_dim=0, **kwargs)
        if heads < 1 or out_channels % heads != 0:
            raise ValueError(f"HGTConv: out_channels={out_channels} must be divisible by "
                             f"heads={heads}")
        self.node_types, self.edge_types = check_metadata("HGTConv", metadata)
        if not isinstance(in_channels, dict):
            in_channels = {node_type: in_channels for node_type in self.node_types}
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.dst_node_types = {edge_type[-1] for edge_type in self.edge_types}
        dim = out_channels // heads
        self.kqv_lin = HeteroDictLinear(in_channels, out_channels * 3)
        self.out_lin = HeteroDictLinear(out_channels, out_channels, types=self.node_types)
        self.k_rel = HeteroLinear(dim, dim, heads * len(self.edge_types), is_sorted=True,
                                  bias=False)
        self.v_rel = HeteroLinear(dim, dim, heads * len(self.edge_types), is_sorted=True,
                                  bias=False)
        self.skip = torch.nn.ParameterDict(
            {node_type: Parameter(torch.empty(1)) for node_type in self.node_types})
        self.p_rel = torch.nn.ParameterDict(
            {"__".join(et): Parameter(torch.empty(1, heads)) for et in self.edge_types})
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.kqv_lin.reset_parameters()
        self.out_lin.reset_parameters()
        self.k_rel.reset_parameters()
        self.v_rel.reset_parameters()
        inits.ones(self.skip)
        inits.ones(self.p_rel)

    def _relation_weights(self, rel: HeteroLinear, t: int) -> Tensor:
        """``[H, D, D]``: the maps of edge type ``t`` for every head."""
        dim = self.out_channels // self.heads
        return rel.weight.view(self.heads, len(self.edge_types), dim, dim)[:, t]

    def forward(self, x_dict: Dict[str, Tensor],
                edge_index_dict: Dict[EdgeType, Tensor]) -> Dict[str, Tensor]:
        heads, dim = self.heads, self.out_channels // self.heads
        check_inputs("HGTConv", x_dict, edge_index_dict, self.edge_types, self.in_channels)
        edge_types = present(self.edge_types, edge_index_dict)
        node_types = present(self.node_types, x_dict)
        kqv = self.kqv_lin({nt: x_dict[nt] for nt in node_types})
        k, q, v = {}, {}, {}
        width = self.out_channels
        for nt in node_types:  # slices, not split(): a traced split cannot be unpacked
            k[nt] = kqv[nt][:, :width].reshape(-1, heads, dim)
            q[nt] = kqv[nt][:, width:2 * width].reshape(-1, heads, dim)
            v[nt] = kqv[nt][:, 2 * width:].reshape(-1, heads, dim)

        # Targets: the destination node types, one after the other.
        dst_types = [nt for nt in node_types if nt in self.dst_node_types]
        if not dst_types:
            return {}
        dst_offset, offset = {}, 0
        for nt in dst_types:
            dst_offset[nt] = offset
            offset = offset + q[nt].shape[0]
        q_all = torch.cat([q[nt] for nt in dst_types], dim=0)

        if edge_types:
            # Sources: per edge type, the source nodes' keys and values mapped by that
            # edge type's relation matrices, one block per edge type.
            keys, values, edges, priors, src_offset = [], [], [], [], 0
            for et in edge_types:
                t = self.edge_types.index(et)
                src = et[0]
                keys.append(torch.einsum("nhd,hde->nhe", k[src],
                                         self._relation_weights(self.k_rel, t)))
                values.append(torch.einsum("nhd,hde->nhe", v[src],
                                           self._relation_weights(self.v_rel, t)))
                edge_index = as_edge_index(edge_index_dict[et])
                edges.append(torch.stack([edge_index[0] + src_offset,
                                          edge_index[1] + dst_offset[et[2]]]))
                priors.append(self.p_rel["__".join(et)].expand(edge_index.shape[1], heads))
                src_offset = src_offset + k[src].shape[0]
            out = self.propagate(torch.cat(edges, dim=1), k=torch.cat(keys, dim=0), q=q_all,
                                 v=torch.cat(values, dim=0), prior=torch.cat(priors, dim=0),
                                 size=(src_offset, offset))
        else:
            out = q_all.new_zeros(q_all.shape[0], self.out_channels)

        out_dict = {}
        for nt in dst_types:
            part = out[dst_offset[nt]:dst_offset[nt] + q[nt].shape[0]]
            part = self.out_lin.lins[nt](F.gelu(part))
            if self.kqv_lin.lins[nt].in_channels == self.out_channels:
                beta = self.skip[nt].sigmoid()
                part = beta * part + (1 - beta) * x_dict[nt]
            out_dict[nt] = part
        return out_dict

    def message(self, k_j: Tensor, q_i: Tensor, v_j: Tensor, prior: Tensor, index: Tensor,
                size_i: Optional[int]) -> Tensor:
        dim = self.out_channels // self.heads
        alpha = (q_i * k_j).sum(dim=-1) * prior / math.sqrt(dim)
        alpha = softmax(alpha, index, num_nodes=size_i)
        return (v_j * alpha.unsqueeze(-1)).reshape(-1, self.out_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(-1, {self.out_channels}, heads={self.heads})"


__all__ = ["HGTConv"]
