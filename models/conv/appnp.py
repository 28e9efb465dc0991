"""``APPNP``: personalized-PageRank propagation of Gasteiger, Bojchevski and Günnemann
(ICLR 2019)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.utils import is_torch_sparse_tensor, is_tracing, adj_t_to_edge_index

# gcn_norm is graph structure: one node in a captured graph (see gcn_conv.py).
torch.fx.wrap("gcn_norm")


class APPNP(MessagePassing):
    """The propagation of "Predict then Propagate: Graph Neural Networks meet Personalized
    PageRank" (a parameter-free layer).

    .. math::
        \\mathbf{X}^{(0)} = \\mathbf{X}, \\qquad
        \\mathbf{X}^{(k)} = (1 - \\alpha) \\hat{\\mathbf{D}}^{-1/2} \\hat{\\mathbf{A}}
        \\hat{\\mathbf{D}}^{-1/2} \\mathbf{X}^{(k-1)} + \\alpha \\mathbf{X}^{(0)}, \\qquad
        \\mathbf{X}' = \\mathbf{X}^{(K)}

    with :math:`\\hat{\\mathbf{A}} = \\mathbf{A} + \\mathbf{I}` (a node that already has a
    self-loop keeps its weight), optionally weighted by ``edge_weight``, and
    :math:`\\hat{D}_{ii} = \\sum_j \\hat{A}_{ij}`.  With ``normalize=False`` the plain
    (weighted) adjacency :math:`\\mathbf{A}` propagates and no loops are added.

    In training mode with ``dropout > 0`` each of the :math:`K` steps drops edges: their
    (normalised) weights go through :func:`torch.nn.functional.dropout`, a fresh mask per
    step.  Without normalisation and without ``edge_weight`` the weights are all 1 first
    (the reference library requires ``edge_weight`` there).

    Args:
        K (int): number of propagation steps :math:`K`.
        alpha (float): teleport probability :math:`\\alpha`.
        dropout (float, optional): edge dropout probability in training. (default: ``0.0``)
        cached (bool, optional): compute the normalised graph on the first call and reuse
            it on every later call (transductive settings only). (default: ``False``)
        add_self_loops (bool, optional): add self-loops (only with ``normalize=True``).
            (default: ``True``)
        normalize (bool, optional): add self-loops and apply the symmetric normalisation.
            (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, F]``, ``edge_index`` ``[2, E]`` or a sparse ``adj_t``,
    ``edge_weight`` ``[E]`` -> ``[N, F]``.
    """

    def __init__(self, K: int, alpha: float, dropout: float = 0.0, cached: bool = False,
                 add_self_loops: bool = True, normalize: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if not isinstance(K, int) or K < 0:
            raise ValueError(f"APPNP: 'K' must be a non-negative int, got {K!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"APPNP: 'dropout' must be in [0, 1], got {dropout}")
        self.K = K
        self.alpha = alpha
        self.dropout = dropout
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self._cached_graph: Optional[Tuple[Tensor, Tensor]] = None

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self._cached_graph = None

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if isinstance(x, (tuple, list)):
            raise ValueError("APPNP does not support bipartite (source, target) inputs")
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if not is_tracing(x) and edge_weight is not None and \
                edge_weight.shape != (edge_index.shape[-1],):
            raise ValueError(f"APPNP: 'edge_weight' must have shape [num_edges="
                             f"{edge_index.shape[-1]}], got {list(edge_weight.shape)}")
        if self.normalize:
            if self.cached and self._cached_graph is not None:
                edge_index, edge_weight = self._cached_graph
            else:
                edge_index, edge_weight = gcn_norm(
                    edge_index, edge_weight, x.shape[self.node_dim], False,
                    self.add_self_loops, self.flow, x.dtype)
                if self.cached and not is_tracing(x):
                    self._cached_graph = (edge_index, edge_weight)
        drop_edges = self.dropout > 0 and self.training
        if drop_edges and edge_weight is None:
            edge_weight = x.new_ones(edge_index.shape[1])
        h = x
        for _ in range(self.K):
            weight = edge_weight
            if drop_edges:
                weight = F.dropout(edge_weight, p=self.dropout, training=True)
            x = self.propagate(edge_index, x=x, edge_weight=weight)
            x = x * (1.0 - self.alpha) + h * self.alpha
        return x

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}(K={self.K}, alpha={self.alpha})"


__all__ = ["APPNP"]
