"""``AGNNConv``: the attention-based propagation of Thekumparampil et al. (2018)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn.conv.gat_conv import attention_self_loops
from gfx.utils import softmax
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

# The helper is imported by name, so this module's binding must be wrapped as well.
torch.fx.wrap("attention_self_loops")


class AGNNConv(MessagePassing):
    """The graph attentional propagation layer of "Attention-based Graph Neural Network
    for Semi-Supervised Learning".

    .. math::
        \\mathbf{X}' = \\mathbf{P} \\mathbf{X}, \\qquad
        P_{i,j} = \\frac{\\exp(\\beta \\cdot \\cos(\\mathbf{x}_i, \\mathbf{x}_j))}
        {\\sum_{k \\in \\mathcal{N}(i) \\cup \\{ i \\}}
        \\exp(\\beta \\cdot \\cos(\\mathbf{x}_i, \\mathbf{x}_k))}

    for :math:`j \\in \\mathcal{N}(i) \\cup \\{ i \\}`, with the cosine taken between
    :math:`\\ell_2`-normalised features (a zero vector has cosine 0 with everything).
    :math:`\\beta` starts at 1; it is a parameter when ``requires_grad=True``, else a
    buffer.  With ``add_self_loops``, existing loops are replaced by one per node.  A
    torch.sparse ``adj_t`` may replace ``edge_index`` (its values are ignored).

    Args:
        requires_grad (bool, optional): learn :math:`\\beta`. (default: ``True``)
        add_self_loops (bool, optional): replace self-loops by one per node.
            (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``).

    Shapes: ``x`` ``[N, F]``, ``edge_index`` ``[2, E]`` -> ``[N, F]``.
    """

    def __init__(self, requires_grad: bool = True, add_self_loops: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        self.requires_grad = requires_grad
        self.add_self_loops = add_self_loops
        if requires_grad:
            self.beta = Parameter(torch.empty(1))
        else:
            self.register_buffer("beta", torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        with torch.no_grad():
            self.beta.fill_(1.0)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise ValueError("AGNNConv: 'x' must be one node feature tensor; bipartite "
                             "(source, target) pairs are not supported")
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        if self.add_self_loops:
            n = x.shape[self.node_dim]
            edge_index = attention_self_loops(edge_index, None, (n, n))[0]
        x_norm = F.normalize(x, p=2.0, dim=-1)
        alpha = self.edge_updater(edge_index, x_norm=x_norm)
        return self.propagate(edge_index, x=x, alpha=alpha)

    def edge_update(self, x_norm_i: Tensor, x_norm_j: Tensor, index: Tensor,
                    size_i: int) -> Tensor:
        alpha = self.beta * (x_norm_i * x_norm_j).sum(dim=-1)
        return softmax(alpha, index, num_nodes=size_i)

    def message(self, x_j: Tensor, alpha: Tensor) -> Tensor:
        return alpha.view(-1, 1) * x_j


__all__ = ["AGNNConv"]
