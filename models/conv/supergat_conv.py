"""``SuperGATConv``: self-supervised graph attention of Kim and Oh (ICLR 2021)."""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.dense.linear import Linear
from gfx.ops._checks import is_tracing
from gfx.utils import (batched_negative_sampling, dropout_edge, is_undirected,
                       negative_sampling, softmax, to_undirected)
from gfx.utils.loops import add_self_loops, remove_self_loops
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

ATTENTION_TYPES = ("MX", "SD")


def _replace_loops(edge_index: Tensor, num_nodes: int) -> Tensor:
    edge_index, _ = remove_self_loops(edge_index)
    return add_self_loops(edge_index, num_nodes=num_nodes)[0]


# Loop insertion is graph structure: one call in captured graphs.
torch.fx.wrap("_replace_loops")


class SuperGATConv(MessagePassing):
    """The self-supervised graph attentional operator of "How to Find Your Friendly
    Neighborhood: Graph Attention Design with Self-Supervision".

    .. math::
        \\mathbf{x}^{\\prime}_i = \\alpha_{i,i}\\mathbf{\\Theta}\\mathbf{x}_{i} +
        \\sum_{j \\in \\mathcal{N}(i)} \\alpha_{i,j}\\mathbf{\\Theta}\\mathbf{x}_{j},
        \\qquad
        \\alpha_{i,j} = \\mathrm{softmax}_{j \\in \\mathcal{N}(i) \\cup \\{i\\}}
        \\left(\\mathrm{LeakyReLU}(e_{i,j})\\right)

    per head, with the "mixed" (``MX``) or "scaled dot-product" (``SD``) score

    .. math::
        e_{i,j}^{\\mathrm{MX}} = \\mathbf{a}^{\\top} [\\mathbf{\\Theta}\\mathbf{x}_i
        \\,\\Vert\\, \\mathbf{\\Theta}\\mathbf{x}_j] \\cdot \\sigma\\left(
        (\\mathbf{\\Theta}\\mathbf{x}_i)^{\\top} \\mathbf{\\Theta}\\mathbf{x}_j \\right),
        \\qquad
        e_{i,j}^{\\mathrm{SD}} = \\frac{(\\mathbf{\\Theta}\\mathbf{x}_i)^{\\top}
        \\mathbf{\\Theta}\\mathbf{x}_j}{\\sqrt{d}}

    (:math:`\\mathbf{a} = [\\mathbf{a}_r; \\mathbf{a}_l]`: ``att_r`` reads the target,
    ``att_l`` the source; :math:`d` is ``out_channels``).  In training mode the layer
    also records a self-supervised link prediction task: the logits
    :math:`(\\mathbf{\\Theta}\\mathbf{x}_i)^{\\top} \\mathbf{\\Theta}\\mathbf{x}_j` (divided
    by :math:`\\sqrt{d}` for ``SD``) of a sample of the edges (``edge_sample_ratio``,
    self-loops included) labelled 1 and of negative pairs labelled 0.  The negatives are
    ``neg_edge_index`` or, when not given, ``int(neg_sample_ratio * edge_sample_ratio *
    E)`` node pairs drawn among the non-edges of the undirected graph (per graph of
    ``batch``).  :meth:`get_attention_loss` turns them into a binary cross-entropy.

    Recording happens in eager training calls only: a module captured with
    :func:`gfx.capture` / :func:`gfx.compile` computes the output but does not record
    the logits (they are a side effect, not an output of the layer).

    Args:
        in_channels (int): input features per node, or ``-1`` (lazy).
        out_channels (int): output features per head.
        heads (int, optional): attention heads. (default: ``1``)
        concat (bool, optional): concatenate the heads (else average them).
            (default: ``True``)
        negative_slope (float, optional): LeakyReLU slope. (default: ``0.2``)
        dropout (float, optional): dropout of the attention coefficients (training only).
            (default: ``0.0``)
        add_self_loops (bool, optional): replace the self-loops by one per node.
            (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        attention_type (str, optional): ``"MX"`` or ``"SD"``. (default: ``"MX"``)
        neg_sample_ratio (float, optional): negatives per positive edge.
            (default: ``0.5``)
        edge_sample_ratio (float, optional): share of the edges used as positives.
            (default: ``1.0``)
        is_undirected (bool, optional): the graph is known to be undirected; otherwise it
            is checked, and made undirected before sampling negatives. (default: ``False``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``,
            ``node_dim`` ``0``).

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a torch.sparse
    ``adj_t``, ``neg_edge_index`` ``[2, E_neg]``, ``batch`` ``[N]`` ->
    ``[N, heads * out_channels]`` (``[N, out_channels]`` when not ``concat``).
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1,
                 concat: bool = True, negative_slope: float = 0.2, dropout: float = 0.0,
                 add_self_loops: bool = True, bias: bool = True, attention_type: str = "MX",
                 neg_sample_ratio: float = 0.5, edge_sample_ratio: float = 1.0,
                 is_undirected: bool = False, **kwargs):
        kwargs.setdefault("aggr", "add")
        kwargs.setdefault("node_dim", 0)
        super().__init__(**kwargs)
        if attention_type not in ATTENTION_TYPES:
            raise ValueError(f"SuperGATConv: 'attention_type' must be one of "
                             f"{ATTENTION_TYPES}, got {attention_type!r}")
        if not 0.0 < edge_sample_ratio <= 1.0:
            raise ValueError(f"SuperGATConv: 'edge_sample_ratio' must be in (0, 1], got "
                             f"{edge_sample_ratio}")
        if neg_sample_ratio < 0:
            raise ValueError(f"SuperGATConv: 'neg_sample_ratio' must be >= 0, got "
                             f"{neg_sample_ratio}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.add_self_loops = add_self_loops
        self.attention_type = attention_type
        self.neg_sample_ratio = neg_sample_ratio
        self.edge_sample_ratio = edge_sample_ratio
        self.is_undirected = is_undirected
        self.lin = Linear(in_channels, heads * out_channels, bias=False,
                          weight_initializer="glorot")
        if attention_type == "MX":
            self.att_l = Parameter(torch.empty(1, heads, out_channels))
            self.att_r = Parameter(torch.empty(1, heads, out_channels))
        else:
            self.register_parameter("att_l", None)
            self.register_parameter("att_r", None)
        self.att_x: Optional[Tensor] = None
        self.att_y: Optional[Tensor] = None
        width = heads * out_channels if concat else out_channels
        self.bias = Parameter(torch.empty(width)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        inits.glorot(self.att_l)
        inits.glorot(self.att_r)
        inits.zeros(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor, neg_edge_index: Optional[Tensor] = None,
                batch: Optional[Tensor] = None) -> Tensor:
        N, H, C = x.shape[0], self.heads, self.out_channels
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        if self.add_self_loops:
            edge_index = _replace_loops(edge_index, N)
        h = self.lin(x).view(-1, H, C)
        out = self.propagate(edge_index, x=h, size=None)

        if self.training and not is_tracing(x):
            self._record_link_task(h, edge_index, neg_edge_index, batch)

        out = out.reshape(-1, H * C) if self.concat else out.mean(dim=1)
        if self.bias is not None:
            out = out + self.bias
        return out

    def _record_link_task(self, h: Tensor, edge_index: Tensor,
                          neg_edge_index: Optional[Tensor], batch: Optional[Tensor]) -> None:
        num_nodes = h.shape[0]
        pos = self.positive_sampling(edge_index)
        if neg_edge_index is None:
            neg_edge_index = self.negative_sampling(edge_index, num_nodes, batch)
        elif neg_edge_index.dim() != 2 or neg_edge_index.shape[0] != 2:
            raise ValueError(f"SuperGATConv: 'neg_edge_index' must have shape [2, E_neg], "
                             f"got {list(neg_edge_index.shape)}")
        logits = [self.get_attention(e[1], h[e[1]], h[e[0]], num_nodes, return_logits=True)
                  for e in (pos, neg_edge_index)]
        self.att_x = torch.cat(logits, dim=0)
        self.att_y = self.att_x.new_zeros(self.att_x.shape[0])
        self.att_y[:pos.shape[1]] = 1.0

    def message(self, edge_index_i: Tensor, x_i: Tensor, x_j: Tensor,
                size_i: Optional[int]) -> Tensor:
        alpha = self.get_attention(edge_index_i, x_i, x_j, num_nodes=size_i)
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        return x_j * alpha.unsqueeze(-1)

    def negative_sampling(self, edge_index: Tensor, num_nodes: int,
                          batch: Optional[Tensor] = None) -> Tensor:
        """Draw the negative pairs of the link task (see the class docstring)."""
        count = int(self.neg_sample_ratio * self.edge_sample_ratio * edge_index.shape[1])
        if not self.is_undirected and not is_undirected(edge_index, num_nodes=num_nodes):
            edge_index = to_undirected(edge_index, num_nodes=num_nodes)
        if batch is None:
            return negative_sampling(edge_index, num_nodes, num_neg_samples=count)
        return batched_negative_sampling(edge_index, batch, num_neg_samples=count)

    def positive_sampling(self, edge_index: Tensor) -> Tensor:
        """Keep each edge with probability ``edge_sample_ratio`` (training only)."""
        return dropout_edge(edge_index, p=1.0 - self.edge_sample_ratio,
                            training=self.training)[0]

    def get_attention(self, edge_index_i: Tensor, x_i: Tensor, x_j: Tensor,
                      num_nodes: Optional[int], return_logits: bool = False) -> Tensor:
        """Attention coefficients ``[E, heads]`` of the edges ``j -> i``.

        Args:
            edge_index_i (Tensor): ``[E]`` target of every edge (the softmax groups).
            x_i (Tensor): ``[E, heads, out_channels]`` transformed target features.
            x_j (Tensor): ``[E, heads, out_channels]`` transformed source features.
            num_nodes (int, optional): number of targets.
            return_logits (bool, optional): return the link-prediction logits instead.
                (default: ``False``)
        """
        if self.attention_type == "MX":
            logits = (x_i * x_j).sum(dim=-1)
            if return_logits:
                return logits
            alpha = (x_j * self.att_l).sum(-1) + (x_i * self.att_r).sum(-1)
            alpha = alpha * logits.sigmoid()
        else:
            alpha = (x_i * x_j).sum(dim=-1) / math.sqrt(self.out_channels)
            if return_logits:
                return alpha
        alpha = F.leaky_relu(alpha, self.negative_slope)
        return softmax(alpha, edge_index_i, num_nodes=num_nodes)

    def get_attention_loss(self) -> Tensor:
        """Binary cross-entropy of the recorded link task (0 outside training)."""
        if not self.training:
            return torch.tensor([0], device=self.lin.weight.device)
        if self.att_x is None:
            raise RuntimeError("SuperGATConv.get_attention_loss: call the layer in training "
                               "mode first (no link-prediction logits were recorded)")
        return F.binary_cross_entropy_with_logits(self.att_x.mean(dim=-1), self.att_y)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads}, type={self.attention_type})")


__all__ = ["SuperGATConv"]
