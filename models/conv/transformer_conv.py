"""``TransformerConv``: the graph transformer operator of Shi et al. (IJCAI 2021)."""
from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.conv.gat_conv import check_edge_attr
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear
from gfx.utils import softmax
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index


class TransformerConv(MessagePassing):
    """The graph transformer operator of "Masked Label Prediction: Unified Message
    Passing Model for Semi-Supervised Classification".

    .. math::
        \\mathbf{x}'_i = \\mathbf{W}_1 \\mathbf{x}_i + \\sum_{j \\in \\mathcal{N}(i)}
        \\alpha_{i,j} \\left( \\mathbf{W}_2 \\mathbf{x}_j + \\mathbf{W}_6
        \\mathbf{e}_{j,i} \\right),
        \\qquad
        \\alpha_{i,j} = \\mathrm{softmax}_j \\left(
        \\frac{(\\mathbf{W}_3 \\mathbf{x}_i)^{\\top} (\\mathbf{W}_4 \\mathbf{x}_j +
        \\mathbf{W}_6 \\mathbf{e}_{j,i})}{\\sqrt{d}} \\right)

    per head, with :math:`d` = ``out_channels`` and the edge terms only when ``edge_dim``
    is set (``edge_attr`` is then required, and refused without it).  :math:`\\mathbf{W}_1` is ``lin_skip``,
    :math:`\\mathbf{W}_2` ``lin_value``, :math:`\\mathbf{W}_3` ``lin_query``,
    :math:`\\mathbf{W}_4` ``lin_key``, :math:`\\mathbf{W}_6` ``lin_edge``.  No self-loops
    are added.  With ``beta=True`` the skip is gated:

    .. math::
        \\mathbf{x}'_i = \\beta_i \\mathbf{W}_1 \\mathbf{x}_i + (1 - \\beta_i)
        \\mathbf{m}_i, \\qquad
        \\beta_i = \\sigma \\left( \\mathbf{w}_5^{\\top} [ \\mathbf{m}_i,
        \\mathbf{W}_1 \\mathbf{x}_i, \\mathbf{m}_i - \\mathbf{W}_1 \\mathbf{x}_i ] \\right)

    where :math:`\\mathbf{m}_i` is the aggregated (concatenated or averaged) message and
    :math:`\\mathbf{w}_5` is ``lin_beta``.  ``lin_skip`` always exists (as in the
    reference, so checkpoints load) but is unused when ``root_weight=False``.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes;
            ``-1`` for lazy.
        out_channels (int): output features per head.
        heads (int, optional): number of attention heads. (default: ``1``)
        concat (bool, optional): concatenate the heads (else average them).
            (default: ``True``)
        beta (bool, optional): gate the skip connection (needs ``root_weight``).
            (default: ``False``)
        dropout (float, optional): dropout probability of the attention coefficients
            (training mode only). (default: ``0.``)
        edge_dim (int, optional): edge feature width; enables :math:`\\mathbf{W}_6`.
            (default: ``None``)
        bias (bool, optional): learn biases in the key, query, value and skip maps.
            (default: ``True``)
        root_weight (bool, optional): add the skip term :math:`\\mathbf{W}_1
            \\mathbf{x}_i`. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``,
            ``node_dim`` ``0``).

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]``, ``edge_attr`` ``[E, edge_dim]`` -> ``[N_dst, heads * out_channels]``
    (``[N_dst, out_channels]`` with ``concat=False``); with
    ``return_attention_weights=True`` also ``(edge_index, alpha [E, heads])``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 heads: int = 1, concat: bool = True, beta: bool = False,
                 dropout: float = 0.0, edge_dim: Optional[int] = None, bias: bool = True,
                 root_weight: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        kwargs.setdefault("node_dim", 0)
        super().__init__(**kwargs)
        in_pair = (in_channels, in_channels) if isinstance(in_channels, int) else \
            tuple(in_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.concat = concat
        self.beta = beta and root_weight
        self.root_weight = root_weight
        self.dropout = dropout
        self.edge_dim = edge_dim
        self._in_pair = in_pair
        width = heads * out_channels
        self.lin_key = Linear(in_pair[0], width, bias=bias)
        self.lin_query = Linear(in_pair[1], width, bias=bias)
        self.lin_value = Linear(in_pair[0], width, bias=bias)
        self.lin_edge = Linear(edge_dim, width, bias=False) if edge_dim is not None else None
        total = width if concat else out_channels
        self.lin_skip = Linear(in_pair[1], total, bias=bias)
        self.lin_beta = Linear(3 * total, 1, bias=False) if self.beta else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in (self.lin_key, self.lin_query, self.lin_value, self.lin_edge,
                    self.lin_skip, self.lin_beta):
            if lin is not None:
                lin.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None,
                return_attention_weights: Optional[bool] = None):
        H, C = self.heads, self.out_channels
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        if pair[1] is None:
            raise ValueError("TransformerConv: target node features are required (they "
                             "form the queries); got (x_src, None)")
        check_node_channels("TransformerConv", pair, self._in_pair)
        query = self.lin_query(pair[1]).view(-1, H, C)
        key = self.lin_key(pair[0]).view(-1, H, C)
        value = self.lin_value(pair[0]).view(-1, H, C)

        edge = None
        if self.lin_edge is None and edge_attr is not None:
            raise ValueError("TransformerConv: got 'edge_attr' but edge_dim=None; set "
                             "edge_dim to the edge feature width to use edge features")
        if self.lin_edge is not None:
            if edge_attr is None:
                raise ValueError(f"TransformerConv: 'edge_attr' is required when "
                                 f"edge_dim={self.edge_dim}")
            check_edge_attr("TransformerConv", edge_attr, edge_index, self.edge_dim)
            edge = self.lin_edge(edge_attr.reshape(edge_attr.shape[0], self.edge_dim))
            edge = edge.view(-1, H, C)

        # ``size`` is per edge_index row: (sources, targets) unless the flow is reversed.
        size = (key.shape[0], query.shape[0])
        if self.flow != "source_to_target":
            size = (size[1], size[0])
        alpha = self.edge_updater(edge_index, query=query, key=key, edge=edge, size=size)
        out = self.propagate(edge_index, value=value, alpha=alpha, edge=edge, size=size)
        out = out.reshape(-1, H * C) if self.concat else out.mean(dim=1)
        if self.root_weight:
            skip = self.lin_skip(pair[1])
            if self.lin_beta is not None:
                gate = torch.sigmoid(self.lin_beta(torch.cat([out, skip, out - skip], dim=-1)))
                out = gate * skip + (1 - gate) * out
            else:
                out = out + skip
        if return_attention_weights:
            return out, (edge_index, alpha)
        return out

    def edge_update(self, query_i: Tensor, key_j: Tensor, edge: Optional[Tensor],
                    index: Tensor, size_i: Optional[int]) -> Tensor:
        if edge is not None:
            key_j = key_j + edge
        alpha = (query_i * key_j).sum(dim=-1) / math.sqrt(self.out_channels)
        alpha = softmax(alpha, index, num_nodes=size_i)
        return F.dropout(alpha, p=self.dropout, training=self.training)

    def message(self, value_j: Tensor, alpha: Tensor, edge: Optional[Tensor]) -> Tensor:
        if edge is not None:
            value_j = value_j + edge
        return alpha.unsqueeze(-1) * value_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")


__all__ = ["TransformerConv"]
