"""``GATConv``: the graph attention operator of Velickovic et al. (ICLR 2018).

Also home of :func:`attention_self_loops`, the self-loop preprocessing shared by the
attention layers (``GATConv``, ``GATv2Conv``, ``AGNNConv``).
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear
from gfx.ops import scatter
from gfx.structure import memo
from gfx.utils import is_tracing, softmax
from gfx.utils.loops import add_self_loops, remove_self_loops
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index, edge_index_to_adj_t

FillValue = Union[float, Tensor, str]


def _attention_self_loops(edge_index: Tensor, edge_attr: Optional[Tensor],
                          num_nodes: Tuple[int, int], fill_value: FillValue
                          ) -> Tuple[Tensor, Optional[Tensor]]:
    num_loops = min(num_nodes)
    edge_index, edge_attr = remove_self_loops(edge_index, edge_attr)
    if edge_attr is not None and isinstance(fill_value, str):
        # Reduce the incoming attributes of every node of row 1, then keep the nodes
        # that get a loop (fewer than row 1 holds when the graph is bipartite).
        fill_value = scatter(edge_attr, edge_index[1], 0, num_nodes[1], fill_value)[:num_loops]
    return add_self_loops(edge_index, edge_attr, fill_value, num_loops)


def attention_self_loops(edge_index: Tensor, edge_attr: Optional[Tensor],
                         num_nodes: Tuple[int, int], fill_value: FillValue = "mean"
                         ) -> Tuple[Tensor, Optional[Tensor]]:
    """Replace the self-loops of a graph by exactly one loop per node.

    Every existing loop :math:`(i, i)` is dropped (with its attribute), then one loop per
    node :math:`0 \\le i < \\min(N_0, N_1)` is appended after the other edges.  The
    attribute of a new loop is ``fill_value``: a constant, a tensor, or the name of a
    reduction (``"mean"``, ``"sum"``, ``"max"``, ``"min"``, ``"mul"``) of the attributes
    of the edges entering that node (0 for a node with none).  Without attributes the
    result is computed once per ``edge_index`` (structure cache).

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor, optional): ``[E]`` or ``[E, D]`` attributes. (default: ``None``)
        num_nodes ((int, int)): the sizes of the node sets indexed by ``edge_index[0]``
            and ``edge_index[1]``.
        fill_value (float or Tensor or str, optional): attribute of the new loops.
            (default: ``"mean"``)
    """
    num_nodes = (int(num_nodes[0]), int(num_nodes[1]))
    if edge_attr is not None:
        return _attention_self_loops(edge_index, edge_attr, num_nodes, fill_value)
    return memo(edge_index, "attention_self_loops", num_nodes,
                lambda: _attention_self_loops(edge_index, None, num_nodes, fill_value))


# Loop insertion is graph structure: one node in captured graphs, cached at run time.
torch.fx.wrap("attention_self_loops")


def check_edge_attr(layer: str, edge_attr: Tensor, edge_index: Tensor, edge_dim: int) -> None:
    """Refuse edge features whose rows or width do not match (eager only)."""
    if is_tracing(edge_attr, edge_index):
        return
    width = 1 if edge_attr.dim() == 1 else edge_attr.shape[-1]
    if edge_attr.dim() > 2 or width != edge_dim:
        raise ValueError(f"{layer}: 'edge_attr' must have edge_dim={edge_dim} features per "
                         f"edge, got shape {list(edge_attr.shape)}")
    if edge_attr.shape[0] != edge_index.shape[1]:
        raise ValueError(f"{layer}: 'edge_attr' has {edge_attr.shape[0]} rows but "
                         f"'edge_index' has {edge_index.shape[1]} edges")


class GATConv(MessagePassing):
    """The graph attentional operator of "Graph Attention Networks".

    .. math::
        \\mathbf{x}'_i = \\sum_{j \\in \\mathcal{N}(i) \\cup \\{ i \\}}
        \\alpha_{i,j} \\mathbf{\\Theta}_s \\mathbf{x}_j,
        \\qquad
        \\alpha_{i,j} = \\mathrm{softmax}_j \\left( \\mathrm{LeakyReLU} \\left(
        \\mathbf{a}_s^{\\top} \\mathbf{\\Theta}_s \\mathbf{x}_j +
        \\mathbf{a}_t^{\\top} \\mathbf{\\Theta}_t \\mathbf{x}_i +
        \\mathbf{a}_e^{\\top} \\mathbf{\\Theta}_e \\mathbf{e}_{j,i} \\right) \\right)

    per head, the softmax running over the incoming edges of ``i`` (loops included).  The
    edge term is present when ``edge_dim`` is set and ``edge_attr`` is given; without
    ``edge_dim``, a passed ``edge_attr`` is ignored, as in the reference.  Heads are
    concatenated or averaged; ``residual`` adds :math:`\\mathbf{W}_r \\mathbf{x}_i`.
    :math:`\\Theta_s = \\Theta_t` (``lin``) unless ``in_channels`` is a pair
    (``lin_src``, ``lin_dst``).

    Self-loops: existing loops are replaced by one loop per node (for a bipartite graph,
    nodes ``0 .. min(N_src, N_dst) - 1``); their edge features come from ``fill_value``
    (see :func:`attention_self_loops`).  The reference fails on bipartite graphs with
    edge features and more targets than sources; gfx computes the fill over all targets.

    A torch.sparse ``adj_t`` may replace ``edge_index``; its values are ignored, and with
    ``return_attention_weights=True`` the weights come back as the reference library
    returns them: ``(adj, alpha)`` with ``adj`` a sparse ``[N_dst, N_src, heads]`` tensor
    holding ``alpha`` at the (self-looped) edges, and ``alpha`` in that tensor's
    (coalesced) order.

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
        add_self_loops (bool, optional): replace self-loops as above. (default: ``True``)
        edge_dim (int, optional): edge feature width; enables the edge term.
            (default: ``None``)
        fill_value (float or Tensor or str, optional): edge features of the added loops.
            (default: ``"mean"``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        residual (bool, optional): add a linear skip connection ``res``.
            (default: ``False``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``,
            ``node_dim`` ``0``).

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]``, ``edge_attr`` ``[E, edge_dim]`` -> ``[N_dst, heads * out_channels]``
    (``[N_dst, out_channels]`` with ``concat=False``); with
    ``return_attention_weights=True`` also ``(edge_index', alpha [E', heads])``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 heads: int = 1, concat: bool = True, negative_slope: float = 0.2,
                 dropout: float = 0.0, add_self_loops: bool = True,
                 edge_dim: Optional[int] = None, fill_value: FillValue = "mean",
                 bias: bool = True, residual: bool = False, **kwargs):
        kwargs.setdefault("aggr", "add")
        kwargs.setdefault("node_dim", 0)
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.add_self_loops = add_self_loops
        self.edge_dim = edge_dim
        self.fill_value = fill_value
        self.residual = residual
        width = heads * out_channels
        if isinstance(in_channels, int):
            self.lin = Linear(in_channels, width, bias=False, weight_initializer="glorot")
            self.lin_src = self.lin_dst = None
            in_pair = (in_channels, in_channels)
        else:
            self.lin = None
            self.lin_src = Linear(in_channels[0], width, bias=False, weight_initializer="glorot")
            self.lin_dst = Linear(in_channels[1], width, bias=False, weight_initializer="glorot")
            in_pair = tuple(in_channels)
        self._in_pair = in_pair
        self.att_src = Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = Parameter(torch.empty(1, heads, out_channels))
        if edge_dim is not None:
            self.lin_edge = Linear(edge_dim, width, bias=False, weight_initializer="glorot")
            self.att_edge = Parameter(torch.empty(1, heads, out_channels))
        else:
            self.lin_edge = None
            self.register_parameter("att_edge", None)
        total = width if concat else out_channels
        self.res = (Linear(in_pair[1], total, bias=False, weight_initializer="glorot")
                    if residual else None)
        self.bias = Parameter(torch.empty(total)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in (self.lin, self.lin_src, self.lin_dst, self.lin_edge, self.res):
            if lin is not None:
                lin.reset_parameters()
        inits.glorot(self.att_src)
        inits.glorot(self.att_dst)
        inits.glorot(self.att_edge)
        inits.zeros(self.bias)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None, size: Optional[Tuple[int, int]] = None,
                return_attention_weights: Optional[bool] = None):
        H, C = self.heads, self.out_channels
        sparse_shape = None
        if is_torch_sparse_tensor(edge_index):
            sparse_shape = tuple(edge_index.shape[:2])  # [num_targets, num_sources]
            edge_index, _ = adj_t_to_edge_index(edge_index)
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        check_node_channels("GATConv", pair, self._in_pair)
        if self.residual and pair[1] is None:
            raise ValueError("GATConv: residual=True needs target node features; got "
                             "(x_src, None)")
        if self.lin is not None:
            x_src = self.lin(pair[0]).view(-1, H, C)
            x_dst = x_src if isinstance(x, Tensor) else (
                None if pair[1] is None else self.lin(pair[1]).view(-1, H, C))
        else:
            x_src = self.lin_src(pair[0]).view(-1, H, C)
            x_dst = None if pair[1] is None else self.lin_dst(pair[1]).view(-1, H, C)
        alpha_src = (x_src * self.att_src).sum(-1)
        alpha_dst = None if x_dst is None else (x_dst * self.att_dst).sum(-1)

        if self.lin_edge is None:
            edge_attr = None
        elif edge_attr is not None:
            check_edge_attr("GATConv", edge_attr, edge_index, self.edge_dim)
            edge_attr = edge_attr.reshape(edge_attr.shape[0], self.edge_dim)
        if self.add_self_loops:
            looped = attention_self_loops(edge_index, edge_attr,
                                          self._row_sizes(x_src, x_dst, size), self.fill_value)
            # Unpack only what exists: a traced call returns one value for the pair.
            edge_index = looped[0]
            edge_attr = None if edge_attr is None else looped[1]

        # NOTE [attention roles under target_to_source]: a pair passed to propagate is
        # indexed by edge_index row, but the reference's attention layers give the
        # *source* role (row 1 under target_to_source) the source coefficients, so the
        # pairs are given in role order.
        role = (lambda a, b: (a, b)) if self.flow == "source_to_target" else \
            (lambda a, b: (b, a))
        alpha = self.edge_updater(edge_index, alpha=role(alpha_src, alpha_dst),
                                  edge_attr=edge_attr, size=size)
        out = self.propagate(edge_index, x=role(x_src, x_dst), alpha=alpha, size=size)
        out = out.reshape(-1, H * C) if self.concat else out.mean(dim=1)
        if self.res is not None:
            out = out + self.res(pair[1])
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            if sparse_shape is not None:  # the reference's form: a sparse [N_dst, N_src, H]
                adj = edge_index_to_adj_t(edge_index, alpha, (sparse_shape[1], sparse_shape[0]))
                return out, (adj, adj.values())  # alpha in the sparse tensor's order
            return out, (edge_index, alpha)
        return out

    def _row_sizes(self, x_src: Tensor, x_dst: Optional[Tensor], size) -> Tuple[int, int]:
        """Sizes of the node sets indexed by ``edge_index[0]`` and ``edge_index[1]``."""
        if size is not None:  # like propagate's ``size``: one entry per edge_index row
            return size[0], size[1]
        num_src = x_src.shape[0]
        num_dst = num_src if x_dst is None else x_dst.shape[0]
        if self.flow == "source_to_target":
            return num_src, num_dst
        return num_dst, num_src

    def edge_update(self, alpha_j: Tensor, alpha_i: Optional[Tensor],
                    edge_attr: Optional[Tensor], index: Tensor,
                    size_i: Optional[int]) -> Tensor:
        alpha = alpha_j if alpha_i is None else alpha_j + alpha_i
        if edge_attr is not None and self.lin_edge is not None:
            edge = self.lin_edge(edge_attr).view(-1, self.heads, self.out_channels)
            alpha = alpha + (edge * self.att_edge).sum(-1)
        alpha = F.leaky_relu(alpha, self.negative_slope)
        alpha = softmax(alpha, index, num_nodes=size_i)
        return F.dropout(alpha, p=self.dropout, training=self.training)

    def message(self, x_j: Tensor, alpha: Tensor) -> Tensor:
        return alpha.unsqueeze(-1) * x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")


__all__ = ["GATConv"]
