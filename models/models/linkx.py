"""``LINKX``: separate embeddings of adjacency rows and features, then an MLP
(Lim et al., NeurIPS 2021)."""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor
from torch.nn import BatchNorm1d, Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.dense.linear import Linear
from gfx.nn.models.mlp import MLP
from gfx.utils import is_torch_sparse_tensor, is_tracing, adj_t_to_edge_index


class SparseLinear(MessagePassing):
    """A linear map of the (sparse) adjacency rows: :math:`\\mathbf{H} = \\mathbf{A}
    \\mathbf{W} + \\mathbf{b}` with :math:`A_{ij}` the weight of the edge :math:`j \\to
    i`, computed as message passing (``weight`` is ``[in_channels, out_channels]``).

    Args:
        in_channels (int): the number of nodes (columns of :math:`\\mathbf{A}`).
        out_channels (int): output features.
        bias (bool, optional): learn an additive bias. (default: ``True``)
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True):
        super().__init__(aggr="add")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.weight = Parameter(torch.empty(in_channels, out_channels))
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He-uniform weights and uniform biases, as ``torch.nn.Linear`` with fan-in
        ``in_channels``."""
        inits.kaiming_uniform(self.weight, fan=self.in_channels, a=math.sqrt(5))
        inits.uniform(self.in_channels, self.bias)

    def forward(self, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if not is_tracing(edge_index) and edge_index.numel() and \
                int(edge_index[0].max()) >= self.in_channels:
            raise ValueError(f"LINKX: 'edge_index' has source nodes >= num_nodes="
                             f"{self.in_channels}")
        out = self.propagate(edge_index, weight=self.weight, edge_weight=edge_weight,
                             size=(self.in_channels, self.in_channels))
        return out if self.bias is None else out + self.bias

    def message(self, weight_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return weight_j if edge_weight is None else edge_weight.view(-1, 1) * weight_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


class LINKX(torch.nn.Module):
    """The LINKX model of "Large Scale Learning on Non-Homophilous Graphs: New Benchmarks
    and Strong Simple Methods".

    .. math::
        \\mathbf{H}_{\\mathbf{A}} = \\textrm{MLP}_{\\mathbf{A}}(\\mathbf{A}), \\quad
        \\mathbf{H}_{\\mathbf{X}} = \\textrm{MLP}_{\\mathbf{X}}(\\mathbf{X}), \\quad
        \\mathbf{Y} = \\textrm{MLP}_{f}\\left(\\sigma\\left(\\mathbf{W}
        [\\mathbf{H}_{\\mathbf{A}}, \\mathbf{H}_{\\mathbf{X}}] + \\mathbf{H}_{\\mathbf{A}}
        + \\mathbf{H}_{\\mathbf{X}}\\right)\\right)

    :math:`\\textrm{MLP}_{\\mathbf{A}}` starts with a :class:`SparseLinear` map of the
    adjacency rows (followed, for ``num_edge_layers > 1``, by ReLU, batch normalisation
    and an :class:`~gfx.nn.MLP`; every MLP applies its activation before its batch
    normalisation); :math:`\\mathbf{W}` is two linear maps
    (``cat_lin1`` on :math:`\\mathbf{H}_{\\mathbf{A}}`, ``cat_lin2`` on
    :math:`\\mathbf{H}_{\\mathbf{X}}`).  With ``x=None`` the feature branch is skipped.

    Args:
        num_nodes (int): the number of nodes.
        in_channels (int): input features per node, or ``-1`` (lazy).
        hidden_channels (int): hidden features.
        out_channels (int): output features.
        num_layers (int): layers of :math:`\\textrm{MLP}_{f}`.
        num_edge_layers (int, optional): layers of :math:`\\textrm{MLP}_{\\mathbf{A}}`.
            (default: ``1``)
        num_node_layers (int, optional): layers of :math:`\\textrm{MLP}_{\\mathbf{X}}`.
            (default: ``1``)
        dropout (float, optional): dropout probability of each hidden embedding.
            (default: ``0.0``)
    """

    def __init__(self, num_nodes: int, in_channels: int, hidden_channels: int,
                 out_channels: int, num_layers: int, num_edge_layers: int = 1,
                 num_node_layers: int = 1, dropout: float = 0.0):
        super().__init__()
        for arg, value in (("num_layers", num_layers), ("num_edge_layers", num_edge_layers),
                           ("num_node_layers", num_node_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"LINKX: '{arg}' must be an int >= 1, got {value!r}")
        self.num_nodes = num_nodes
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_edge_layers = num_edge_layers
        self.edge_lin = SparseLinear(num_nodes, hidden_channels)
        if num_edge_layers > 1:
            self.edge_norm = BatchNorm1d(hidden_channels)
            self.edge_mlp = MLP([hidden_channels] * num_edge_layers, dropout=dropout,
                                act_first=True)
        self.node_mlp = MLP([in_channels] + [hidden_channels] * num_node_layers,
                            dropout=dropout, act_first=True)
        self.cat_lin1 = Linear(hidden_channels, hidden_channels)
        self.cat_lin2 = Linear(hidden_channels, hidden_channels)
        self.final_mlp = MLP([hidden_channels] * num_layers + [out_channels],
                             dropout=dropout, act_first=True)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset every sub-module."""
        self.edge_lin.reset_parameters()
        if self.num_edge_layers > 1:
            self.edge_norm.reset_parameters()
            self.edge_mlp.reset_parameters()
        self.node_mlp.reset_parameters()
        self.cat_lin1.reset_parameters()
        self.cat_lin2.reset_parameters()
        self.final_mlp.reset_parameters()

    def forward(self, x: Optional[Tensor], edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        out = self.edge_lin(edge_index, edge_weight)
        if self.num_edge_layers > 1:
            out = self.edge_mlp(self.edge_norm(out.relu()))
        out = out + self.cat_lin1(out)
        if x is not None:
            if not is_tracing(x) and x.size(0) != self.num_nodes:
                raise ValueError(f"LINKX: 'x' must have num_nodes={self.num_nodes} rows, "
                                 f"got {x.size(0)}")
            x = self.node_mlp(x)
            out = out + x
            out = out + self.cat_lin2(x)
        return self.final_mlp(out.relu())

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_nodes={self.num_nodes}, "
                f"in_channels={self.in_channels}, out_channels={self.out_channels})")


__all__ = ["LINKX"]
