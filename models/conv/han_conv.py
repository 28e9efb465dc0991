"""``HANConv``: the Heterogeneous Graph Attention Network operator (Wang et al., WWW 2019)."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.hgt_conv import (EdgeType, Metadata, as_edge_index, check_inputs,
                                      check_metadata, present)
from gfx.nn.dense.linear import Linear
from gfx.ops._checks import is_tracing
from gfx.utils import softmax


class HANConv(MessagePassing):
    """The Heterogenous Graph Attention operator of "Heterogeneous Graph Attention Network".

    Node features are projected per node type, :math:`\\mathbf{h}_i =
    \\mathbf{W}_{\\tau(i)} \\mathbf{x}_i` (``proj``), and split into :math:`H` heads.  For
    every edge type :math:`\\phi` (node-level attention, one GAT per edge type):

    .. math::
        \\alpha^{\\phi,h}_{j,i} = \\mathrm{softmax}_{j \\in \\mathcal{N}_\\phi(i)}\\Big(
        \\mathrm{LeakyReLU}\\big(\\mathbf{a}^{h\\top}_{\\phi,\\mathrm{src}}
        \\mathbf{h}^h_j + \\mathbf{a}^{h\\top}_{\\phi,\\mathrm{dst}} \\mathbf{h}^h_i\\big)
        \\Big), \\qquad
        \\mathbf{z}^{\\phi}_i = \\mathrm{ReLU}\\Big(\\Big\\Vert_{h=1}^{H}
        \\sum_{j \\in \\mathcal{N}_\\phi(i)} \\alpha^{\\phi,h}_{j,i} \\mathbf{h}^h_j\\Big)

    and for every node type, over the edge types :math:`\\phi` that end in it
    (semantic-level attention, one weight per edge type for all nodes of the type):

    .. math::
        \\beta_\\phi = \\mathrm{softmax}_\\phi\\Big(\\mathbf{q}^\\top \\frac{1}{N}
        \\sum_{i} \\tanh\\big(\\mathbf{K} \\mathbf{z}^\\phi_i + \\mathbf{b}\\big)\\Big),
        \\qquad \\mathbf{x}'_i = \\sum_\\phi \\beta_\\phi \\, \\mathbf{z}^\\phi_i

    with :math:`\\mathbf{a}` in ``lin_src`` / ``lin_dst`` (per edge type, ``[1, H, D]``),
    :math:`\\mathbf{K}, \\mathbf{b}` in ``k_lin`` and :math:`\\mathbf{q}` in ``q``.
    Dropout on :math:`\\alpha` follows ``self.training``.  Node types that receive no
    edge type present in ``edge_index_dict`` map to ``None``.

    Args:
        in_channels (int or dict): input features per node type (``-1`` for lazy).
        out_channels (int): output features, divisible by ``heads``.
        metadata ((list, list)): the node types and the edge types
            ``(src, rel, dst)``.
        heads (int, optional): attention heads :math:`H`. (default: ``1``)
        negative_slope (float, optional): slope of the LeakyReLU. (default: ``0.2``)
        dropout (float, optional): dropout probability of the attention coefficients.
            (default: ``0.0``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x_dict`` ``{type: [N_type, in]}``, ``edge_index_dict``
    ``{edge_type: [2, E_type]}`` -> ``{type: [N_type, out_channels] or None}``, and with
    ``return_semantic_attention_weights=True`` also ``{type: [num_edge_types] or None}``.
    """

    def __init__(self, in_channels: Union[int, Dict[str, int]], out_channels: int,
                 metadata: Metadata, heads: int = 1, negative_slope: float = 0.2,
                 dropout: float = 0.0, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(node_dim=0, **kwargs)
        if heads < 1 or out_channels % heads != 0:
            raise ValueError(f"HANConv: out_channels={out_channels} must be divisible by "
                             f"heads={heads}")
        self.node_types, self.edge_types = check_metadata("HANConv", metadata)
        if not isinstance(in_channels, dict):
            in_channels = {node_type: in_channels for node_type in self.node_types}
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.negative_slope = negative_slope
        self.dropout = dropout
        dim = out_channels // heads
        self.k_lin = Linear(out_channels, out_channels)  # registered first: checkpoint order
        self.proj = torch.nn.ModuleDict(
            {nt: Linear(in_channels[nt], out_channels) for nt in self.node_types})
        self.lin_src = torch.nn.ParameterDict(
            {"__".join(et): Parameter(torch.empty(1, heads, dim)) for et in self.edge_types})
        self.lin_dst = torch.nn.ParameterDict(
            {"__".join(et): Parameter(torch.empty(1, heads, dim)) for et in self.edge_types})
        self.q = Parameter(torch.empty(1, out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in self.proj.values():
            lin.reset_parameters()
        inits.glorot(self.lin_src)
        inits.glorot(self.lin_dst)
        self.k_lin.reset_parameters()
        inits.glorot(self.q)

    def forward(self, x_dict: Dict[str, Tensor], edge_index_dict: Dict[EdgeType, Tensor],
                return_semantic_attention_weights: bool = False
                ) -> Union[Dict[str, Optional[Tensor]],
                           Tuple[Dict[str, Optional[Tensor]], Dict[str, Optional[Tensor]]]]:
        heads, dim = self.heads, self.out_channels // self.heads
        check_inputs("HANConv", x_dict, edge_index_dict, self.edge_types, self.in_channels)
        edge_types = present(self.edge_types, edge_index_dict)
        node_types = present(self.node_types, x_dict)
        h = {nt: self.proj[nt](x_dict[nt]).reshape(-1, heads, dim) for nt in node_types}
        outs: Dict[str, List[Tensor]] = {nt: [] for nt in node_types}
        for et in edge_types:
            src, _, dst = et
            key = "__".join(et)
            alpha_src = (h[src] * self.lin_src[key]).sum(dim=-1)
            alpha_dst = (h[dst] * self.lin_dst[key]).sum(dim=-1)
            out = self.propagate(as_edge_index(edge_index_dict[et]), x=(h[src], h[dst]),
                                 alpha=(alpha_src, alpha_dst))
            outs[dst].append(F.relu(out))
        out_dict, attention = {}, {}
        for nt in node_types:
            out_dict[nt], attention[nt] = self._semantic_attention(outs[nt])
        if return_semantic_attention_weights:
            return out_dict, attention
        return out_dict

    def _semantic_attention(self, outs: List[Tensor]) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Combine one node type's per-edge-type outputs with learned weights."""
        if not outs:
            return None, None
        stacked = torch.stack(outs)  # [T, N, F]
        if not is_tracing(stacked) and stacked.shape[1] == 0:
            return stacked[0], None  # no nodes: nothing to average the scores over
        score = (self.q * torch.tanh(self.k_lin(stacked)).mean(dim=1)).sum(dim=-1)
        weights = torch.softmax(score, dim=0)
        return (weights.view(-1, 1, 1) * stacked).sum(dim=0), weights

    def message(self, x_j: Tensor, alpha_i: Tensor, alpha_j: Tensor, index: Tensor,
                size_i: Optional[int]) -> Tensor:
        alpha = F.leaky_relu(alpha_j + alpha_i, self.negative_slope)
        alpha = softmax(alpha, index, num_nodes=size_i)
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        return (x_j * alpha.unsqueeze(-1)).reshape(-1, self.out_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.out_channels}, heads={self.heads})"


__all__ = ["HANConv"]
