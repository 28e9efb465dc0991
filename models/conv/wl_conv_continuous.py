"""``WLConvContinuous``: the continuous Weisfeiler-Lehman step of Togninalli et al. (2019)."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.ops import scatter
from gfx.ops._checks import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index


class WLConvContinuous(MessagePassing):
    """The Weisfeiler-Lehman operator of "Wasserstein Weisfeiler-Lehman Graph Kernels",
    for continuous node features:

    .. math::
        \\mathbf{x}^{\\prime}_i = \\frac{1}{2} \\left( \\mathbf{x}_i +
        \\frac{1}{\\sum_{j \\in \\mathcal{N}(i)} e_{j,i}} \\cdot
        \\sum_{j \\in \\mathcal{N}(i)} e_{j,i} \\cdot \\mathbf{x}_j \\right)

    with :math:`e_{j,i}` the weight of the edge from ``j`` to ``i`` (default 1).  A node
    whose incoming weights sum to 0 (no neighbours) keeps half its features.  When ``x``
    is a pair whose target side is ``None``, the result is the weighted mean alone.
    Under ``flow="target_to_source"`` the normaliser is the weight sum at the node that
    aggregates (``edge_index[0]``), so the result is still a mean; the reference divides
    by the weight sum at ``edge_index[1]`` whatever the flow (not a mean, and out of range
    for bipartite graphs).

    Args:
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``).

    Shapes: ``x`` ``[N, F]`` or ``([N_src, F], [N_dst, F] or None)``, ``edge_index``
    ``[2, E]`` or a torch.sparse ``adj_t``, ``edge_weight`` ``[E]`` -> ``[N_dst, F]``.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                edge_weight: Optional[Tensor] = None,
                size: Optional[Tuple[int, int]] = None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        if edge_weight is None:
            edge_weight = pair[0].new_ones(edge_index.shape[1])
        elif not is_tracing(edge_weight, edge_index) and (
                edge_weight.dim() != 1 or edge_weight.shape[0] != edge_index.shape[1]):
            raise ValueError(f"WLConvContinuous: 'edge_weight' must have shape "
                             f"[{edge_index.shape[1]}] (one weight per edge), got "
                             f"{list(edge_weight.shape)}")
        out = self.propagate(edge_index, x=pair, edge_weight=edge_weight, size=size)
        target = edge_index[self._lift_positions()[0]]
        deg = scatter(edge_weight, target, 0, out.shape[self.node_dim], "sum")
        deg_inv = torch.where(deg == 0, torch.zeros_like(deg), 1.0 / deg)
        out = deg_inv.view(-1, 1) * out
        if pair[1] is None:
            return out
        return 0.5 * (pair[1] + out)

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


__all__ = ["WLConvContinuous"]
