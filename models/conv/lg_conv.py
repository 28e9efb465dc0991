"""``LGConv``: the light graph convolution of LightGCN (He et al., SIGIR 2020)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.utils import is_torch_sparse_tensor, is_tracing, adj_t_to_edge_index

# gcn_norm is graph structure: one node in a captured graph (see gcn_conv.py).
torch.fx.wrap("gcn_norm")


class LGConv(MessagePassing):
    """The light graph convolution of "LightGCN: Simplifying and Powering Graph Convolution
    Network for Recommendation" (a parameter-free layer).

    .. math::
        \\mathbf{x}'_i = \\sum_{j \\in \\mathcal{N}(i)}
        \\frac{e_{j,i}}{\\sqrt{\\deg(i)} \\sqrt{\\deg(j)}} \\mathbf{x}_j

    with :math:`\\deg(i) = \\sum_{j} e_{j,i}` the weighted in-degree (edge weights
    :math:`e_{j,i}` default to 1; no self-loops are added, existing ones are kept; a
    node of degree 0 contributes and receives nothing).  With ``normalize=False`` the
    messages are :math:`e_{j,i} \\mathbf{x}_j`.

    Args:
        normalize (bool, optional): apply the symmetric normalisation. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, F]``, ``edge_index`` ``[2, E]`` or a sparse ``adj_t``,
    ``edge_weight`` ``[E]`` -> ``[N, F]``.
    """

    def __init__(self, normalize: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        self.normalize = normalize

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if isinstance(x, (tuple, list)):
            raise ValueError("LGConv does not support bipartite (source, target) inputs")
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if not is_tracing(x) and edge_weight is not None and \
                edge_weight.shape != (edge_index.shape[-1],):
            raise ValueError(f"LGConv: 'edge_weight' must have shape [num_edges="
                             f"{edge_index.shape[-1]}], got {list(edge_weight.shape)}")
        if self.normalize:
            edge_index, edge_weight = gcn_norm(edge_index, edge_weight, x.shape[self.node_dim],
                                               False, False, self.flow, x.dtype)
        return self.propagate(edge_index, x=x, edge_weight=edge_weight)

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


__all__ = ["LGConv"]
