"""``LabelPropagation``: spreading known labels over the graph (Zhu and Ghahramani, 2002;
the variant of Huang et al., "Combining Label Propagation and Simple Models Out-performs
Graph Neural Networks", ICLR 2021)."""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.utils import is_torch_sparse_tensor, adj_t_to_edge_index


class LabelPropagation(MessagePassing):
    """The label propagation operator of "Learning from Labeled and Unlabeled Data with
    Label Propagation", as used by "Combining Label Propagation and Simple Models
    Out-performs Graph Neural Networks".

    Starting from :math:`\\mathbf{Y}^{(0)}` (the labels, one-hot for class ids, zero on
    the rows outside ``mask``), each of the ``num_layers`` steps computes

    .. math::
        \\mathbf{Y}^{(\\ell)} = \\mathrm{post}\\left(\\alpha\\, \\mathbf{D}^{-1/2}
        \\mathbf{A}\\mathbf{D}^{-1/2}\\mathbf{Y}^{(\\ell-1)} +
        (1 - \\alpha)\\, \\mathbf{Y}^{(0)}\\right)

    with :math:`\\mathbf{A}` the adjacency, no self-loops added, degrees counted at the
    targets, and ``post`` the ``post_step`` callable (default: clamp to :math:`[0, 1]`).
    Given ``edge_weight``, the weights are taken as the already normalised propagation
    matrix :math:`\\mathbf{D}^{-1/2}\\mathbf{A}\\mathbf{D}^{-1/2}` and used as they are
    (as the reference library does).

    Args:
        num_layers (int): the number of propagation steps.
        alpha (float): the coefficient :math:`\\alpha`.
    """

    def __init__(self, num_layers: int, alpha: float):
        super().__init__(aggr="add")
        if not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f"LabelPropagation: 'num_layers' must be an int >= 0, got "
                             f"{num_layers!r}")
        self.num_layers = num_layers
        self.alpha = alpha

    @torch.no_grad()
    def forward(self, y: Tensor, edge_index: Tensor, mask: Optional[Tensor] = None,
                edge_weight: Optional[Tensor] = None,
                post_step: Optional[Callable[[Tensor], Tensor]] = None) -> Tensor:
        """Propagate ``y`` (``[N]`` class ids or ``[N, C]`` scores) over ``edge_index``;
        only the rows in ``mask`` (a boolean mask or an index) seed the propagation."""
        if y.dtype == torch.long and y.numel() == y.size(0):
            y = F.one_hot(y.view(-1)).to(torch.float)
        out = y
        if mask is not None:
            if mask.dtype == torch.bool and mask.shape != (y.size(0),):
                raise ValueError(f"LabelPropagation: boolean 'mask' must have shape "
                                 f"[{y.size(0)}], got {list(mask.shape)}")
            out = torch.zeros_like(y)
            out[mask] = y[mask]
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if edge_weight is None:
            edge_index, edge_weight = gcn_norm(edge_index, None, y.size(0),
                                               add_self_loops=False, dtype=out.dtype)
        elif edge_weight.shape != (edge_index.shape[1],):
            raise ValueError(f"LabelPropagation: 'edge_weight' must have shape "
                             f"[{edge_index.shape[1]}], got {list(edge_weight.shape)}")
        res = (1 - self.alpha) * out
        for _ in range(self.num_layers):
            out = self.propagate(edge_index, x=out, edge_weight=edge_weight)
            out = self.alpha * out + res
            out = post_step(out) if post_step is not None else out.clamp(0.0, 1.0)
        return out

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_layers={self.num_layers}, alpha={self.alpha})"


__all__ = ["LabelPropagation"]
