"""``PerformerAttention``: linear-time softmax-free attention with random features
(Choromanski et al., ICLR 2021)."""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch
from torch import Tensor


def orthogonal_random_features(num_rows: int, num_cols: int) -> Tensor:
    """``[num_rows, num_cols]`` random unit rows, orthogonal within each block of
    ``num_cols`` rows (the last block truncated)."""
    blocks = []
    for start in range(0, num_rows, num_cols):
        q, _ = torch.linalg.qr(torch.randn(num_cols, num_cols), mode="reduced")
        blocks.append(q.t()[:num_rows - start])
    if not blocks:
        return torch.empty(0, num_cols)
    return torch.cat(blocks)


def positive_random_features(x: Tensor, projection: Tensor, kernel: Callable,
                             epsilon: float = 0.001) -> Tensor:
    """:math:`\\phi(\\mathbf{x}) = \\mathrm{kernel}(\\mathbf{x} \\mathbf{P}^{\\top}) +
    \\epsilon`, row by row: ``[..., L, d]`` -> ``[..., L, m]``."""
    return kernel(x @ projection.t()) + epsilon


def linear_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """:math:`\\mathrm{diag}(\\mathbf{Q} \\mathbf{K}^{\\top} \\mathbf{1})^{-1}
    \\mathbf{Q} (\\mathbf{K}^{\\top} \\mathbf{V})` over the last two dimensions, without
    forming the ``L x L`` matrix."""
    normaliser = q @ k.sum(dim=-2).unsqueeze(-1)  # [..., L, 1]
    return (q @ (k.transpose(-2, -1) @ v)) / normaliser


class PerformerProjection(torch.nn.Module):
    """The random feature map of one attention head and the attention it computes.

    Holds ``projection_matrix`` (a buffer) of ``int(num_cols * ln(num_cols))`` orthogonal
    random rows.

    Args:
        num_cols (int): features per head.
        kernel (Callable): the non-negative kernel applied to the projections.
    """

    def __init__(self, num_cols: int, kernel: Callable):
        super().__init__()
        # one head channel would give log(1) = 0 features (a 0/0 attention): use one
        self.num_rows = int(num_cols * math.log(num_cols)) if num_cols > 1 else 1
        self.num_cols = num_cols
        self.kernel = kernel
        self.register_buffer("projection_matrix",
                             orthogonal_random_features(self.num_rows, num_cols))

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        q = positive_random_features(q, self.projection_matrix, self.kernel)
        k = positive_random_features(k, self.projection_matrix, self.kernel)
        return linear_attention(q, k, v)


class PerformerAttention(torch.nn.Module):
    """The linear scaled attention of "Rethinking Attention with Performers".

    Per head, with :math:`\\phi(\\mathbf{x}) = \\mathrm{kernel}(\\mathbf{P}\\mathbf{x}) +
    \\epsilon` (:math:`\\mathbf{P}` a fixed random orthogonal projection,
    :math:`\\epsilon = 10^{-3}`) applied to every row of the queries and keys,

    .. math::
        \\mathrm{Attn}(\\mathbf{Q}, \\mathbf{K}, \\mathbf{V}) =
        \\mathrm{diag}\\left(\\phi(\\mathbf{Q}) \\phi(\\mathbf{K})^{\\top}
        \\mathbf{1}\\right)^{-1} \\phi(\\mathbf{Q}) \\left(\\phi(\\mathbf{K})^{\\top}
        \\mathbf{V}\\right)

    which costs :math:`O(L)` in the sequence length :math:`L`.
    :math:`\\mathbf{Q}, \\mathbf{K}, \\mathbf{V}` are linear maps of ``x`` (``q``, ``k``,
    ``v``), the heads are concatenated, mapped back by ``attn_out`` and dropped out.
    ``mask`` marks the real entries of a padded batch: the values of padded entries are
    zeroed (their keys still enter the normaliser, as in the reference).

    Args:
        channels (int): features per entry of ``x``.
        heads (int): number of heads; must divide ``channels``.
        head_channels (int, optional): features per head; ``None`` for
            ``channels // heads``. (default: ``64``)
        kernel (Callable, optional): the non-negative kernel of the feature map.
            (default: ``torch.nn.ReLU()``)
        qkv_bias (bool, optional): biases in ``q``, ``k``, ``v``. (default: ``False``)
        attn_out_bias (bool, optional): bias in ``attn_out``. (default: ``True``)
        dropout (float, optional): dropout on the output. (default: ``0.``)

    Shapes: ``x`` ``[B, L, channels]``, ``mask`` ``[B, L]`` (bool) ->
    ``[B, L, channels]``.
    """

    def __init__(self, channels: int, heads: int, head_channels: Optional[int] = 64,
                 kernel: Callable = torch.nn.ReLU(), qkv_bias: bool = False,
                 attn_out_bias: bool = True, dropout: float = 0.0):
        super().__init__()
        if heads < 1 or channels % heads != 0:
            raise ValueError(f"PerformerAttention: 'heads' ({heads}) must divide "
                             f"'channels' ({channels})")
        if head_channels is None:
            head_channels = channels // heads
        if head_channels < 1:
            raise ValueError(f"PerformerAttention: 'head_channels' must be positive, got "
                             f"{head_channels}")
        self.heads = heads
        self.head_channels = head_channels
        self.kernel = kernel
        self.fast_attn = PerformerProjection(head_channels, kernel)
        inner = heads * head_channels
        self.q = torch.nn.Linear(channels, inner, bias=qkv_bias)
        self.k = torch.nn.Linear(channels, inner, bias=qkv_bias)
        self.v = torch.nn.Linear(channels, inner, bias=qkv_bias)
        self.attn_out = torch.nn.Linear(inner, channels, bias=attn_out_bias)
        self.dropout = torch.nn.Dropout(dropout)

    def reset_parameters(self) -> None:
        for lin in (self.q, self.k, self.v, self.attn_out):
            lin.reset_parameters()
        self.redraw_projection_matrix()

    @torch.no_grad()
    def redraw_projection_matrix(self) -> None:
        """Draw a fresh random projection (in place, same device and dtype)."""
        fresh = orthogonal_random_features(self.fast_attn.num_rows, self.fast_attn.num_cols)
        self.fast_attn.projection_matrix.copy_(fresh)

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        tracing = isinstance(x, torch.fx.Proxy)
        if not tracing and x.dim() != 3:
            raise ValueError(f"PerformerAttention: 'x' must be [batch, length, channels], "
                             f"got shape {list(x.shape)}")
        B, L = x.shape[0], x.shape[1]

        def heads(t: Tensor) -> Tensor:  # [B, L, H * D] -> [B, H, L, D]
            return t.reshape(B, L, self.heads, self.head_channels).permute(0, 2, 1, 3)

        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        if mask is not None:
            if not tracing and not isinstance(mask, torch.fx.Proxy) and \
                    mask.shape != x.shape[:2]:
                raise ValueError(f"PerformerAttention: 'mask' must have shape "
                                 f"{list(x.shape[:2])}, got {list(mask.shape)}")
            v = v.masked_fill(~mask.bool()[:, None, :, None], 0.0)
        out = self.fast_attn(q, k, v)
        out = out.permute(0, 2, 1, 3).reshape(B, L, self.heads * self.head_channels)
        return self.dropout(self.attn_out(out))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(heads={self.heads}, "
                f"head_channels={self.head_channels} kernel={self.kernel})")


__all__ = ["PerformerAttention"]
