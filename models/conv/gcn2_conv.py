"""``GCN2Conv``: the GCNII layer of Chen et al. (ICML 2020)."""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.utils import is_torch_sparse_tensor, is_tracing, adj_t_to_edge_index

# gcn_norm is graph structure: one node in a captured graph (see gcn_conv.py).
torch.fx.wrap("gcn_norm")


class GCN2Conv(MessagePassing):
    """The graph convolution with initial residual and identity mapping (GCNII) of
    "Simple and Deep Graph Convolutional Networks".

    .. math::
        \\mathbf{X}' = \\left((1 - \\alpha) \\hat{\\mathbf{P}} \\mathbf{X} +
        \\alpha \\mathbf{X}^{(0)}\\right) \\left((1 - \\beta) \\mathbf{I} +
        \\beta \\mathbf{\\Theta}\\right)

    with :math:`\\hat{\\mathbf{P}} = \\hat{\\mathbf{D}}^{-1/2} \\hat{\\mathbf{A}}
    \\hat{\\mathbf{D}}^{-1/2}`, :math:`\\hat{\\mathbf{A}} = \\mathbf{A} + \\mathbf{I}`
    (existing self-loops keep their weight), :math:`\\hat{D}_{ii} = \\sum_j
    \\hat{A}_{ij}`, and :math:`\\beta = \\log(\\theta / \\ell + 1)` (:math:`\\beta = 1`
    when ``theta`` or ``layer`` is not given).  :math:`\\mathbf{\\Theta}` is ``weight1``
    and multiplies from the right (:math:`\\mathbf{X}\\mathbf{\\Theta}`).  With
    ``shared_weights=False`` ("GCNII*") the two summands get their own matrices:
    :math:`(1-\\alpha)\\hat{\\mathbf{P}}\\mathbf{X}` uses ``weight1`` and
    :math:`\\alpha \\mathbf{X}^{(0)}` uses ``weight2``.

    As in the reference library, ``x_0`` may have more rows than ``x``: only its first
    :math:`N` rows are used (mini-batches whose seed nodes come first).

    Args:
        channels (int): input and output features per node.
        alpha (float): strength :math:`\\alpha` of the initial residual.
        theta (float, optional): :math:`\\theta` of the identity mapping strength.
            (default: ``None``)
        layer (int, optional): the layer index :math:`\\ell`. (default: ``None``)
        shared_weights (bool, optional): one weight for both summands. (default: ``True``)
        cached (bool, optional): compute the normalised graph on the first call and reuse
            it on every later call (transductive settings only). (default: ``False``)
        add_self_loops (bool, optional): add self-loops. (default: ``True``)
        normalize (bool, optional): apply the symmetric normalisation (and the loops).
            (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, channels]``, ``x_0`` ``[N0 >= N, channels]``, ``edge_index``
    ``[2, E]`` or a sparse ``adj_t``, ``edge_weight`` ``[E]`` -> ``[N, channels]``.
    """

    def __init__(self, channels: int, alpha: float, theta: Optional[float] = None,
                 layer: Optional[int] = None, shared_weights: bool = True,
                 cached: bool = False, add_self_loops: bool = True, normalize: bool = True,
                 **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"GCN2Conv: 'channels' must be a positive int, got {channels!r}")
        self.channels = channels
        self.alpha = alpha
        self.beta = 1.0
        if theta is not None or layer is not None:
            if theta is None or layer is None or layer < 1:
                raise ValueError(f"GCN2Conv: 'theta' and 'layer' (>= 1) go together, got "
                                 f"theta={theta!r}, layer={layer!r}")
            self.beta = math.log(theta / layer + 1)
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self._cached_graph: Optional[Tuple[Tensor, Tensor]] = None
        self.weight1 = Parameter(torch.empty(channels, channels))
        self.weight2 = None if shared_weights else Parameter(torch.empty(channels, channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.glorot(self.weight1)
        inits.glorot(self.weight2)
        self._cached_graph = None

    def forward(self, x: Tensor, x_0: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if not is_tracing(x):
            self._check_inputs(x, x_0, edge_index, edge_weight)
        if self.normalize:
            if self.cached and self._cached_graph is not None:
                edge_index, edge_weight = self._cached_graph
            else:
                edge_index, edge_weight = gcn_norm(
                    edge_index, edge_weight, x.shape[self.node_dim], False,
                    self.add_self_loops, self.flow, x.dtype)
                if self.cached and not is_tracing(x):
                    self._cached_graph = (edge_index, edge_weight)
        out = self.propagate(edge_index, x=x, edge_weight=edge_weight) * (1.0 - self.alpha)
        x_0 = x_0[:x.shape[0]] * self.alpha
        if self.weight2 is None:
            out = out + x_0
            return out * (1.0 - self.beta) + (out @ self.weight1) * self.beta
        return (out * (1.0 - self.beta) + (out @ self.weight1) * self.beta
                + x_0 * (1.0 - self.beta) + (x_0 @ self.weight2) * self.beta)

    def _check_inputs(self, x: Tensor, x_0: Tensor, edge_index: Tensor,
                      edge_weight: Optional[Tensor]) -> None:
        if isinstance(x, (tuple, list)) or isinstance(x_0, (tuple, list)):
            raise ValueError("GCN2Conv does not support bipartite (source, target) inputs")
        if x.dim() != 2 or x.shape[-1] != self.channels:
            raise ValueError(f"GCN2Conv: 'x' must have shape [num_nodes, channels="
                             f"{self.channels}], got {list(x.shape)}")
        if x_0.dim() != 2 or x_0.shape[-1] != self.channels or x_0.shape[0] < x.shape[0]:
            raise ValueError(f"GCN2Conv: 'x_0' must have shape [>= {x.shape[0]}, channels="
                             f"{self.channels}], got {list(x_0.shape)}")
        if edge_weight is not None and edge_weight.shape != (edge_index.shape[-1],):
            raise ValueError(f"GCN2Conv: 'edge_weight' must have shape [num_edges="
                             f"{edge_index.shape[-1]}], got {list(edge_weight.shape)}")

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.channels}, alpha={self.alpha}, "
                f"beta={self.beta})")


__all__ = ["GCN2Conv"]
