"""``GATv2Conv``: dynamic graph attention of Brody, Alon and Yahav (ICLR 2022)."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gat_conv import FillValue, attention_self_loops, check_edge_attr
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear
from gfx.utils import softmax
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

# The helper is imported by name, so this module's binding must be wrapped as well.
torch.fx.wrap("attention_self_loops")


class GATv2Conv(MessagePassing):
    """The GATv2 operator of "How Attentive are Graph Attention Networks?".

    .. math::
        \\mathbf{x}'_i = \\sum_{j \\in \\mathcal{N}(i) \\cup \\{ i \\}}
        \\alpha_{i,j} \\mathbf{\\Theta}_s \\mathbf{x}_j,
        \\qquad
        \\alpha_{i,j} = \\mathrm{softmax}_j \\left( \\mathbf{a}^{\\top}
        \\mathrm{LeakyReLU} \\left( \\mathbf{\\Theta}_s \\mathbf{x}_j +
        \\mathbf{\\Theta}_t \\mathbf{x}_i + \\mathbf{\\Theta}_e \\mathbf{e}_{j,i}
        \\right) \\right)

    per head: unlike :class:`GATConv`, the non-linearity sits between the two endpoint
    projections and the attention vector, so the ranking of neighbours depends on the
    query node.  :math:`\\mathbf{\\Theta}_s` is ``lin_l`` (source), :math:`\\mathbf{\\Theta}_t`
    is ``lin_r`` (target; the same module when ``share_weights=True``).  The edge term is
    present when ``edge_dim`` is set and ``edge_attr`` is given (a passed ``edge_attr`` is
    ignored without ``edge_dim``, as in the reference).  Self-loops, ``fill_value``,
    sparse input and ``return_attention_weights`` behave as in :class:`GATConv`.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes;
            ``-1`` for lazy.
        out_channels (int): output features per head.
        heads (int, optional): number of attention heads. (default: ``1``)
        concat (bool, optional): concatenate the heads (else average them).
            (default: ``True``)
        negative_slope (float, optional): LeakyReLU slope. (default: ``0.2``)
        dropout (float, optional): dropout probability of the attention coefficients
            (training mode only). (default: ``0.``)
        add_self_loops (bool, optional): replace self-loops by one per node.
            (default: ``True``)
        edge_dim (int, optional): edge feature width; enables the edge term.
            (default: ``None``)
        fill_value (float or Tensor or str, optional): edge features of the added loops.
            (default: ``"mean"``)
        bias (bool, optional): learn additive biases (also in ``lin_l``/``lin_r``).
            (default: ``True``)
        share_weights (bool, optional): use one projection for sources and targets;
            a pair ``in_channels`` must then have equal sizes. (default: ``False``)
        residual (bool, optional): add a linear skip connection ``res``.
            (default: ``False``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``,
            ``node_dim`` ``0``).

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]``, ``edge_attr`` ``[E, edge_dim]`` -> ``[N_dst, heads * out_channels]``
    (``[N_dst, out_channels]`` with ``concat=False``).
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 heads: int = 1, concat: bool = True, negative_slope: float = 0.2,
                 dropout: float = 0.0, add_self_loops: bool = True,
                 edge_dim: Optional[int] = None, fill_value: FillValue = "mean",
                 bias: bool = True, share_weights: bool = False, residual: bool = False,
                 **kwargs):
        kwargs.setdefault("aggr", "add")
        kwargs.setdefault("node_dim", 0)
        super().__init__(**kwargs)
        in_pair = (in_channels, in_channels) if isinstance(in_channels, int) else \
            tuple(in_channels)
        if share_weights and in_pair[0] != in_pair[1]:
            raise ValueError(f"GATv2Conv: share_weights=True applies one projection to "
                             f"sources and targets, but in_channels={in_channels} differ")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.add_self_loops = add_self_loops
        self.edge_dim = edge_dim
        self.fill_value = fill_value
        self.share_weights = share_weights
        self.residual = residual
        self._in_pair = in_pair
        width = heads * out_channels
        self.lin_l = Linear(in_pair[0], width, bias=bias, weight_initializer="glorot")
        self.lin_r = self.lin_l if share_weights else \
            Linear(in_pair[1], width, bias=bias, weight_initializer="glorot")
        self.att = Parameter(torch.empty(1, heads, out_channels))
        self.lin_edge = (Linear(edge_dim, width, bias=False, weight_initializer="glorot")
                         if edge_dim is not None else None)
        total = width if concat else out_channels
        self.res = (Linear(in_pair[1], total, bias=False, weight_initializer="glorot")
                    if residual else None)
        self.bias = Parameter(torch.empty(total)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in (self.lin_l, self.lin_r, self.lin_edge, self.res):
            if lin is not None:
                lin.reset_parameters()
        inits.glorot(self.att)
        inits.zeros(self.bias)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None,
                return_attention_weights: Optional[bool] = None):
        H, C = self.heads, self.out_channels
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        if pair[1] is None:
            raise ValueError("GATv2Conv: target node features are required (the scores "
                             "depend on both endpoints); got (x_src, None)")
        check_node_channels("GATv2Conv", pair, self._in_pair)
        x_l = self.lin_l(pair[0]).view(-1, H, C)
        if isinstance(x, Tensor) and self.share_weights:
            x_r = x_l
        else:
            x_r = self.lin_r(pair[1]).view(-1, H, C)

        if self.lin_edge is None:
            edge_attr = None
        elif edge_attr is not None:
            check_edge_attr("GATv2Conv", edge_attr, edge_index, self.edge_dim)
            edge_attr = edge_attr.reshape(edge_attr.shape[0], self.edge_dim)
        if self.add_self_loops:
            sizes = (x_l.shape[0], x_r.shape[0])  # (sources, targets) -> per row
            if self.flow != "source_to_target":
                sizes = (sizes[1], sizes[0])
            looped = attention_self_loops(edge_index, edge_attr, sizes, self.fill_value)
            # Unpack only what exists: a traced call returns one value for the pair.
            edge_index = looped[0]
            edge_attr = None if edge_attr is None else looped[1]

        # See NOTE [attention roles under target_to_source] in gat_conv.py.
        roles = (x_l, x_r) if self.flow == "source_to_target" else (x_r, x_l)
        alpha = self.edge_updater(edge_index, x=roles, edge_attr=edge_attr)
        out = self.propagate(edge_index, x=roles, alpha=alpha)
        out = out.reshape(-1, H * C) if self.concat else out.mean(dim=1)
        if self.res is not None:
            out = out + self.res(pair[1])
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (edge_index, alpha)
        return out

    def edge_update(self, x_j: Tensor, x_i: Tensor, edge_attr: Optional[Tensor],
                    index: Tensor, size_i: Optional[int]) -> Tensor:
        z = x_j + x_i
        if edge_attr is not None and self.lin_edge is not None:
            z = z + self.lin_edge(edge_attr).view(-1, self.heads, self.out_channels)
        z = F.leaky_relu(z, self.negative_slope)
        alpha = (z * self.att).sum(-1)
        alpha = softmax(alpha, index, num_nodes=size_i)
        return F.dropout(alpha, p=self.dropout, training=self.training)

    def message(self, x_j: Tensor, alpha: Tensor) -> Tensor:
        return alpha.unsqueeze(-1) * x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")


__all__ = ["GATv2Conv"]
