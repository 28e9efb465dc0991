"""``AttentiveFP``: graph attention with GRU updates for molecules (Xiong et al., 2019)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import GRUCell, Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gat_conv import GATConv
from gfx.nn.dense.linear import Linear
from gfx.nn.pool.glob import global_add_pool
from gfx.utils import softmax


class GATEConv(MessagePassing):
    """The edge-aware attention layer of the first AttentiveFP step.

    .. math::
        \\mathbf{m}_{ji} = \\mathrm{LeakyReLU}_{0.01}\\left(\\mathbf{W}_1
        [\\mathbf{x}_j \\,\\Vert\\, \\mathbf{e}_{ji}]\\right), \\qquad
        \\alpha_{ji} = \\mathrm{softmax}_{j}\\left(\\mathrm{LeakyReLU}_{0.01}(
        \\mathbf{a}_l^\\top \\mathbf{m}_{ji} + \\mathbf{a}_r^\\top \\mathbf{x}_i)\\right)

    .. math::
        \\mathbf{x}'_i = \\sum_{j \\in \\mathcal{N}(i)} \\alpha_{ji} \\mathbf{W}_2
        \\mathbf{x}_j + \\mathbf{b}

    (the edge features enter through the attention weights only).

    Args:
        in_channels (int): input features.
        out_channels (int): output features (equal to ``in_channels``).
        edge_dim (int): edge features.
        dropout (float, optional): dropout on the attention weights. (default: ``0.0``)
    """

    def __init__(self, in_channels: int, out_channels: int, edge_dim: int,
                 dropout: float = 0.0):
        super().__init__(aggr="add", node_dim=0)
        if in_channels != out_channels:  # W_2 maps x_j (in) with an [out, out] weight
            raise ValueError(f"GATEConv: 'in_channels' ({in_channels}) must equal "
                             f"'out_channels' ({out_channels})")
        self.dropout = dropout
        self.att_l = Parameter(torch.empty(1, out_channels))
        self.att_r = Parameter(torch.empty(1, in_channels))
        self.lin1 = Linear(in_channels + edge_dim, out_channels, False)
        self.lin2 = Linear(out_channels, out_channels, False)
        self.bias = Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.glorot(self.att_l)
        inits.glorot(self.att_r)
        inits.glorot(self.lin1.weight)
        inits.glorot(self.lin2.weight)
        inits.zeros(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        alpha = self.edge_updater(edge_index, x=x, edge_attr=edge_attr)
        out = self.propagate(edge_index, x=x, alpha=alpha)
        return out + self.bias

    def edge_update(self, x_j: Tensor, x_i: Tensor, edge_attr: Tensor, index: Tensor,
                    ptr: Optional[Tensor], dim_size: Optional[int]) -> Tensor:
        m = F.leaky_relu(self.lin1(torch.cat([x_j, edge_attr], dim=-1)), 0.01)
        alpha = (m * self.att_l).sum(-1) + (x_i * self.att_r).sum(-1)
        alpha = softmax(F.leaky_relu(alpha, 0.01), index, ptr, dim_size)
        return F.dropout(alpha, p=self.dropout, training=self.training)

    def message(self, x_j: Tensor, alpha: Tensor) -> Tensor:
        return self.lin2(x_j) * alpha.unsqueeze(-1)


class AttentiveFP(torch.nn.Module):
    """The Attentive FP model for molecular property prediction.

    Atom embeddings :math:`\\mathbf{h}^{(0)}_i = \\mathrm{LeakyReLU}_{0.01}(\\mathbf{W}
    \\mathbf{x}_i)` are refined ``num_layers`` times, each step an attention layer
    (:class:`GATEConv` with edge features first, then :class:`~gfx.nn.GATConv`) followed
    by a GRU cell:

    .. math::
        \\mathbf{h}^{(\\ell)}_i = \\mathrm{ReLU}\\left(\\mathrm{GRU}\\left(
        \\mathrm{ELU}(\\mathrm{Att}_\\ell(\\mathbf{h}^{(\\ell-1)}))_i,\\,
        \\mathbf{h}^{(\\ell-1)}_i\\right)\\right)

    The molecule embedding starts as :math:`\\mathbf{g}^{(0)} = \\mathrm{ReLU}(\\sum_i
    \\mathbf{h}_i)` and is refined ``num_timesteps`` times by attending over its atoms
    (a :class:`~gfx.nn.GATConv` from atoms to the molecule) and a GRU cell; the output
    is :math:`\\mathbf{W}_{out} \\mathbf{g}^{(T)}`.  Dropout follows every attention
    output and precedes the output layer.

    Args:
        in_channels (int): atom features.
        hidden_channels (int): hidden features.
        out_channels (int): output features.
        edge_dim (int): bond features.
        num_layers (int): number of atom-level layers (at least 1).
        num_timesteps (int): number of molecule-level refinement steps.
        dropout (float, optional): dropout probability. (default: ``0.0``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 edge_dim: int, num_layers: int, num_timesteps: int, dropout: float = 0.0):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"AttentiveFP: 'num_layers' must be at least 1, got "
                             f"{num_layers}")
        if num_timesteps < 0:
            raise ValueError(f"AttentiveFP: 'num_timesteps' must be non-negative, got "
                             f"{num_timesteps}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.edge_dim = edge_dim
        self.num_layers = num_layers
        self.num_timesteps = num_timesteps
        self.dropout = dropout

        self.lin1 = Linear(in_channels, hidden_channels)
        self.gate_conv = GATEConv(hidden_channels, hidden_channels, edge_dim, dropout)
        self.gru = GRUCell(hidden_channels, hidden_channels)
        self.atom_convs = torch.nn.ModuleList()
        self.atom_grus = torch.nn.ModuleList()
        for _ in range(num_layers - 1):
            self.atom_convs.append(GATConv(hidden_channels, hidden_channels, dropout=dropout,
                                           add_self_loops=False, negative_slope=0.01))
            self.atom_grus.append(GRUCell(hidden_channels, hidden_channels))
        self.mol_conv = GATConv(hidden_channels, hidden_channels, dropout=dropout,
                                add_self_loops=False, negative_slope=0.01)
        self.mol_gru = GRUCell(hidden_channels, hidden_channels)
        self.lin2 = Linear(hidden_channels, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin1.reset_parameters()
        self.gate_conv.reset_parameters()
        self.gru.reset_parameters()
        for conv, gru in zip(self.atom_convs, self.atom_grus):
            conv.reset_parameters()
            gru.reset_parameters()
        self.mol_conv.reset_parameters()
        self.mol_gru.reset_parameters()
        self.lin2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor,
                batch: Tensor) -> Tensor:
        """Predict ``[num_graphs, out_channels]`` from atoms ``x`` ``[N, in_channels]``,
        bonds ``edge_index`` ``[2, E]`` with ``edge_attr`` ``[E, edge_dim]``, and the
        molecule of each atom ``batch`` ``[N]``."""
        if edge_attr is None or edge_attr.dim() != 2 or edge_attr.shape[-1] != self.edge_dim:
            raise ValueError(f"AttentiveFP: 'edge_attr' must be [E, {self.edge_dim}], got "
                             f"{None if edge_attr is None else list(edge_attr.shape)}")
        x = F.leaky_relu(self.lin1(x), 0.01)
        h = F.elu(self.gate_conv(x, edge_index, edge_attr))
        h = F.dropout(h, p=self.dropout, training=self.training)
        x = self.gru(h, x).relu()
        for conv, gru in zip(self.atom_convs, self.atom_grus):
            h = F.elu(conv(x, edge_index))
            h = F.dropout(h, p=self.dropout, training=self.training)
            x = gru(h, x).relu()

        num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        atom_to_mol = torch.stack([torch.arange(batch.numel(), device=batch.device), batch])
        out = global_add_pool(x, batch, num_graphs).relu()
        for _ in range(self.num_timesteps):
            h = F.elu(self.mol_conv((x, out), atom_to_mol))
            h = F.dropout(h, p=self.dropout, training=self.training)
            out = self.mol_gru(h, out).relu()
        out = F.dropout(out, p=self.dropout, training=self.training)
        return self.lin2(out)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(in_channels={self.in_channels}, "
                f"hidden_channels={self.hidden_channels}, "
                f"out_channels={self.out_channels}, edge_dim={self.edge_dim}, "
                f"num_layers={self.num_layers}, num_timesteps={self.num_timesteps})")


__all__ = ["AttentiveFP"]
