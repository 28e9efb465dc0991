"""``DenseGraphConv``: the GraphConv operator on dense adjacency matrices."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.nn.dense.dense_gcn_conv import dense_inputs
from gfx.nn.dense.linear import Linear

_AGGRS = ("add", "mean", "max")


class DenseGraphConv(torch.nn.Module):
    r"""The convolution of :class:`gfx.nn.GraphConv` for dense adjacency tensors.

    .. math::
        \mathbf{x}'_i = \mathbf{\Theta}_1 \mathbf{x}_i + \mathbf{\Theta}_2
        \bigoplus_{j} A_{ij} \cdot \mathbf{x}_j

    per graph of the batch.  ``"add"`` is :math:`\mathbf{A} \mathbf{X}`; ``"mean"``
    divides row :math:`i` by :math:`\max(1, \sum_j A_{ij})`; ``"max"`` takes, for node
    :math:`i`, the elementwise maximum of :math:`\mathbf{x}_j` over the :math:`j` with
    :math:`A_{ji} \neq 0` (the column of :math:`i`, unweighted, as the reference does),
    and 0 where there is none.  :math:`\mathbf{\Theta}_2` (``lin_rel``) carries the
    bias.  Rows of nodes outside ``mask`` are zero in the output.

    Args:
        in_channels (int): input features.
        out_channels (int): output features.
        aggr (str, optional): ``"add"``, ``"mean"`` or ``"max"``. (default: ``"add"``)
        bias (bool, optional): learn an additive bias. (default: ``True``)

    Shapes: ``x`` ``[B, N, F]``, ``adj`` ``[B, N, N]``, ``mask`` ``[B, N]`` ->
    ``[B, N, F']``.
    """

    def __init__(self, in_channels: int, out_channels: int, aggr: str = "add",
                 bias: bool = True):
        super().__init__()
        if aggr not in _AGGRS:
            raise ValueError(f"'aggr' must be one of {_AGGRS}, got {aggr!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.aggr = aggr
        self.lin_rel = Linear(in_channels, out_channels, bias=bias)
        self.lin_root = Linear(in_channels, out_channels, bias=False)
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
        if self.aggr == "max":
            # cand[b, j, i, c] = x[b, j, c] where A[b, j, i] != 0, else -inf.
            cand = x.unsqueeze(-2).expand(-1, -1, adj.shape[-1], -1)
            edge = (adj != 0).unsqueeze(-1)
            cand = cand.masked_fill(~edge, float("-inf"))
            out = cand.max(dim=-3)[0]
            out = out.masked_fill(out == float("-inf"), 0.0)
        else:
            out = torch.matmul(adj, x)
            if self.aggr == "mean":
                out = out / adj.sum(dim=-1, keepdim=True).clamp(min=1)
        out = self.lin_rel(out) + self.lin_root(x)
        if mask is not None:
            out = out * mask
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"


__all__ = ["DenseGraphConv"]
