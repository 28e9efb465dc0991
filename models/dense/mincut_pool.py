"""``dense_mincut_pool``: MinCut pooling with learned dense assignments."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from gfx.nn.dense.diff_pool import EPS, pool_inputs


def trace(m: Tensor) -> Tensor:
    """Trace of each matrix of a ``[B, C, C]`` batch."""
    return torch.diagonal(m, dim1=-2, dim2=-1).sum(dim=-1)


def orthogonality_loss(s: Tensor) -> Tensor:
    r"""Batch mean of :math:`\lVert \frac{S^\top S}{\lVert S^\top S \rVert_F} -
    \frac{I_C}{\sqrt{C}} \rVert_F`."""
    ss = torch.matmul(s.transpose(1, 2), s)
    C = s.shape[-1]
    eye = torch.eye(C, dtype=ss.dtype, device=ss.device) / C ** 0.5
    ss = ss / torch.linalg.matrix_norm(ss, keepdim=True)
    return torch.linalg.matrix_norm(ss - eye).mean()


def normalized_pooled_adj(out_adj: Tensor) -> Tensor:
    r"""Zero the diagonal of the pooled adjacency and normalise it symmetrically.

    :math:`\tilde{A}_{ij} / (\sqrt{d_i} + \epsilon)(\sqrt{d_j} + \epsilon)` with
    :math:`d_i = \sum_j \tilde{A}_{ij}`, :math:`\epsilon = 10^{-15}`.
    """
    C = out_adj.shape[-1]
    eye = torch.eye(C, dtype=torch.bool, device=out_adj.device)
    out_adj = out_adj.masked_fill(eye, 0.0)
    d = out_adj.sum(dim=-1).sqrt().unsqueeze(1) + EPS  # [B, 1, C]
    return (out_adj / d) / d.transpose(1, 2)


def dense_mincut_pool(x: Tensor, adj: Tensor, s: Tensor, mask: Optional[Tensor] = None,
                      temp: float = 1.0) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    r"""MinCut pooling (Bianchi et al., ICML 2020) with dense assignments.

    .. math::
        \mathbf{X}' = \mathrm{softmax}(\mathbf{S})^{\top} \mathbf{X}, \qquad
        \mathbf{A}' = \mathrm{softmax}(\mathbf{S})^{\top} \mathbf{A}\,
        \mathrm{softmax}(\mathbf{S})

    with the softmax over the clusters of :math:`\mathbf{S} / T`.  Rows of nodes outside
    ``mask`` are zeroed first.  The returned adjacency has its diagonal zeroed and is
    normalised symmetrically (:func:`normalized_pooled_adj`).  Also returns the minCUT
    loss :math:`\mathcal{L}_c = -\frac{\mathrm{Tr}(\mathbf{S}^{\top} \mathbf{A}
    \mathbf{S})}{\mathrm{Tr}(\mathbf{S}^{\top} \mathbf{D} \mathbf{S})}` (with
    :math:`\mathbf{D}` the row-degree matrix of :math:`\mathbf{A}`) and the
    orthogonality loss :math:`\mathcal{L}_o = \lVert \frac{\mathbf{S}^{\top}
    \mathbf{S}}{\lVert \mathbf{S}^{\top} \mathbf{S} \rVert_F} -
    \frac{\mathbf{I}_C}{\sqrt{C}} \rVert_F`, both averaged over the batch.

    Args:
        x (Tensor): node features ``[B, N, F]``.
        adj (Tensor): symmetrically normalised adjacency ``[B, N, N]``.
        s (Tensor): assignment logits ``[B, N, C]``.
        mask (BoolTensor, optional): valid nodes ``[B, N]``. (default: ``None``)
        temp (float, optional): softmax temperature :math:`T`. (default: ``1.0``)

    Returns:
        ``(x', adj', mincut_loss, ortho_loss)``: ``[B, C, F]``, ``[B, C, C]`` and two
        scalars.
    """
    x, adj, s, mask = pool_inputs(x, adj, s, mask)
    if not temp > 0:
        raise ValueError(f"'temp' must be positive, got {temp}")
    s = torch.softmax(s / temp if temp != 1.0 else s, dim=-1)
    if mask is not None:
        x, s = x * mask, s * mask
    st = s.transpose(1, 2)
    out = torch.matmul(st, x)
    out_adj = torch.matmul(torch.matmul(st, adj), s)
    mincut_num = trace(out_adj)
    degree = adj.sum(dim=-1)  # [B, N]
    mincut_den = (s * s * degree.unsqueeze(-1)).sum(dim=(-1, -2))  # Tr(S^T D S)
    mincut_loss = (-(mincut_num / mincut_den)).mean()
    ortho_loss = orthogonality_loss(s)
    return out, normalized_pooled_adj(out_adj), mincut_loss, ortho_loss


__all__ = ["dense_mincut_pool"]
