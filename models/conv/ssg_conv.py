"""``SSGConv``: the simple spectral graph convolution of Zhu and Koniusz (ICLR 2021)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.nn.dense.linear import Linear
from gfx.utils import is_torch_sparse_tensor, is_tracing, adj_t_to_edge_index

# gcn_norm is graph structure: one node in a captured graph (see gcn_conv.py).
torch.fx.wrap("gcn_norm")


class SSGConv(MessagePassing):
    """The simple spectral graph convolution of "Simple Spectral Graph Convolution".

    .. math::
        \\mathbf{X}' = \\frac{1}{K} \\sum_{k=1}^{K} \\left((1 - \\alpha)
        \\mathbf{T}^k \\mathbf{X} + \\alpha \\mathbf{X}\\right) \\mathbf{\\Theta}
        + \\mathbf{b}, \\qquad \\mathbf{T} = \\hat{\\mathbf{D}}^{-1/2} \\hat{\\mathbf{A}}
        \\hat{\\mathbf{D}}^{-1/2}

    with :math:`\\hat{\\mathbf{A}} = \\mathbf{A} + \\mathbf{I}` (a node that already has a
    self-loop keeps its weight; no loops with ``add_self_loops=False``), optionally
    weighted by ``edge_weight``, and :math:`\\hat{D}_{ii} = \\sum_j \\hat{A}_{ij}`.

    Args:
        in_channels (int): input features per node, or ``-1`` (lazy).
        out_channels (int): output features per node.
        alpha (float): teleport weight :math:`\\alpha \\in [0, 1]` of the input features.
        K (int, optional): number of hops :math:`K` (at least 1). (default: ``1``)
        cached (bool, optional): keep the smoothed features (the sum divided by
            :math:`K`, before :math:`\\mathbf{\\Theta}`) of the first call
            and reuse them on every later call, ignoring the inputs (transductive
            settings only; the cached tensor is detached, so later calls send no gradient
            to ``x``). (default: ``False``)
        add_self_loops (bool, optional): add self-loops. (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a sparse ``adj_t``,
    ``edge_weight`` ``[E]`` -> ``[N, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, alpha: float, K: int = 1,
                 cached: bool = False, add_self_loops: bool = True, bias: bool = True,
                 **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if not isinstance(K, int) or K < 1:
            raise ValueError(f"SSGConv: 'K' must be a positive int, got {K!r}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"SSGConv: 'alpha' must be in [0, 1], got {alpha}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.alpha = alpha
        self.K = K
        self.cached = cached
        self.add_self_loops = add_self_loops
        self._cached_x: Optional[Tensor] = None
        self.lin = Linear(in_channels, out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        self._cached_x = None

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if self.cached and self._cached_x is not None:
            return self.lin(self._cached_x)
        if isinstance(x, (tuple, list)):
            raise ValueError("SSGConv does not support bipartite (source, target) inputs")
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if not is_tracing(x):
            if self.in_channels > 0 and x.shape[-1] != self.in_channels:
                raise ValueError(f"SSGConv: 'x' must have in_channels={self.in_channels} "
                                 f"features in its last dimension, got shape {list(x.shape)}")
            if edge_weight is not None and edge_weight.shape != (edge_index.shape[-1],):
                raise ValueError(f"SSGConv: 'edge_weight' must have shape [num_edges="
                                 f"{edge_index.shape[-1]}], got {list(edge_weight.shape)}")
        edge_index, edge_weight = gcn_norm(edge_index, edge_weight, x.shape[self.node_dim],
                                           False, self.add_self_loops, self.flow, x.dtype)
        h = x
        total = x * self.alpha
        for _ in range(self.K):
            h = self.propagate(edge_index, x=h, edge_weight=edge_weight)
            total = total + h * ((1.0 - self.alpha) / self.K)
        x = total
        if self.cached and not is_tracing(x):
            self._cached_x = x.detach()
        return self.lin(x)

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}, K={self.K}, alpha={self.alpha})"


__all__ = ["SSGConv"]
