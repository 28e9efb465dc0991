"""``DenseSAGEConv``: the GraphSAGE operator on dense adjacency matrices."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.dense.dense_gcn_conv import dense_inputs
from gfx.nn.dense.linear import Linear


class DenseSAGEConv(torch.nn.Module):
    r"""The convolution of :class:`gfx.nn.SAGEConv` (mean) for dense adjacency tensors.

    .. math::
        \mathbf{x}'_i = \mathbf{W}_1 \mathbf{x}_i + \mathbf{W}_2
        \frac{\sum_j A_{ij} \mathbf{x}_j}{\max(1, \sum_j A_{ij})}

    per graph of the batch, then :math:`\ell_2`-normalised when ``normalize``.  The
    mean is over the neighbours for a binary :math:`\mathbf{A}`; for weighted matrices
    use :class:`DenseGraphConv`.  :math:`\mathbf{W}_1` (``lin_root``) carries the bias.
    Rows of nodes outside ``mask`` are zero in the output.

    Args:
        in_channels (int): input features.
        out_channels (int): output features.
        normalize (bool, optional): :math:`\ell_2`-normalise the output rows.
            (default: ``False``)
        bias (bool, optional): learn an additive bias. (default: ``True``)

    Shapes: ``x`` ``[B, N, F]``, ``adj`` ``[B, N, N]``, ``mask`` ``[B, N]`` ->
    ``[B, N, F']``.
    """

    def __init__(self, in_channels: int, out_channels: int, normalize: bool = False,
                 bias: bool = True):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.normalize = normalize
        self.lin_rel = Linear(in_channels, out_channels, bias=False)
        self.lin_root = Linear(in_channels, out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise both linear maps."""
        self.lin_rel.reset_parameters()
        self.lin_root.reset_parameters()

    def forward(self, x: Tensor, adj: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Convolve ``x`` over ``adj``; see the class docstring.

        Args:
            x (Tensor): node features ``[B, N, F]``.
            adj (Tensor): adjacency ``[B, N, N]``.
            mask (BoolTensor, optional): valid nodes ``[B, N]``. (default: ``None``)
        """
        x, adj, mask = dense_inputs(x, adj, mask)
        out = torch.matmul(adj, x)
        out = out / adj.sum(dim=-1, keepdim=True).clamp(min=1)
        out = self.lin_rel(out) + self.lin_root(x)
        if self.normalize:
            out = F.normalize(out, p=2.0, dim=-1)
        if mask is not None:
            out = out * mask
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"


__all__ = ["DenseSAGEConv"]
