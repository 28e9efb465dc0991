"""``dense_diff_pool``: differentiable pooling with learned dense assignments."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from gfx.ops._checks import is_tracing

EPS = 1e-15


def pool_inputs(x: Tensor, adj: Tensor, s: Tensor, mask: Optional[Tensor]
                ) -> Tuple[Tensor, Tensor, Tensor, Optional[Tensor]]:
    """Batch 2-D inputs to ``[1, ...]``, check shapes; ``mask`` as ``[B, N, 1]`` floats.

    Under capture the ranks are unknown: the same reshapes are recorded, unchecked.
    """
    if is_tracing(x, adj, s, mask):
        x = x.reshape(-1, x.size(-2), x.size(-1))
        adj = adj.reshape(-1, adj.size(-2), adj.size(-1))
        s = s.reshape(-1, s.size(-2), s.size(-1))
        if mask is not None:
            mask = mask.reshape(-1, x.size(1), 1).to(x.dtype)
        return x, adj, s, mask
    for name, value in (("x", x), ("adj", adj), ("s", s)):
        if not isinstance(value, Tensor):
            raise TypeError(f"'{name}' must be a tensor, got {type(value).__name__}")
    x = x.unsqueeze(0) if x.dim() == 2 else x
    adj = adj.unsqueeze(0) if adj.dim() == 2 else adj
    s = s.unsqueeze(0) if s.dim() == 2 else s
    if x.dim() != 3:
        raise ValueError(f"'x' must be [B, N, F] or [N, F], got shape {list(x.shape)}")
    B, N = x.shape[0], x.shape[1]
    if adj.dim() != 3 or adj.shape[-2:] != (N, N) or adj.shape[0] not in (1, B):
        raise ValueError(f"'adj' must be [B, N, N] = [{B}, {N}, {N}], got shape "
                         f"{list(adj.shape)}")
    if s.dim() != 3 or s.shape[:2] != (B, N):
        raise ValueError(f"'s' must be [B, N, C] with B, N = {B}, {N}, got shape "
                         f"{list(s.shape)}")
    if mask is not None:
        if mask.numel() != B * N:
            raise ValueError(f"'mask' must be [B, N] = [{B}, {N}], got shape "
                             f"{list(mask.shape)}")
        mask = mask.reshape(B, N, 1).to(x.dtype)
    return x, adj, s, mask


def dense_diff_pool(x: Tensor, adj: Tensor, s: Tensor, mask: Optional[Tensor] = None,
                    normalize: bool = True) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    r"""Differentiable pooling (Ying et al., NeurIPS 2018) with dense assignments.

    .. math::
        \mathbf{X}' = \mathrm{softmax}(\mathbf{S})^{\top} \mathbf{X}, \qquad
        \mathbf{A}' = \mathrm{softmax}(\mathbf{S})^{\top} \mathbf{A}\,
        \mathrm{softmax}(\mathbf{S})

    with the softmax over the clusters (last dimension), taken here.  Rows of nodes
    outside ``mask`` are zeroed in :math:`\mathbf{X}` and in the assignments first.
    Also returns the link prediction loss
    :math:`\mathcal{L}_{LP} = \lVert \mathbf{A} - \mathrm{softmax}(\mathbf{S})
    \mathrm{softmax}(\mathbf{S})^{\top} \rVert_F` over the whole batch (divided by the
    number of entries of ``adj`` when ``normalize``) and the entropy regularisation
    :math:`\mathcal{L}_E = \frac{1}{BN} \sum_{b, n} H(\mathrm{softmax}(\mathbf{S})_{bn})`,
    with :math:`H(p) = -\sum_c p_c \log(p_c + 10^{-15})` (masked rows count as 0).

    Args:
        x (Tensor): node features ``[B, N, F]``.
        adj (Tensor): adjacency ``[B, N, N]``.
        s (Tensor): assignment logits ``[B, N, C]``.
        mask (BoolTensor, optional): valid nodes ``[B, N]``. (default: ``None``)
        normalize (bool, optional): divide the link loss by ``adj.numel()``.
            (default: ``True``)

    Returns:
        ``(x', adj', link_loss, ent_loss)``: ``[B, C, F]``, ``[B, C, C]`` and two scalars.
    """
    x, adj, s, mask = pool_inputs(x, adj, s, mask)
    s = torch.softmax(s, dim=-1)
    if mask is not None:
        x, s = x * mask, s * mask
    st = s.transpose(1, 2)
    out = torch.matmul(st, x)
    out_adj = torch.matmul(torch.matmul(st, adj), s)
    link_loss = torch.linalg.vector_norm(adj - torch.matmul(s, st))
    if normalize:
        link_loss = link_loss / adj.numel()
    ent_loss = (-s * torch.log(s + EPS)).sum(dim=-1).mean()
    return out, out_adj, link_loss, ent_loss


__all__ = ["dense_diff_pool"]
