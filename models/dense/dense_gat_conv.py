"""``DenseGATConv``: graph attention on dense adjacency matrices."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.nn import inits
from gfx.nn.dense.dense_gcn_conv import dense_inputs, with_loops
from gfx.nn.dense.linear import Linear


class DenseGATConv(torch.nn.Module):
    r"""The attention of :class:`gfx.nn.GATConv` for dense adjacency tensors.

    .. math::
        \mathbf{x}'_i = \big\Vert_{h=1}^{H} \sum_{j : A_{ij} \neq 0}
        \alpha^{h}_{ij} \mathbf{\Theta}^{h} \mathbf{x}_j + \mathbf{b},
        \qquad
        \alpha^{h}_{ij} = \operatorname{softmax}_j \left( \mathrm{LeakyReLU} \left(
        \mathbf{a}^{h\top}_{s} \mathbf{\Theta}^{h} \mathbf{x}_j +
        \mathbf{a}^{h\top}_{t} \mathbf{\Theta}^{h} \mathbf{x}_i \right) \right)

    per graph of the batch (the heads averaged instead of concatenated when not
    ``concat``).  Row :math:`i` of :math:`\mathbf{A}` lists the neighbours of
    :math:`i`; only whether :math:`A_{ij} \neq 0` matters.  With ``add_loop`` the
    diagonal is set to 1 first.  Rows of nodes outside ``mask`` are zero in the output.
    A node without any neighbour (possible only without ``add_loop``) gets
    :math:`\mathbf{b}` (the reference returns NaN there).

    Args:
        in_channels (int): input features.
        out_channels (int): features per head.
        heads (int, optional): attention heads :math:`H`. (default: ``1``)
        concat (bool, optional): concatenate the heads (else average them).
            (default: ``True``)
        negative_slope (float, optional): LeakyReLU slope. (default: ``0.2``)
        dropout (float, optional): dropout on the attention coefficients in training.
            (default: ``0.0``)
        bias (bool, optional): learn an additive bias. (default: ``True``)

    Shapes: ``x`` ``[B, N, F]``, ``adj`` ``[B, N, N]``, ``mask`` ``[B, N]`` ->
    ``[B, N, H * F']`` (``[B, N, F']`` when not ``concat``).
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1,
                 concat: bool = True, negative_slope: float = 0.2, dropout: float = 0.0,
                 bias: bool = True):
        super().__init__()
        if heads < 1:
            raise ValueError(f"'heads' must be at least 1, got {heads}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.lin = Linear(in_channels, heads * out_channels, bias=False,
                          weight_initializer="glorot")
        self.att_src = Parameter(torch.empty(1, 1, heads, out_channels))
        self.att_dst = Parameter(torch.empty(1, 1, heads, out_channels))
        if bias:
            self.bias = Parameter(torch.empty(heads * out_channels if concat
                                              else out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weights and attention vectors, zero bias."""
        self.lin.reset_parameters()
        inits.glorot(self.att_src)
        inits.glorot(self.att_dst)
        inits.zeros(self.bias)

    def forward(self, x: Tensor, adj: Tensor, mask: Optional[Tensor] = None,
                add_loop: bool = True) -> Tensor:
        """Attend over ``adj``; see the class docstring.

        Args:
            x (Tensor): node features ``[B, N, F]``.
            adj (Tensor): adjacency ``[B, N, N]``.
            mask (BoolTensor, optional): valid nodes ``[B, N]``. (default: ``None``)
            add_loop (bool, optional): set the diagonal of ``adj`` to 1 first.
                (default: ``True``)
        """
        x, adj, mask = dense_inputs(x, adj, mask)
        if add_loop:
            adj = with_loops(adj, 1.0)
        B, N = x.shape[0], x.shape[1]
        H, C = self.heads, self.out_channels
        h = self.lin(x).view(B, N, H, C)
        alpha_src = (h * self.att_src).sum(dim=-1)  # [B, N, H]
        alpha_dst = (h * self.att_dst).sum(dim=-1)
        alpha = alpha_src.unsqueeze(1) + alpha_dst.unsqueeze(2)  # [B, N_i, N_j, H]
        alpha = F.leaky_relu(alpha, self.negative_slope)
        edge = (adj != 0).unsqueeze(-1)
        alpha = alpha.masked_fill(~edge, float("-inf"))
        alpha = torch.softmax(alpha, dim=2)
        alpha = alpha.masked_fill(~edge, 0.0)  # rows without neighbours: 0, not NaN
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        out = torch.matmul(alpha.movedim(3, 1), h.movedim(2, 1))  # [B, H, N, C]
        out = out.movedim(1, 2)  # [B, N, H, C]
        out = out.reshape(out.shape[0], N, H * C) if self.concat else out.mean(dim=2)
        if self.bias is not None:
            out = out + self.bias
        if mask is not None:
            out = out * mask
        return out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")


__all__ = ["DenseGATConv"]
