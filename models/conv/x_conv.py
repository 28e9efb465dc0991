"""``XConv``: the X-transformation convolution of PointCNN (Li et al., NeurIPS 2018)."""
from __future__ import annotations

from math import ceil
from typing import Optional

import torch
from torch import Tensor
from torch.nn import ELU, BatchNorm1d as BN, Conv1d, Linear as Lin, Sequential as Seq

from gfx.nn import inits
from gfx.utils import is_tracing


class _Reshape(torch.nn.Module):
    """``x.view(*shape)`` as a module (a step of the Sequential networks below)."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x: Tensor) -> Tensor:
        return x.view(*self.shape)

    def __repr__(self) -> str:
        return f"Reshape({', '.join(str(s) for s in self.shape)})"


def neighbourhoods(pos: Tensor, k: int, dilation: int, batch: Optional[Tensor]) -> Tensor:
    """``[2, N * k]``: for every point (row 0, sorted), its ``k * dilation`` nearest
    points of the same example (itself first) taken every ``dilation``-th (row 1)."""
    from gfx.nn.pool.knn import knn_graph  # imported here: pool layers import convolutions
    if batch is not None:
        counts = torch.bincount(batch)
        counts = counts[counts > 0]
        if counts.numel() and int(counts.min()) < k * dilation:
            raise ValueError(f"XConv: every example of 'batch' needs at least kernel_size * "
                             f"dilation = {k * dilation} points, the smallest has "
                             f"{int(counts.min())}")
    elif pos.shape[0] and pos.shape[0] < k * dilation:
        raise ValueError(f"XConv: 'pos' needs at least kernel_size * dilation = "
                         f"{k * dilation} points, got {pos.shape[0]}")
    edge_index = knn_graph(pos.detach(), k * dilation, batch, loop=True,
                           flow="target_to_source")
    return edge_index[:, ::dilation] if dilation > 1 else edge_index


# Neighbourhood search is graph construction: one node in captured graphs.
torch.fx.wrap("neighbourhoods")


class XConv(torch.nn.Module):
    """The convolutional operator on :math:`\\mathcal{X}`-transformed points of
    "PointCNN: Convolution On X-Transformed Points".

    .. math::
        \\mathbf{x}'_i = \\mathrm{Conv}\\left(\\mathbf{K}, \\gamma_{\\mathbf{\\Theta}}
        (\\mathbf{P}_i - \\mathbf{p}_i) \\times \\left( h_{\\mathbf{\\Theta}}
        (\\mathbf{P}_i - \\mathbf{p}_i) \\, \\Vert \\, \\mathbf{x}_i \\right) \\right)

    with :math:`\\mathbf{P}_i` the positions of the ``kernel_size`` neighbours of
    :math:`i` (itself included; with ``dilation`` :math:`d`, every :math:`d`-th of the
    :math:`d \\cdot` ``kernel_size`` nearest, same example of ``batch``, exact search),
    :math:`h_{\\mathbf{\\Theta}}` (``mlp1``) lifting each offset to ``hidden_channels``,
    :math:`\\gamma_{\\mathbf{\\Theta}}` (``mlp2``) the ``[K, K]``
    :math:`\\mathcal{X}`-transformation computed from all offsets of the neighbourhood,
    and :math:`\\mathbf{K}` (``conv``) a depthwise convolution over the neighbourhood
    followed by a linear map.  The lifted offsets come before the neighbours' features.
    Not a message passing layer: the neighbourhood search is one call in a captured
    model (:func:`neighbourhoods`) and the dense per-neighbourhood networks are traced
    as ordinary torch ops.  Every example needs at least ``kernel_size * dilation``
    points to fill its neighbourhoods; fewer are refused with an error naming ``batch``.

    Args:
        in_channels (int): input features (0 for positions only).
        out_channels (int): output features.
        dim (int): point dimensionality.
        kernel_size (int): neighbours per point, itself included.
        hidden_channels (int, optional): width of :math:`h_{\\mathbf{\\Theta}}`;
            ``None`` means ``in_channels // 4``. (default: ``None``)
        dilation (int, optional): neighbourhood dilation. (default: ``1``)
        bias (bool, optional): bias of the final linear map. (default: ``True``)
        num_workers (int, optional): accepted for compatibility. (default: ``1``)

    Shapes: ``x`` ``[N, in]`` or ``None``, ``pos`` ``[N, dim]``, ``batch`` ``[N]`` ->
    ``[N, out]``.
    """

    def __init__(self, in_channels: int, out_channels: int, dim: int, kernel_size: int,
                 hidden_channels: Optional[int] = None, dilation: int = 1, bias: bool = True,
                 num_workers: int = 1):
        super().__init__()
        if hidden_channels is None:
            hidden_channels = in_channels // 4
        if hidden_channels <= 0:
            raise ValueError(f"XConv: 'hidden_channels' must be positive (default "
                             f"in_channels // 4), got {hidden_channels}")
        for name, value in (("dim", dim), ("kernel_size", kernel_size),
                            ("dilation", dilation)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"XConv: '{name}' must be a positive int, got {value!r}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.dim = dim
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.num_workers = num_workers
        C_in, C_delta, C_out, D, K = in_channels, hidden_channels, out_channels, dim, kernel_size
        self.mlp1 = Seq(Lin(D, C_delta), ELU(), BN(C_delta), Lin(C_delta, C_delta), ELU(),
                        BN(C_delta), _Reshape(-1, K, C_delta))
        self.mlp2 = Seq(Lin(D * K, K ** 2), ELU(), BN(K ** 2), _Reshape(-1, K, K),
                        Conv1d(K, K ** 2, K, groups=K), ELU(), BN(K ** 2), _Reshape(-1, K, K),
                        Conv1d(K, K ** 2, K, groups=K), BN(K ** 2), _Reshape(-1, K, K))
        C_in = C_in + C_delta
        depth_multiplier = int(ceil(C_out / C_in))
        self.conv = Seq(Conv1d(C_in, C_in * depth_multiplier, K, groups=C_in),
                        _Reshape(-1, C_in * depth_multiplier),
                        Lin(C_in * depth_multiplier, C_out, bias=bias))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        inits.reset(self.mlp1)
        inits.reset(self.mlp2)
        inits.reset(self.conv)

    def forward(self, x: Optional[Tensor], pos: Tensor,
                batch: Optional[Tensor] = None) -> Tensor:
        if not is_tracing(pos):
            if pos.dim() == 1:
                pos = pos.unsqueeze(-1)
            if pos.dim() != 2 or pos.shape[1] != self.dim:
                raise ValueError(f"XConv: 'pos' must be [N, dim={self.dim}], got shape "
                                 f"{list(pos.shape)}")
        if x is None and self.in_channels:
            raise ValueError(f"XConv: 'x' is required when in_channels={self.in_channels}")
        if x is not None and not is_tracing(x):
            if x.dim() == 1:
                x = x.unsqueeze(-1)
            if x.shape != (pos.shape[0], self.in_channels):
                raise ValueError(f"XConv: 'x' must be [N={pos.shape[0]}, "
                                 f"in_channels={self.in_channels}], got shape "
                                 f"{list(x.shape)}")
        K, D = self.kernel_size, self.dim
        row, col = neighbourhoods(pos, K, self.dilation, batch)
        offsets = pos[col] - pos[row]  # [N * K, D], neighbourhood by neighbourhood
        x_star = self.mlp1(offsets)  # [N, K, C_delta]
        if x is not None:
            x_star = torch.cat([x_star, x[col].view(-1, K, self.in_channels)], dim=-1)
        x_star = x_star.transpose(1, 2).contiguous()  # [N, C, K]
        transform = self.mlp2(offsets.view(-1, K * D))  # [N, K, K]
        return self.conv(torch.matmul(x_star, transform))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


__all__ = ["XConv"]
