"""``DNAConv``: dynamic neighbourhood aggregation of Fey (2019), "Just Jump"."""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.ops._checks import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

# Normalisation is graph structure: one call in captured graphs (see gcn_conv).
torch.fx.wrap("gcn_norm")


class GroupedLinear(torch.nn.Module):
    """A linear map applied group-wise: channels split into ``groups`` equal slices, each
    slice mapped by its own ``[in / groups, out / groups]`` weight (``weight`` has shape
    ``[groups, in / groups, out / groups]``); one bias over all outputs."""

    def __init__(self, in_channels: int, out_channels: int, groups: int = 1,
                 bias: bool = True):
        super().__init__()
        if in_channels % groups != 0 or out_channels % groups != 0:
            raise ValueError(f"GroupedLinear: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be multiples of groups ({groups})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.groups = groups
        self.weight = Parameter(torch.empty(groups, in_channels // groups,
                                            out_channels // groups))
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        fan = self.weight.shape[1]
        inits.kaiming_uniform(self.weight, fan=fan, a=math.sqrt(5))
        inits.uniform(fan, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        lead = x.shape[:-1]
        x = x.reshape(-1, self.groups, self.in_channels // self.groups).transpose(0, 1)
        out = torch.matmul(x, self.weight).transpose(0, 1)  # [rows, groups, out / groups]
        out = out.reshape(lead + (self.out_channels,))
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"groups={self.groups})")


def restricted_softmax(src: Tensor, dim: int = -1, margin: float = 0.0) -> Tensor:
    """Softmax with an extra, constant logit ``margin`` in the denominator:
    :math:`e^{s_k} / (e^{\\mathrm{margin}} + \\sum_l e^{s_l})`, computed stably."""
    shift = src.amax(dim=dim, keepdim=True).clamp(min=0)
    out = (src - shift).exp()
    return out / (out.sum(dim=dim, keepdim=True) + (margin - shift).exp())


class MultiHead(torch.nn.Module):
    """Multi-head dot-product attention with grouped query, key and value maps."""

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1,
                 groups: int = 1, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value % heads != 0:
                raise ValueError(f"DNAConv: {name} ({value}) must be a multiple of heads "
                                 f"({heads})")
        if max(groups, heads) % min(groups, heads) != 0:
            raise ValueError(f"DNAConv: one of heads ({heads}) and groups ({groups}) must "
                             f"divide the other")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.groups = groups
        self.dropout = dropout
        self.lin_q = GroupedLinear(in_channels, out_channels, groups, bias)
        self.lin_k = GroupedLinear(in_channels, out_channels, groups, bias)
        self.lin_v = GroupedLinear(in_channels, out_channels, groups, bias)

    def reset_parameters(self) -> None:
        for lin in (self.lin_q, self.lin_k, self.lin_v):
            lin.reset_parameters()

    def forward(self, query: Tensor, key: Tensor, value: Tensor) -> Tensor:
        """``query`` ``[*, Q, in]``, ``key``/``value`` ``[*, K, in]`` -> ``[*, Q, out]``."""
        H, D = self.heads, self.out_channels // self.heads
        q, k, v = self.lin_q(query), self.lin_k(key), self.lin_v(value)
        split = lambda t: t.reshape(t.shape[:-1] + (H, D)).transpose(-2, -3)  # noqa: E731
        q, k, v = split(q), split(k), split(v)  # [*, H, rows, D]
        score = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(D)
        score = restricted_softmax(score, dim=-1)
        score = F.dropout(score, p=self.dropout, training=self.training)
        out = torch.matmul(score, v).transpose(-3, -2)  # [*, Q, H, D]
        return out.reshape(out.shape[:-2] + (self.out_channels,))


class DNAConv(MessagePassing):
    """The dynamic neighbourhood aggregation operator of "Just Jump: Towards Dynamic
    Neighborhood Aggregation in Graph Neural Networks".

    .. math::
        \\mathbf{x}_v^{(t)} = \\sum_{w \\in \\mathcal{N}(v) \\cup \\{v\\}}
        \\frac{1}{\\sqrt{\\hat d_v \\hat d_w}} \\, \\mathbf{x}_{v \\leftarrow w}^{(t)},
        \\qquad
        \\mathbf{x}_{v \\leftarrow w}^{(t)} = \\textrm{Attention} \\left(
        \\mathbf{x}^{(t-1)}_v \\mathbf{\\Theta}_Q^{(t)},
        [\\mathbf{x}_w^{(1)}, \\ldots, \\mathbf{x}_w^{(t-1)}] \\mathbf{\\Theta}_K^{(t)},
        [\\mathbf{x}_w^{(1)}, \\ldots, \\mathbf{x}_w^{(t-1)}] \\mathbf{\\Theta}_V^{(t)}
        \\right)

    Every node carries the history of its representations, ``x[:, l]`` for the earlier
    layers ``l``.  For each edge :math:`w \\to v` the newest representation of ``v``
    queries the history of ``w`` with multi-head dot-product attention (grouped
    projections :math:`\\mathbf{\\Theta}_{Q,K,V}` with bias), and the results are summed
    with GCN weights (a non-trainable ``GCNConv``: self-loops and symmetric normalisation
    when ``normalize``, else the given ``edge_weight`` or 1; the reference fails in
    that last case).  The attention
    normalises with one extra zero logit,
    :math:`\\alpha_l = e^{s_l} / (1 + \\sum_{l'} e^{s_{l'}})`, so a history that
    matches nothing may contribute little.

    Args:
        channels (int): features per node and layer (input and output).
        heads (int, optional): attention heads. (default: ``1``)
        groups (int, optional): groups of the projections. (default: ``1``)
        dropout (float, optional): dropout of the attention (training only).
            (default: ``0.``)
        cached (bool, optional): compute the normalised graph on the first call and reuse
            it (transductive settings only). (default: ``False``)
        normalize (bool, optional): add self-loops and normalise symmetrically.
            (default: ``True``)
        add_self_loops (bool, optional): add self-loops when normalising.
            (default: ``True``)
        bias (bool, optional): learn biases in the projections. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``,
            ``node_dim`` ``0``).

    Shapes: ``x`` ``[N, num_layers, channels]``, ``edge_index`` ``[2, E]`` or a
    torch.sparse ``adj_t``, ``edge_weight`` ``[E]`` -> ``[N, channels]``.
    """

    def __init__(self, channels: int, heads: int = 1, groups: int = 1, dropout: float = 0.0,
                 cached: bool = False, normalize: bool = True, add_self_loops: bool = True,
                 bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        kwargs.setdefault("node_dim", 0)
        super().__init__(**kwargs)
        self.cached = cached
        self.normalize = normalize
        self.add_self_loops = add_self_loops
        self._cached_graph: Optional[Tuple[Tensor, Tensor]] = None
        self.multi_head = MultiHead(channels, channels, heads, groups, dropout, bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.multi_head.reset_parameters()
        self._cached_graph = None

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        channels = self.multi_head.in_channels
        if not is_tracing(x) and (x.dim() != 3 or x.shape[-1] != channels):
            raise ValueError(f"DNAConv: 'x' must have shape [num_nodes, num_layers, "
                             f"{channels}] (the history of each node), got {list(x.shape)}")
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if edge_weight is not None and not is_tracing(edge_weight, edge_index) and (
                edge_weight.dim() != 1 or edge_weight.shape[0] != edge_index.shape[1]):
            raise ValueError(f"DNAConv: 'edge_weight' must have shape [{edge_index.shape[1]}],"
                             f" got {list(edge_weight.shape)}")
        if self.normalize:
            if self.cached and self._cached_graph is not None:
                edge_index, edge_weight = self._cached_graph
            else:
                edge_index, edge_weight = gcn_norm(edge_index, edge_weight, x.shape[0], False,
                                                   self.add_self_loops, self.flow, x.dtype)
                if self.cached and not is_tracing(x):
                    self._cached_graph = (edge_index, edge_weight)
        return self.propagate(edge_index, x=x, edge_weight=edge_weight, size=None)

    def message(self, x_i: Tensor, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        out = self.multi_head(x_i[:, -1:], x_j, x_j).squeeze(1)
        return out if edge_weight is None else edge_weight.view(-1, 1) * out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.multi_head.in_channels}, "
                f"heads={self.multi_head.heads}, groups={self.multi_head.groups})")


__all__ = ["DNAConv"]
