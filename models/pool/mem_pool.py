"""``MemPooling``: soft clustering against learned memory keys (Khasahmadi et al.)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Conv2d, Parameter

from gfx.nn.dense.linear import Linear
from gfx.utils import to_dense_batch

__all__ = ["MemPooling"]

EPS = 1e-15


def dense_input(x: Tensor, batch: Optional[Tensor], mask: Optional[Tensor],
                max_num_nodes: Optional[int], batch_size: Optional[int],
                in_channels: int) -> Tuple[Tensor, Tensor]:
    """``(x, mask)`` in dense ``[B, N, F]`` / ``[B, N]`` form: stacked features are
    padded with :func:`gfx.utils.to_dense_batch`; dense ones get an all-true mask when
    none is given.  One run-time call in captured graphs (shapes depend on the data)."""
    if x.dim() <= 2:
        x, mask = to_dense_batch(x, batch, max_num_nodes=max_num_nodes,
                                 batch_size=batch_size)
    elif mask is None:
        mask = x.new_ones((x.size(0), x.size(1)), dtype=torch.bool)
    if x.dim() != 3 or x.size(-1) != in_channels:
        raise ValueError(f"MemPooling: 'x' must have {in_channels} channels, got shape "
                         f"{list(x.shape)}")
    return x, mask


torch.fx.wrap("dense_input")


class MemPooling(torch.nn.Module):
    """The memory-based pooling layer of "Memory-Based Graph Networks": nodes are
    softly assigned to :math:`K` learned cluster keys by :math:`H` heads.

    .. math::
        S^{(h)}_{i,j} &= \\frac{(1 + \\|\\mathbf{x}_i - \\mathbf{k}^{(h)}_j\\|^2 /
        \\tau)^{-\\frac{1 + \\tau}{2}}}{\\sum_{k=1}^{K} (1 + \\|\\mathbf{x}_i -
        \\mathbf{k}^{(h)}_k\\|^2 / \\tau)^{-\\frac{1 + \\tau}{2}}}

        \\mathbf{S} &= \\mathrm{softmax}(\\mathrm{Conv2d}(\\Vert_{h=1}^{H}
        \\mathbf{S}^{(h)})) \\in \\mathbb{R}^{N \\times K}

        \\mathbf{X}' &= \\mathbf{S}^{\\top} \\mathbf{X} \\mathbf{W} \\in
        \\mathbb{R}^{K \\times F'}

    (the 1x1 ``conv`` merges the heads; the softmax runs over the clusters; padded nodes
    get zero rows of :math:`\\mathbf{S}`).  ``forward`` returns ``(X', S)`` with
    ``X'`` ``[B, K, out_channels]`` and ``S`` ``[B, N_max, K]``; add
    :meth:`kl_loss` of ``S`` to the training loss.

    Args:
        in_channels (int): size of each input sample.
        out_channels (int): size of each output sample :math:`F'`.
        heads (int): number of heads :math:`H`.
        num_clusters (int): number of clusters :math:`K`.
        tau (float, optional): the Student-t degree of freedom :math:`\\tau`.
            (default: ``1.0``)
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int, num_clusters: int,
                 tau: float = 1.0):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("heads", heads), ("num_clusters", num_clusters)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"MemPooling: '{name}' must be a positive int, got "
                                 f"{value!r}")
        if tau <= 0:
            raise ValueError(f"MemPooling: 'tau' must be positive, got {tau}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.num_clusters = num_clusters
        self.tau = tau
        self.k = Parameter(torch.empty(heads, num_clusters, in_channels))
        self.conv = Conv2d(heads, 1, kernel_size=1, padding=0, bias=False)
        self.lin = Linear(in_channels, out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.uniform_(self.k.data, -1.0, 1.0)
        self.conv.reset_parameters()
        self.lin.reset_parameters()

    @staticmethod
    def kl_loss(S: Tensor) -> Tensor:
        """The auxiliary loss :math:`\\mathrm{KL}(\\mathbf{P} \\Vert \\mathbf{S})`, averaged
        over the graphs, with the sharpened target

        .. math::
            P_{i,j} = \\frac{S_{i,j}^2 / \\sum_{n=1}^{N} S_{n,j}}{\\sum_{k=1}^{K}
            S_{i,k}^2 / \\sum_{n=1}^{N} S_{n,k}}

        (rows of padded nodes, all zero, stay zero; a graph without nodes contributes
        zero, where the reference library returns NaN for the whole batch).

        Args:
            S (Tensor): ``[B, N, K]`` assignments from :meth:`forward`.
        """
        total = S.sum(dim=1, keepdim=True)
        sharpened = S ** 2 / total.masked_fill(total == 0.0, 1.0)
        denom = sharpened.sum(dim=2, keepdim=True)
        denom = denom.masked_fill(S.sum(dim=2, keepdim=True) == 0.0, 1.0)
        P = sharpened / denom
        return F.kl_div(S.clamp(EPS).log(), P.clamp(EPS), reduction="batchmean",
                        log_target=False)

    def forward(self, x: Tensor, batch: Optional[Tensor] = None,
                mask: Optional[Tensor] = None, max_num_nodes: Optional[int] = None,
                batch_size: Optional[int] = None) -> Tuple[Tensor, Tensor]:
        """``(X', S)`` for node features ``x`` ``[N, F]`` (with ``batch``) or dense
        ``[B, N, F]`` (with ``mask``).

        Args:
            x (Tensor): node features, stacked ``[N, F]`` or dense ``[B, N, F]``.
            batch (Tensor, optional): graph of each node, for stacked ``x``.
                (default: ``None``)
            mask (Tensor, optional): ``[B, N]`` valid nodes, for dense ``x``.
                (default: ``None``)
            max_num_nodes (int, optional): pad stacked graphs to this many nodes.
                (default: ``None``)
            batch_size (int, optional): number of graphs of stacked ``x``.
                (default: ``None``)
        """
        x, mask = dense_input(x, batch, mask, max_num_nodes, batch_size,
                              self.in_channels)
        B, N = x.size(0), x.size(1)
        H, K = self.heads, self.num_clusters
        dist = torch.cdist(self.k.view(H * K, -1), x.reshape(B * N, self.in_channels),
                           p=2) ** 2
        kernel = (1.0 + dist / self.tau).pow(-(self.tau + 1.0) / 2.0)
        kernel = kernel.view(H, K, B, N).permute(2, 0, 3, 1)        # [B, H, N, K]
        S = kernel / kernel.sum(dim=-1, keepdim=True)
        # The 1x1 convolution over heads, written as a weighted sum (works for N = 0).
        S = (S * self.conv.weight.view(1, H, 1, 1)).sum(dim=1).softmax(dim=-1)  # [B, N, K]
        S = S * mask.view(B, N, 1).to(S.dtype)
        return self.lin(S.transpose(1, 2) @ x), S

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}, " \
            f"heads={self.heads}, num_clusters={self.num_clusters})"
