"""``DenseGCNConv``: the GCN convolution on dense, batched adjacency matrices."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.nn import inits
from gfx.nn.dense.linear import Linear
from gfx.ops._checks import is_tracing


def dense_inputs(x: Tensor, adj: Tensor, mask: Optional[Tensor] = None
                 ) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """Batch ``x`` ``[N, F]`` / ``adj`` ``[N, N]`` to ``[1, ...]`` and check the shapes.

    Shared by the dense layers: ``x`` is ``[B, N, F]``, ``adj`` is ``[B, N, N]`` (or
    ``[1, N, N]`` to share one adjacency matrix across the batch) and ``mask`` ``[B, N]``.
    Returns ``(x, adj, mask)`` with ``mask`` cast to ``x.dtype`` and shaped ``[B, N, 1]``.
    Under capture the ranks are unknown: the same reshapes are recorded, unchecked.
    """
    if is_tracing(x, adj, mask):
        x = x.reshape(-1, x.size(-2), x.size(-1))
        adj = adj.reshape(-1, adj.size(-2), adj.size(-1))
        if mask is not None:
            mask = mask.reshape(-1, x.size(1), 1).to(x.dtype)
        return x, adj, mask
    if not isinstance(x, Tensor) or not isinstance(adj, Tensor):
        raise TypeError("'x' and 'adj' must be tensors")
    x = x.unsqueeze(0) if x.dim() == 2 else x
    adj = adj.unsqueeze(0) if adj.dim() == 2 else adj
    if x.dim() != 3:
        raise ValueError(f"'x' must be [B, N, F] or [N, F], got shape {list(x.shape)}")
    if adj.dim() != 3 or adj.shape[-1] != adj.shape[-2]:
        raise ValueError(f"'adj' must be [B, N, N] or [N, N], got shape {list(adj.shape)}")
    if adj.shape[-1] != x.shape[1]:
        raise ValueError(f"'adj' is over {adj.shape[-1]} nodes but 'x' has {x.shape[1]}")
    if adj.shape[0] not in (1, x.shape[0]) and x.shape[0] != 1:
        raise ValueError(f"'adj' has batch size {adj.shape[0]} but 'x' has {x.shape[0]}")
    if mask is not None:
        batch = max(x.shape[0], adj.shape[0])
        if mask.numel() != batch * x.shape[1]:
            raise ValueError(f"'mask' must be [B, N] = [{batch}, {x.shape[1]}], got shape "
                             f"{list(mask.shape)}")
        mask = mask.reshape(batch, x.shape[1], 1).to(x.dtype)
    return x, adj, mask


def with_loops(adj: Tensor, value: float) -> Tensor:
    """A copy of ``adj`` whose diagonal is ``value`` (existing loops are overwritten)."""
    n = adj.shape[-1]
    eye = torch.eye(n, dtype=torch.bool, device=adj.device)
    return adj.masked_fill(eye, value)


class DenseGCNConv(torch.nn.Module):
    r"""The graph convolution of :class:`gfx.nn.GCNConv` for dense adjacency tensors.

    .. math::
        \mathbf{X}' = \hat{\mathbf{D}}^{-1/2} \hat{\mathbf{A}} \hat{\mathbf{D}}^{-1/2}
        \mathbf{X} \mathbf{\Theta}^{\top} + \mathbf{b}

    per graph of the batch, where :math:`\hat{\mathbf{A}}` is :math:`\mathbf{A}` with its
    diagonal set to 1 (2 when ``improved``) if ``add_loop``, and
    :math:`\hat{D}_{ii} = \max(1, \sum_j \hat{A}_{ij})` (row sums, clamped at 1 so that
    rows without edges give 0 instead of dividing by zero).  Rows of nodes outside
    ``mask`` are zero in the output.

    Args:
        in_channels (int): input features :math:`F`.
        out_channels (int): output features :math:`F'`.
        improved (bool, optional): self-loops of weight 2. (default: ``False``)
        bias (bool, optional): learn an additive bias. (default: ``True``)

    Shapes: ``x`` ``[B, N, F]`` (or ``[N, F]``), ``adj`` ``[B, N, N]`` (or ``[N, N]``,
    broadcast over the batch), ``mask`` ``[B, N]`` -> ``[B, N, F']``.
    """

    def __init__(self, in_channels: int, out_channels: int, improved: bool = False,
                 bias: bool = True):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.improved = improved
        self.lin = Linear(in_channels, out_channels, bias=False,
                          weight_initializer="glorot")
        if bias:
            self.bias = Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weight, zero bias."""
        self.lin.reset_parameters()
        inits.zeros(self.bias)

    def forward(self, x: Tensor, adj: Tensor, mask: Optional[Tensor] = None,
                add_loop: bool = True) -> Tensor:
        """Convolve ``x`` over ``adj``; see the class docstring.

        Args:
            x (Tensor): node features ``[B, N, F]``.
            adj (Tensor): adjacency ``[B, N, N]``.
            mask (BoolTensor, optional): valid nodes ``[B, N]``. (default: ``None``)
            add_loop (bool, optional): set the diagonal of ``adj`` to the loop weight
                first. (default: ``True``)
        """
        x, adj, mask = dense_inputs(x, adj, mask)
        if add_loop:
            adj = with_loops(adj, 2.0 if self.improved else 1.0)
        out = self.lin(x)
        deg_inv_sqrt = adj.sum(dim=-1).clamp(min=1).pow(-0.5)
        adj = deg_inv_sqrt.unsqueeze(-1) * adj * deg_inv_sqrt.unsqueeze(-2)
        out = torch.matmul(adj, out)
        if self.bias is not None:
            out = out + self.bias
        if mask is not None:
            out = out * mask
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"


__all__ = ["DenseGCNConv"]
