"""``HypergraphConv``: hypergraph convolution and attention of Bai, Zhang and Torr (2021)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.dense.linear import Linear
from gfx.ops import scatter
from gfx.ops._checks import is_tracing
from gfx.utils import softmax

ATTENTION_MODES = ("node", "edge")


def hyperedge_norms(hyperedge_index: Tensor, hyperedge_weight: Optional[Tensor],
                    num_nodes: int, num_edges: Optional[int],
                    dtype: Optional[torch.dtype] = None) -> Tuple[Tensor, Tensor, int]:
    """``(D^-1, B^-1, M)``: inverse node and hyperedge degrees and the hyperedge count.

    :math:`D_{ii} = \\sum_e H_{ie} w_e` (weighted node degree) and :math:`B_{ee} =
    \\sum_i H_{ie}` (hyperedge size); an empty row gives 0, not infinity.  ``M`` is
    ``num_edges``, or one more than the largest hyperedge id.
    """
    node, edge = hyperedge_index[0], hyperedge_index[1]
    if num_edges is None:
        num_edges = int(edge.max()) + 1 if edge.numel() else 0
    if hyperedge_weight is None:
        hyperedge_weight = torch.ones(num_edges, dtype=dtype, device=node.device)
    deg = scatter(hyperedge_weight[edge], node, 0, num_nodes, "sum")
    size = scatter(torch.ones_like(edge, dtype=hyperedge_weight.dtype), edge, 0, num_edges,
                   "sum")
    inv = lambda t: torch.where(t == 0, torch.zeros_like(t), 1.0 / t)  # noqa: E731
    return inv(deg), inv(size), num_edges


# Degrees are graph structure: one call in captured graphs.
torch.fx.wrap("hyperedge_norms")


class HypergraphConv(MessagePassing):
    """The hypergraph convolutional operator of "Hypergraph Convolution and Hypergraph
    Attention".

    .. math::
        \\mathbf{X}' = \\mathbf{D}^{-1} \\mathbf{H} \\mathbf{W} \\mathbf{B}^{-1}
        \\mathbf{H}^{\\top} \\mathbf{X} \\mathbf{\\Theta}

    with :math:`\\mathbf{H} \\in \\{0, 1\\}^{N \\times M}` the incidence matrix given as
    ``hyperedge_index`` (row 0 node ids, row 1 hyperedge ids), :math:`\\mathbf{W}` the
    diagonal hyperedge weights (default 1), :math:`D_{ii} = \\sum_e H_{ie} W_{ee}` and
    :math:`B_{ee} = \\sum_i H_{ie}` (a repeated incidence counts twice).  Nodes are first
    averaged into their hyperedges, then hyperedges are summed back into their nodes and
    divided by :math:`D_{ii}`.  As in the reference, :math:`\\mathbf{W}` enters through
    :math:`\\mathbf{D}` only: the computed product is
    :math:`\\mathbf{D}^{-1} \\mathbf{H} \\mathbf{B}^{-1} \\mathbf{H}^{\\top}
    \\mathbf{X} \\mathbf{\\Theta}` (identical to the formula for unit weights).

    With ``use_attention=True`` each incidence :math:`(i, e)` gets, per head, the weight

    .. math::
        \\alpha_{i,e} = \\mathrm{softmax}\\left(\\mathrm{LeakyReLU}\\left(\\mathbf{a}^{\\top}
        [\\mathbf{\\Theta}\\mathbf{x}_i \\,\\Vert\\, \\mathbf{\\Theta}\\mathbf{h}_e]\\right)\\right)

    from the hyperedge features :math:`\\mathbf{h}_e` (``hyperedge_attr``), normalised
    over the hyperedges of each node (``attention_mode="node"``) or over the nodes of
    each hyperedge (``"edge"``); :math:`\\mathbf{H}` is replaced by these weights in both
    steps.  Without attention the layer has one head; ``heads > 1`` then raises an error
    (the reference builds a bias of the wrong size and fails when called).

    Args:
        in_channels (int): input features per node.
        out_channels (int): output features per head.
        use_attention (bool, optional): learn incidence weights. (default: ``False``)
        attention_mode (str, optional): ``"node"`` or ``"edge"``, see above.
            (default: ``"node"``)
        heads (int, optional): attention heads. (default: ``1``)
        concat (bool, optional): concatenate the heads (else average them).
            (default: ``True``)
        negative_slope (float, optional): LeakyReLU slope. (default: ``0.2``)
        dropout (float, optional): dropout of the attention weights (training only).
            (default: ``0``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``,
            ``node_dim`` ``0``).

    Shapes: ``x`` ``[N, in_channels]``, ``hyperedge_index`` ``[2, nnz]``,
    ``hyperedge_weight`` ``[M]``, ``hyperedge_attr`` ``[M, in_channels]`` ->
    ``[N, heads * out_channels]`` (``[N, out_channels]`` when not ``concat``).
    """

    def __init__(self, in_channels: int, out_channels: int, use_attention: bool = False,
                 attention_mode: str = "node", heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0, bias: bool = True,
                 **kwargs):
        kwargs.setdefault("aggr", "add")
        kwargs.setdefault("node_dim", 0)
        super().__init__(**kwargs)
        if attention_mode not in ATTENTION_MODES:
            raise ValueError(f"HypergraphConv: 'attention_mode' must be one of "
                             f"{ATTENTION_MODES}, got {attention_mode!r}")
        if not use_attention and heads != 1:
            raise ValueError(f"HypergraphConv: heads={heads} needs use_attention=True "
                             f"(without attention the layer has one head)")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.use_attention = use_attention
        self.attention_mode = attention_mode
        self.heads = heads
        self.concat = concat if use_attention else True
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.lin = Linear(in_channels, heads * out_channels, bias=False,
                          weight_initializer="glorot")
        if use_attention:
            self.att = Parameter(torch.empty(1, heads, 2 * out_channels))
        else:
            self.register_parameter("att", None)
        width = heads * out_channels if self.concat else out_channels
        self.bias = Parameter(torch.empty(width)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        inits.glorot(self.att)
        inits.zeros(self.bias)

    def forward(self, x: Tensor, hyperedge_index: Tensor,
                hyperedge_weight: Optional[Tensor] = None,
                hyperedge_attr: Optional[Tensor] = None,
                num_edges: Optional[int] = None) -> Tensor:
        H, C = self.heads, self.out_channels
        self._check(x, hyperedge_index, hyperedge_weight, hyperedge_attr)
        num_nodes = x.shape[0]
        norms = hyperedge_norms(hyperedge_index, hyperedge_weight, num_nodes, num_edges,
                                x.dtype)
        node_norm, edge_norm, num_edges = norms[0], norms[1], norms[2]
        x = self.lin(x).view(-1, H, C)

        alpha = None
        if self.use_attention:
            edge_x = self.lin(hyperedge_attr).view(-1, H, C)
            node, edge = hyperedge_index[0], hyperedge_index[1]
            pair = torch.cat([x[node], edge_x[edge]], dim=-1)
            alpha = F.leaky_relu((pair * self.att).sum(-1), self.negative_slope)
            if self.attention_mode == "node":
                alpha = softmax(alpha, edge, num_nodes=num_edges)
            else:
                alpha = softmax(alpha, node, num_nodes=num_nodes)
            alpha = F.dropout(alpha, p=self.dropout, training=self.training)

        out = self.propagate(hyperedge_index, x=x, norm=edge_norm, alpha=alpha,
                             size=(num_nodes, num_edges))
        out = self.propagate(hyperedge_index.flip(0), x=out, norm=node_norm, alpha=alpha,
                             size=(num_edges, num_nodes))
        out = out.reshape(-1, H * C) if self.concat else out.mean(dim=1)
        if self.bias is not None:
            out = out + self.bias
        return out

    def _check(self, x, hyperedge_index, hyperedge_weight, hyperedge_attr) -> None:
        if self.use_attention and hyperedge_attr is None:
            raise ValueError("HypergraphConv: use_attention=True needs 'hyperedge_attr' "
                             "(one feature row per hyperedge)")
        if is_tracing(x, hyperedge_index):
            return
        if hyperedge_index.dim() != 2 or hyperedge_index.shape[0] != 2:
            raise ValueError(f"HypergraphConv: 'hyperedge_index' must have shape [2, nnz], "
                             f"got {list(hyperedge_index.shape)}")
        if hyperedge_index.numel() and int(hyperedge_index[0].max()) >= x.shape[0]:
            raise IndexError(f"HypergraphConv: 'hyperedge_index' names node "
                             f"{int(hyperedge_index[0].max())}, but x has {x.shape[0]} rows")
        needed = int(hyperedge_index[1].max()) + 1 if hyperedge_index.numel() else 0
        for name, value in (("hyperedge_weight", hyperedge_weight),
                            ("hyperedge_attr", hyperedge_attr)):
            if value is not None and value.shape[0] < needed:
                raise ValueError(f"HypergraphConv: '{name}' has {value.shape[0]} rows, but "
                                 f"'hyperedge_index' names {needed} hyperedges")

    def message(self, x_j: Tensor, norm_i: Tensor, alpha: Optional[Tensor]) -> Tensor:
        out = norm_i.view(-1, 1, 1) * x_j
        if alpha is not None:
            out = alpha.unsqueeze(-1) * out
        return out


__all__ = ["HypergraphConv"]
