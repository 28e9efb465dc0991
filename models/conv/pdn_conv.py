"""``PDNConv``: the pathfinder discovery network convolution of Rozemberczki et al. (2021)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter, ReLU, Sequential, Sigmoid

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.nn.dense.linear import Linear
from gfx.ops._checks import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

# Normalisation is graph structure: one call in captured graphs (see gcn_conv).
torch.fx.wrap("gcn_norm")


class PDNConv(MessagePassing):
    """The pathfinder discovery network convolutional operator of "Pathfinder Discovery
    Networks for Neural Message Passing".

    .. math::
        \\mathbf{x}^{\\prime}_i = \\sum_{j \\in \\mathcal{N}(i) \\cup \\{i\\}}
        \\frac{f_{\\Theta}(\\textbf{e}_{j,i})}{\\sqrt{\\hat d_i \\hat d_j}}
        \\mathbf{\\Theta} \\mathbf{x}_{j} + \\mathbf{b},
        \\qquad \\hat d_i = \\sum_{j \\in \\mathcal{N}(i) \\cup \\{i\\}}
        f_{\\Theta}(\\textbf{e}_{j,i})

    where :math:`f_{\\Theta}` (``mlp``) maps each edge's features to a weight in
    :math:`(0, 1)`: ``Linear(edge_dim, hidden_channels)``, ReLU,
    ``Linear(hidden_channels, 1)``, sigmoid.  An added self-loop has weight 1; an
    existing loop keeps its learned weight.  With ``normalize=False`` the messages are
    weighted by :math:`f_{\\Theta}(\\mathbf{e}_{j,i})` alone over :math:`\\mathcal{N}(i)`:
    as in the reference, self-loops belong to the normalisation and ``add_self_loops``
    then has no effect.  A 1-D ``edge_attr`` is read as ``[E, 1]`` (the reference fails
    on it).

    Args:
        in_channels (int): input features per node.
        out_channels (int): output features per node.
        edge_dim (int): edge features per edge.
        hidden_channels (int): hidden width of :math:`f_{\\Theta}`.
        add_self_loops (bool, optional): add a self-loop per node (with
            ``normalize`` only). (default: ``True``)
        normalize (bool, optional): apply the symmetric normalisation.
            (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``).

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a torch.sparse
    ``adj_t``, ``edge_attr`` ``[E, edge_dim]`` (or ``[E]`` when ``edge_dim=1``) ->
    ``[N, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, edge_dim: int,
                 hidden_channels: int, add_self_loops: bool = True, normalize: bool = True,
                 bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.edge_dim = edge_dim
        self.hidden_channels = hidden_channels
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        self.mlp = Sequential(
            Linear(edge_dim, hidden_channels, weight_initializer="glorot",
                   bias_initializer="zeros"),
            ReLU(inplace=True),
            Linear(hidden_channels, 1, weight_initializer="glorot", bias_initializer="zeros"),
            Sigmoid(),
        )
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        self.mlp[0].reset_parameters()
        self.mlp[2].reset_parameters()
        inits.zeros(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_attr: Optional[Tensor] = None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_attr = values if edge_attr is None else edge_attr
        if edge_attr is None:
            raise ValueError("PDNConv: 'edge_attr' is required (the layer learns edge "
                             "weights from it)")
        if not is_tracing(edge_attr, edge_index) and (
                edge_attr.dim() not in (1, 2) or edge_attr.shape[0] != edge_index.shape[1]
                or (1 if edge_attr.dim() == 1 else edge_attr.shape[1]) != self.edge_dim):
            raise ValueError(f"PDNConv: 'edge_attr' must have shape [{edge_index.shape[1]}, "
                             f"{self.edge_dim}] (edge_dim={self.edge_dim}), got "
                             f"{list(edge_attr.shape)}")
        edge_attr = edge_attr.reshape(edge_attr.shape[0], self.edge_dim)  # [E] -> [E, 1]
        edge_weight = self.mlp(edge_attr).squeeze(-1)
        num_nodes = x.shape[self.node_dim]
        if self.normalize:
            edge_index, edge_weight = gcn_norm(edge_index, edge_weight, num_nodes, False,
                                               self.add_self_loops, self.flow, x.dtype)
        x = self.lin(x)
        out = self.propagate(edge_index, x=x, edge_weight=edge_weight)
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j


__all__ = ["PDNConv"]
