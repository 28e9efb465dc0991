"""``HEATConv``: heterogeneous edge-enhanced graph attention (Mo et al., 2021)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.conv.gat_conv import check_edge_attr
from gfx.nn.dense.linear import HeteroLinear
from gfx.nn.dense.linear import Linear
from gfx.utils import is_tracing, softmax
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index


class HEATConv(MessagePassing):
    """The heterogeneous edge-enhanced graph attentional operator of "Heterogeneous
    Edge-Enhanced Graph Attention Network For Multi-Agent Trajectory Prediction".

    Node features are first mapped per node type, :math:`\\mathbf{h}_i =
    \\mathbf{W}_{\\phi(i)} \\mathbf{x}_i + \\mathbf{b}_{\\phi(i)}` (``hetero_lin``); edges
    get a type embedding :math:`\\mathbf{t}_{j,i} = \\mathrm{LeakyReLU}(
    \\mathrm{emb}(\\psi(j,i)))` and an attribute embedding :math:`\\mathbf{a}_{j,i} =
    \\mathrm{LeakyReLU}(\\mathbf{W}_a \\mathbf{e}_{j,i})`.  Then, per head,

    .. math::
        \\alpha_{i,j} = \\mathrm{softmax}_j\\left(\\mathrm{LeakyReLU}\\left(
        \\mathbf{a}^{\\top} [\\mathbf{h}_i \\,\\Vert\\, \\mathbf{h}_j \\,\\Vert\\,
        \\mathbf{t}_{j,i} \\,\\Vert\\, \\mathbf{a}_{j,i}]\\right)\\right)

        \\mathbf{x}'_i = \\sum_{j \\in \\mathcal{N}(i)} \\alpha_{i,j} \\left(
        \\mathbf{W} [\\mathbf{h}_j \\,\\Vert\\, \\mathbf{a}_{j,i}] + \\mathbf{b}\\right)
        \\; [+ \\mathbf{h}_i]

    with heads concatenated or averaged, and :math:`\\mathbf{h}_i` added per head
    (``concat=True``) or once (``concat=False``) when ``root_weight=True``.  No self-loops
    are added.  Edge attributes are required: without them the reference fails inside
    its edge embedding; gfx raises a clear error instead.

    Args:
        in_channels (int): input features per node.
        out_channels (int): output features per head.
        num_node_types (int): number of node types.
        num_edge_types (int): number of edge types.
        edge_type_emb_dim (int): width of the edge type embedding.
        edge_dim (int): width of the edge attributes.
        edge_attr_emb_dim (int): width of the edge attribute embedding.
        heads (int, optional): number of attention heads. (default: ``1``)
        concat (bool, optional): concatenate the heads, else average them.
            (default: ``True``)
        negative_slope (float, optional): LeakyReLU slope. (default: ``0.2``)
        dropout (float, optional): dropout of the attention coefficients.
            (default: ``0.``)
        root_weight (bool, optional): add the transformed node's own features.
            (default: ``True``)
        bias (bool, optional): learn biases in ``hetero_lin`` and ``lin``.
            (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``).

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``, ``node_type`` ``[N]``,
    ``edge_type`` ``[E]``, ``edge_attr`` ``[E, edge_dim]`` ->
    ``[N, heads * out_channels]`` (``[N, out_channels]`` with ``concat=False``).
    """

    def __init__(self, in_channels: int, out_channels: int, num_node_types: int,
                 num_edge_types: int, edge_type_emb_dim: int, edge_dim: int,
                 edge_attr_emb_dim: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0,
                 root_weight: bool = True, bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(node_dim=0, **kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_node_types = num_node_types
        self.num_edge_types = num_edge_types
        self.edge_dim = edge_dim
        self.heads = heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.root_weight = root_weight
        self.hetero_lin = HeteroLinear(in_channels, out_channels, num_node_types, bias=bias)
        self.edge_type_emb = torch.nn.Embedding(num_edge_types, edge_type_emb_dim)
        self.edge_attr_emb = Linear(edge_dim, edge_attr_emb_dim, bias=False)
        self.att = Linear(2 * out_channels + edge_type_emb_dim + edge_attr_emb_dim, heads,
                          bias=False)
        self.lin = Linear(out_channels + edge_attr_emb_dim, out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.hetero_lin.reset_parameters()
        self.edge_type_emb.reset_parameters()
        self.edge_attr_emb.reset_parameters()
        self.att.reset_parameters()
        self.lin.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, node_type: Tensor, edge_type: Tensor,
                edge_attr: Optional[Tensor] = None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        if edge_attr is None:
            raise ValueError(f"HEATConv: 'edge_attr' is required ([num_edges, "
                             f"{self.edge_dim}] edge attributes)")
        check_edge_attr("HEATConv", edge_attr, edge_index, self.edge_dim)
        self._check_types(x, edge_index, node_type, edge_type)
        edge_attr = edge_attr.reshape(edge_attr.shape[0], self.edge_dim)
        h = self.hetero_lin(x, node_type)
        type_emb = F.leaky_relu(self.edge_type_emb(edge_type), self.negative_slope)
        out = self.propagate(edge_index, x=h, edge_type_emb=type_emb, edge_attr=edge_attr)
        if self.concat:
            if self.root_weight:
                out = out + h.unsqueeze(1)
            return out.reshape(out.shape[0], self.heads * self.out_channels)
        out = out.mean(dim=1)
        return out + h if self.root_weight else out

    def _check_types(self, x, edge_index, node_type, edge_type) -> None:
        if is_tracing(x, edge_index, node_type, edge_type):
            return
        for name, value, count, num in (("node_type", node_type, x.shape[0],
                                         self.num_node_types),
                                        ("edge_type", edge_type, edge_index.shape[1],
                                         self.num_edge_types)):
            if value.dim() != 1 or value.numel() != count:
                raise ValueError(f"HEATConv: '{name}' must have shape [{count}], got "
                                 f"{list(value.shape)}")
            if value.numel() and (int(value.min()) < 0 or int(value.max()) >= num):
                raise IndexError(f"HEATConv: '{name}' must lie in [0, {num}), got values in "
                                 f"[{int(value.min())}, {int(value.max())}]")

    def message(self, x_i: Tensor, x_j: Tensor, edge_type_emb: Tensor, edge_attr: Tensor,
                index: Tensor, size_i: Optional[int]) -> Tensor:
        attr = F.leaky_relu(self.edge_attr_emb(edge_attr), self.negative_slope)
        alpha = self.att(torch.cat([x_i, x_j, edge_type_emb, attr], dim=-1))
        alpha = softmax(F.leaky_relu(alpha, self.negative_slope), index, num_nodes=size_i)
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        value = self.lin(torch.cat([x_j, attr], dim=-1))
        return value.unsqueeze(-2) * alpha.unsqueeze(-1)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")


__all__ = ["HEATConv"]
