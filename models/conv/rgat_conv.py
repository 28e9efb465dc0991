"""``RGATConv``: relational graph attention (Busbridge et al., 2019)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gat_conv import check_edge_attr
from gfx.nn.dense.linear import Linear
from gfx.ops import scatter
from gfx.utils import is_tracing, softmax
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

MECHANISMS = ("within-relation", "across-relation")
MODES = ("additive-self-attention", "multiplicative-self-attention")


class RGATConv(MessagePassing):
    """The relational graph attentional operator of "Relational Graph Attention Networks".

    Every edge :math:`j \\to i` of relation :math:`r` carries the messages
    :math:`\\mathbf{g}_{j} = \\mathbf{W}_r \\mathbf{x}_j` (queries from
    :math:`\\mathbf{W}_r \\mathbf{x}_i`), scored per head and attention dimension:

    .. math::
        \\mathbf{q}_i = \\mathbf{W}_r \\mathbf{x}_i \\mathbf{Q}, \\quad
        \\mathbf{k}_j = \\mathbf{W}_r \\mathbf{x}_j \\mathbf{K}, \\quad
        \\mathbf{e}_{j,i} = \\mathbf{W}_e \\mathbf{a}_{j,i} \\mathbf{E}

        b_{i,j} = \\mathrm{LeakyReLU}(\\mathbf{q}_i + \\mathbf{k}_j [+ \\mathbf{e}_{j,i}])
        \\ \\text{(additive)}, \\qquad
        b_{i,j} = \\mathbf{q}_i \\odot \\mathbf{k}_j [\\odot \\mathbf{e}_{j,i}]
        \\ \\text{(multiplicative)}

        \\mathbf{x}'_i = \\sum_{r} \\sum_{j \\in \\mathcal{N}_r(i)} \\alpha_{i,j}
        \\mathbf{W}_r \\mathbf{x}_j + \\mathbf{b}

    :math:`\\alpha = \\mathrm{softmax}(b)` over all incoming edges of ``i``
    (``"across-relation"``) or over those of each relation separately
    (``"within-relation"``).  Multiplicative attention has ``dim`` scores per head, each
    weighting its own copy of the message.  :math:`\\mathbf{W}_r` is a full matrix, a
    combination of ``num_bases`` bases, or block-diagonal with ``num_blocks`` blocks.

    ``mod`` preserves neighbourhood cardinality: ``"additive"`` adds
    :math:`\\mathbf{w} \\odot \\mathbf{g}_j` to each message, ``"scaled"`` multiplies it
    by :math:`\\psi(d_i) = \\mathrm{ReLU}(d_i \\mathbf{l}_1 + \\mathbf{b}_1) \\mathbf{L}_2 +
    \\mathbf{b}_2` with :math:`d_i` the in-degree of ``i``, ``"f-additive"`` uses
    :math:`\\alpha + 1` where :math:`\\alpha > 0`, ``"f-scaled"`` :math:`d_i \\alpha`.
    Dropout on :math:`\\alpha` applies in training when ``mod`` is neither ``"f-additive"``
    nor ``"f-scaled"``.  The parameters of ``mod`` (``w``, ``l1``, ``b1``, ``l2``, ``b2``)
    always exist; the reference leaves ``l2`` uninitialised, gfx draws it Glorot-uniform.

    Args:
        in_channels (int): input features per node.
        out_channels (int): output features per head (and attention dimension).
        num_relations (int): number of relations.
        num_bases (int, optional): basis decomposition of :math:`\\mathbf{W}_r`.
            (default: ``None``)
        num_blocks (int, optional): block-diagonal decomposition of :math:`\\mathbf{W}_r`;
            ``in_channels`` and ``heads * out_channels`` must be multiples of it.
            (default: ``None``)
        mod (str, optional): cardinality preservation: ``None``, ``"additive"``,
            ``"scaled"``, ``"f-additive"`` or ``"f-scaled"``. (default: ``None``)
        attention_mechanism (str, optional): ``"across-relation"`` or
            ``"within-relation"``. (default: ``"across-relation"``)
        attention_mode (str, optional): ``"additive-self-attention"`` or
            ``"multiplicative-self-attention"``. (default: ``"additive-self-attention"``)
        heads (int, optional): number of attention heads. (default: ``1``)
        dim (int, optional): scores per head (multiplicative attention only).
            (default: ``1``)
        concat (bool, optional): concatenate the heads, else average them.
            (default: ``True``)
        negative_slope (float, optional): LeakyReLU slope. (default: ``0.2``)
        dropout (float, optional): dropout on the attention coefficients. (default: ``0.``)
        edge_dim (int, optional): edge feature width; enables the edge term.
            (default: ``None``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``).

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``, ``edge_type`` ``[E]``,
    ``edge_attr`` ``[E, edge_dim]`` -> ``[N, heads * dim * out_channels]``
    (``[N, dim * out_channels]`` with ``concat=False``); with
    ``return_attention_weights=True`` also ``(edge_index, alpha [E, heads * dim])``.
    """

    def __init__(self, in_channels: int, out_channels: int, num_relations: int,
                 num_bases: Optional[int] = None, num_blocks: Optional[int] = None,
                 mod: Optional[str] = None,
                 attention_mechanism: str = "across-relation",
                 attention_mode: str = "additive-self-attention", heads: int = 1,
                 dim: int = 1, concat: bool = True, negative_slope: float = 0.2,
                 dropout: float = 0.0, edge_dim: Optional[int] = None, bias: bool = True,
                 **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(node_dim=0, **kwargs)
        if attention_mechanism not in MECHANISMS:
            raise ValueError(f"RGATConv: 'attention_mechanism' must be one of {MECHANISMS}, "
                             f"got {attention_mechanism!r}")
        if attention_mode not in MODES:
            raise ValueError(f"RGATConv: 'attention_mode' must be one of {MODES}, got "
                             f"{attention_mode!r}")
        if attention_mode == MODES[0] and dim > 1:
            raise ValueError(f"RGATConv: additive self-attention has one score per head; "
                             f"'dim'={dim} needs attention_mode='{MODES[1]}'")
        if num_bases is not None and num_blocks is not None:
            raise ValueError("RGATConv: 'num_bases' and 'num_blocks' cannot both be set")
        if num_blocks is not None and (in_channels % num_blocks
                                       or heads * out_channels % num_blocks):
            raise ValueError(f"RGATConv: 'in_channels' ({in_channels}) and 'heads * "
                             f"out_channels' ({heads * out_channels}) must be multiples of "
                             f"'num_blocks' ({num_blocks})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_relations = num_relations
        self.num_bases = num_bases
        self.num_blocks = num_blocks
        self.mod = mod
        self.attention_mechanism = attention_mechanism
        self.attention_mode = attention_mode
        self.heads = heads
        self.dim = dim
        self.concat = concat
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.edge_dim = edge_dim
        width = heads * out_channels
        self.q = Parameter(torch.empty(width, heads * dim))
        self.k = Parameter(torch.empty(width, heads * dim))
        total = heads * dim * out_channels if concat else dim * out_channels
        self.bias = Parameter(torch.empty(total)) if bias else None
        if edge_dim is not None:
            self.lin_edge = Linear(edge_dim, width, bias=False, weight_initializer="glorot")
            self.e = Parameter(torch.empty(width, heads * dim))
        else:
            self.lin_edge = None
            self.register_parameter("e", None)
        if num_bases is not None:
            self.att = Parameter(torch.empty(num_relations, num_bases))
            self.basis = Parameter(torch.empty(num_bases, in_channels, width))
            self.register_parameter("weight", None)
        elif num_blocks is not None:
            self.weight = Parameter(torch.empty(num_relations, num_blocks,
                                                in_channels // num_blocks,
                                                width // num_blocks))
        else:
            self.weight = Parameter(torch.empty(num_relations, in_channels, width))
        self.w = Parameter(torch.empty(out_channels))
        self.l1 = Parameter(torch.empty(1, out_channels))
        self.b1 = Parameter(torch.empty(1, out_channels))
        self.l2 = Parameter(torch.empty(out_channels, out_channels))
        self.b2 = Parameter(torch.empty(1, out_channels))
        self._alpha: Optional[Tensor] = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for name in ("weight", "att", "basis", "q", "k", "e", "l2"):
            inits.glorot(getattr(self, name, None))
        if self.lin_edge is not None:
            self.lin_edge.reset_parameters()
        inits.ones(self.w)
        inits.ones(self.l1)
        inits.zeros(self.b1)
        inits.zeros(self.b2)
        inits.zeros(self.bias)

    def relation_weights(self) -> Tensor:
        """:math:`\\mathbf{W}_r` for every relation (bases combined)."""
        if self.num_bases is None:
            return self.weight
        return (self.att @ self.basis.view(self.num_bases, -1)).view(
            self.num_relations, self.in_channels, self.heads * self.out_channels)

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None,
                edge_attr: Optional[Tensor] = None, size: Optional[Tuple[int, int]] = None,
                return_attention_weights: Optional[bool] = None):
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        self._check(x, edge_index, edge_type, edge_attr)
        if edge_attr is not None:
            edge_attr = edge_attr.reshape(edge_attr.shape[0], self.edge_dim)
        out = self.propagate(edge_index, x=x, edge_type=edge_type, edge_attr=edge_attr,
                             size=size)
        alpha, self._alpha = self._alpha, None
        if return_attention_weights:
            return out, (edge_index, alpha)
        return out

    def _check(self, x, edge_index, edge_type, edge_attr) -> None:
        if edge_type is None:
            raise ValueError("RGATConv: 'edge_type' is required (one relation id per edge)")
        if edge_attr is not None:
            if self.edge_dim is None:
                raise ValueError("RGATConv: got 'edge_attr' but the layer was built without "
                                 "'edge_dim'")
            check_edge_attr("RGATConv", edge_attr, edge_index, self.edge_dim)
        if is_tracing(x, edge_index, edge_type):
            return
        if not x.is_floating_point() or x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"RGATConv: 'x' must be floating-point node features of shape "
                             f"[num_nodes, {self.in_channels}], got {x.dtype} "
                             f"{list(x.shape)}")
        if edge_type.dim() != 1 or edge_type.numel() != edge_index.shape[-1]:
            raise ValueError(f"RGATConv: 'edge_type' must have one entry per edge "
                             f"({edge_index.shape[-1]}), got shape {list(edge_type.shape)}")
        if edge_type.numel() and (int(edge_type.min()) < 0
                                  or int(edge_type.max()) >= self.num_relations):
            raise IndexError(f"RGATConv: 'edge_type' must lie in [0, {self.num_relations}), "
                             f"got values in [{int(edge_type.min())}, "
                             f"{int(edge_type.max())}]")

    def _transform(self, x: Tensor, edge_type: Tensor) -> Tensor:
        """:math:`\\mathbf{W}_{r_e} \\mathbf{x}` for edge-level rows ``x``."""
        width = self.heads * self.out_channels
        if self.num_blocks is not None:
            w = self.weight[edge_type]  # [E, B, in / B, width / B]
            x = x.view(-1, self.num_blocks, self.in_channels // self.num_blocks)
            return torch.einsum("ebi,ebio->ebo", x, w).reshape(-1, width)
        w = self.relation_weights()[edge_type]  # [E, in, width]
        return torch.bmm(x.unsqueeze(1), w).squeeze(1)

    def message(self, x_i: Tensor, x_j: Tensor, edge_type: Tensor,
                edge_attr: Optional[Tensor], index: Tensor, size_i: Optional[int]) -> Tensor:
        H, D, C = self.heads, self.dim, self.out_channels
        out_i = self._transform(x_i, edge_type)
        out_j = self._transform(x_j, edge_type)
        q_i, k_j = out_i @ self.q, out_j @ self.k
        additive = self.attention_mode == MODES[0]
        if additive:
            alpha = q_i + k_j
        else:
            alpha = q_i * k_j
        if edge_attr is not None and self.lin_edge is not None:
            alpha_edge = self.lin_edge(edge_attr) @ self.e
            alpha = alpha + alpha_edge if additive else alpha * alpha_edge
        if additive:
            alpha = F.leaky_relu(alpha, self.negative_slope)
        if self.attention_mechanism == "within-relation":
            # one softmax group per (target, relation) pair
            group = index * self.num_relations + edge_type
            num_groups = None if size_i is None else size_i * self.num_relations
            alpha = softmax(alpha, group, num_nodes=num_groups)
        else:
            alpha = softmax(alpha, index, num_nodes=size_i)
        if not isinstance(alpha, torch.fx.Proxy):  # a captured module keeps no proxy
            self._alpha = alpha

        if self.mod in ("f-scaled", "scaled"):
            degree = scatter(torch.ones_like(index, dtype=alpha.dtype), index, 0, size_i,
                             "sum")[index].unsqueeze(-1)  # in-degree of every edge's target
        if self.mod == "f-additive":
            alpha = torch.where(alpha > 0, alpha + 1, alpha)
        elif self.mod == "f-scaled":
            alpha = alpha * degree
        else:
            alpha = F.dropout(alpha, p=self.dropout, training=self.training)

        if additive:
            msg = alpha.view(-1, H, 1) * out_j.view(-1, H, C)
            value = out_j.view(-1, H, C)
        else:
            msg = alpha.view(-1, H, D, 1) * out_j.view(-1, H, 1, C)
            value = out_j.view(-1, H, 1, C).expand(-1, H, D, C)
        if self.mod == "additive":
            msg = msg + self.w * value
        elif self.mod == "scaled":
            scale = F.relu(degree @ self.l1 + self.b1) @ self.l2 + self.b2  # [E, C]
            msg = msg * (scale.view(-1, 1, C) if additive else scale.view(-1, 1, 1, C))
        return msg

    def update(self, aggr_out: Tensor) -> Tensor:
        if self.concat:
            out = aggr_out.reshape(aggr_out.shape[0], -1)
        else:
            out = aggr_out.mean(dim=1).reshape(aggr_out.shape[0], -1)
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")


__all__ = ["RGATConv"]
