"""``FAConv``: the frequency adaptive graph convolution of Bo et al. (AAAI 2021)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.nn.dense.linear import Linear
from gfx.ops._checks import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

# Normalisation is graph structure: keep it one call in captured graphs (see gcn_conv).
torch.fx.wrap("gcn_norm")


class FAConv(MessagePassing):
    """The Frequency Adaptive Graph Convolution operator of "Beyond Low-Frequency
    Information in Graph Convolutional Networks".

    .. math::
        \\mathbf{x}^{\\prime}_i = \\epsilon \\cdot \\mathbf{x}^{(0)}_i +
        \\sum_{j \\in \\mathcal{N}(i)} \\frac{\\alpha_{i,j}}{\\sqrt{d_i d_j}}
        \\mathbf{x}_{j},
        \\qquad
        \\alpha_{i,j} = \\tanh\\left(\\mathbf{a}_l^{\\top} \\mathbf{x}_j +
        \\mathbf{a}_r^{\\top} \\mathbf{x}_i\\right)

    with :math:`\\mathbf{x}^{(0)}` the initial features and :math:`d_i` the degree of
    ``i`` (self-loop included when ``add_self_loops``).  The coefficient
    :math:`\\alpha_{i,j} \\in (-1, 1)` lets an edge pass low (positive) or high
    (negative) frequencies; :math:`[\\mathbf{a}_l; \\mathbf{a}_r]` is the vector
    :math:`\\mathbf{a}` of the paper (``att_l`` reads the source, ``att_r`` the target).
    With ``normalize=False`` the factor :math:`1/\\sqrt{d_i d_j}` is replaced by the given
    ``edge_weight`` and no loops are added.

    Args:
        channels (int): features per node (input and output).
        eps (float, optional): weight :math:`\\epsilon` of the initial features.
            (default: ``0.1``)
        dropout (float, optional): dropout of the coefficients (training only).
            (default: ``0.``)
        cached (bool, optional): compute the normalised graph on the first call and reuse
            it (transductive settings only). (default: ``False``)
        add_self_loops (bool, optional): add a self-loop per node before normalising.
            (default: ``True``)
        normalize (bool, optional): compute :math:`1/\\sqrt{d_i d_j}` (and the loops); if
            ``False``, ``edge_weight`` must be passed to ``forward``. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``).

    Shapes: ``x`` and ``x_0`` ``[N, channels]``, ``edge_index`` ``[2, E]`` or a
    torch.sparse ``adj_t``, ``edge_weight`` ``[E]`` -> ``[N, channels]``; with
    ``return_attention_weights=True`` also ``(edge_index', alpha [E'])`` (the
    coefficients before dropout, on the graph with loops).
    """

    def __init__(self, channels: int, eps: float = 0.1, dropout: float = 0.0,
                 cached: bool = False, add_self_loops: bool = True, normalize: bool = True,
                 **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        self.channels = channels
        self.eps = eps
        self.dropout = dropout
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self._cached_graph: Optional[Tuple[Tensor, Tensor]] = None
        self.att_l = Linear(channels, 1, bias=False)
        self.att_r = Linear(channels, 1, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.att_l.reset_parameters()
        self.att_r.reset_parameters()
        self._cached_graph = None

    def forward(self, x: Tensor, x_0: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None,
                return_attention_weights: Optional[bool] = None):
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            if not self.normalize and edge_weight is None:
                edge_weight = values
        if self.normalize:
            if edge_weight is not None:
                raise ValueError("FAConv: 'edge_weight' is computed by the layer when "
                                 "normalize=True; pass it only with normalize=False")
            if self.cached and self._cached_graph is not None:
                edge_index, edge_weight = self._cached_graph
            else:
                edge_index, edge_weight = gcn_norm(edge_index, None, x.shape[self.node_dim],
                                                   False, self.add_self_loops, self.flow,
                                                   x.dtype)
                if self.cached and not is_tracing(x):
                    self._cached_graph = (edge_index, edge_weight)
        elif edge_weight is None:
            raise ValueError("FAConv: normalize=False needs 'edge_weight' (one weight per "
                             "edge) in forward")
        elif not is_tracing(edge_weight, edge_index) and (
                edge_weight.dim() != 1 or edge_weight.shape[0] != edge_index.shape[1]):
            raise ValueError(f"FAConv: 'edge_weight' must have shape [{edge_index.shape[1]}],"
                             f" got {list(edge_weight.shape)}")

        # A pair is indexed by edge_index row; give att_l to the source role either way.
        scores = (self.att_l(x), self.att_r(x))
        if self.flow == "target_to_source":
            scores = (scores[1], scores[0])
        alpha = self.edge_updater(edge_index, alpha=scores)
        out = self.propagate(edge_index, x=x, alpha=alpha, edge_weight=edge_weight)
        if self.eps != 0.0:
            out = out + self.eps * x_0
        if return_attention_weights:
            return out, (edge_index, alpha)
        return out

    def edge_update(self, alpha_j: Tensor, alpha_i: Tensor) -> Tensor:
        return (alpha_j + alpha_i).tanh().squeeze(-1)

    def message(self, x_j: Tensor, alpha: Tensor, edge_weight: Tensor) -> Tensor:
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        return x_j * (alpha * edge_weight).view(-1, 1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.channels}, eps={self.eps})"


__all__ = ["FAConv"]
