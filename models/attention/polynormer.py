"""``PolynormerAttention``: Polynormer's linear global attention with a polynomial gate."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.ops._checks import is_tracing


class PolynormerAttention(torch.nn.Module):
    """Polynomial-expressive global attention (Deng et al., "Polynormer:
    Polynomial-Expressive Graph Transformer in Linear Time").

    With sigmoid keys :math:`\\mathbf{k}_j = \\sigma(\\mathbf{W}_K\\mathbf{x}_j)`, queries
    :math:`\\mathbf{q}_i` (the keys when ``qk_shared``, else
    :math:`\\sigma(\\mathbf{W}_Q\\mathbf{x}_i)`) and values
    :math:`\\mathbf{v}_j = \\mathbf{W}_V\\mathbf{x}_j`, per head,

    .. math::
        \\mathbf{z}_i = \\frac{\\mathbf{q}_i^{\\top}\\sum_j \\mathbf{k}_j
        \\mathbf{v}_j^{\\top}}{\\mathbf{q}_i^{\\top}\\sum_j \\mathbf{k}_j}, \\qquad
        \\mathbf{x}'_i = \\mathrm{ReLU}\\left(\\mathbf{W}_O\\left(\\mathrm{LN}(\\mathbf{z}_i)
        \\odot (\\mathbf{W}_H\\mathbf{x}_i + \\mathbf{b}_H + \\beta)\\right) +
        \\mathbf{b}_O\\right)

    followed by dropout.  The projections are laid out channel-major: feature
    :math:`c \\cdot H + h` of a projection is channel :math:`c` of head :math:`h`.
    Padded entries (``mask`` ``False``) have their values set to 0.

    Args:
        channels (int): the size of each input element.
        heads (int): the number of heads :math:`H`.
        head_channels (int, optional): the size of each head. (default: ``64``)
        beta (float, optional): the offset :math:`\\beta` of the gate. (default: ``0.9``)
        qkv_bias (bool, optional): give the query, key and value maps a bias.
            (default: ``False``)
        qk_shared (bool, optional): use the keys as queries. (default: ``True``)
        dropout (float, optional): dropout on the output. (default: ``0.0``)

    Shapes: ``x`` ``[B, N, channels]``, ``mask`` ``[B, N]`` ->
    ``[B, N, heads * head_channels]``.
    """

    def __init__(self, channels: int, heads: int, head_channels: int = 64, beta: float = 0.9,
                 qkv_bias: bool = False, qk_shared: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        for name, value in (("channels", channels), ("heads", heads),
                            ("head_channels", head_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"PolynormerAttention: '{name}' must be a positive int, "
                                 f"got {value!r}")
        self.channels = channels
        self.heads = heads
        self.head_channels = head_channels
        self.beta = beta
        self.qk_shared = qk_shared
        inner = heads * head_channels
        self.h_lins = torch.nn.Linear(channels, inner)
        if not qk_shared:
            self.q = torch.nn.Linear(channels, inner, bias=qkv_bias)
        self.k = torch.nn.Linear(channels, inner, bias=qkv_bias)
        self.v = torch.nn.Linear(channels, inner, bias=qkv_bias)
        self.lns = torch.nn.LayerNorm(inner)
        self.lin_out = torch.nn.Linear(inner, inner)
        self.dropout = torch.nn.Dropout(dropout)

    def reset_parameters(self) -> None:
        """Re-initialise every projection and the layer norm."""
        for module in self.children():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Attend globally within each padded set of ``x``."""
        if not is_tracing(x) and (x.dim() != 3 or x.size(-1) != self.channels):
            raise ValueError(f"PolynormerAttention: expected 'x' of shape [B, N, "
                             f"{self.channels}], got {list(x.shape)}")
        b, n = x.size(0), x.size(1)
        shape = (b, n, self.head_channels, self.heads)
        h = self.h_lins(x)
        k = self.k(x).sigmoid().view(shape)
        q = k if self.qk_shared else self.q(x).sigmoid().view(shape)
        v = self.v(x).view(shape)
        if mask is not None:
            v = v.masked_fill(~mask.bool()[:, :, None, None], 0.0)
        kv = torch.einsum("bndh,bnmh->bdmh", k, v)
        numerator = torch.einsum("bndh,bdmh->bnmh", q, kv)
        denominator = torch.einsum("bndh,bdh->bnh", q, k.sum(dim=1)).unsqueeze(2)
        z = (numerator / denominator).reshape(b, n, -1)
        out = self.lns(z) * (h + self.beta)
        return self.dropout(F.relu(self.lin_out(out)))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(heads={self.heads}, "
                f"head_channels={self.head_channels})")


__all__ = ["PolynormerAttention"]
