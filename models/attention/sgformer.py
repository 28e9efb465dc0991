"""``SGFormerAttention``: the one-layer linear global attention of SGFormer."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.ops._checks import is_tracing


class SGFormerAttention(torch.nn.Module):
    """Simple global attention (Wu et al., "SGFormer: Simplifying and Empowering
    Transformers for Large-Graph Representations"), linear in the number of nodes.

    Per head, with :math:`\\tilde{\\mathbf{q}}_i`, :math:`\\tilde{\\mathbf{k}}_j` the query
    and key vectors scaled to unit length and :math:`N` the (padded) set size:

    .. math::
        \\mathbf{z}_i = \\frac{\\tilde{\\mathbf{q}}_i^{\\top}\\left(\\sum_j
        \\tilde{\\mathbf{k}}_j \\mathbf{v}_j^{\\top}\\right) + N \\mathbf{v}_i}
        {\\tilde{\\mathbf{q}}_i^{\\top} \\sum_j \\tilde{\\mathbf{k}}_j + N}

    and the output is the mean of :math:`\\mathbf{z}_i` over the heads (``head_channels``
    features).  Padded entries (``mask`` ``False``) have their values set to 0.  Exact
    zeros of queries and keys are replaced by :math:`10^{-6}` before the scaling.

    Args:
        channels (int): the size of each input element.
        heads (int, optional): the number of heads; must divide ``channels``.
            (default: ``1``)
        head_channels (int, optional): the size of each head. (default: ``64``)
        qkv_bias (bool, optional): give the query, key and value maps a bias.
            (default: ``False``)

    Shapes: ``x`` ``[B, N, channels]``, ``mask`` ``[B, N]`` -> ``[B, N, head_channels]``.
    """

    def __init__(self, channels: int, heads: int = 1, head_channels: int = 64,
                 qkv_bias: bool = False) -> None:
        super().__init__()
        for name, value in (("channels", channels), ("heads", heads),
                            ("head_channels", head_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SGFormerAttention: '{name}' must be a positive int, "
                                 f"got {value!r}")
        if channels % heads != 0:
            raise ValueError(f"SGFormerAttention: 'heads'={heads} must divide "
                             f"channels={channels}")
        self.channels = channels
        self.heads = heads
        self.head_channels = head_channels
        inner = heads * head_channels
        self.q = torch.nn.Linear(channels, inner, bias=qkv_bias)
        self.k = torch.nn.Linear(channels, inner, bias=qkv_bias)
        self.v = torch.nn.Linear(channels, inner, bias=qkv_bias)

    def reset_parameters(self) -> None:
        """Re-initialise the query, key and value maps."""
        for lin in (self.q, self.k, self.v):
            lin.reset_parameters()

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Attend globally within each padded set of ``x``."""
        if not is_tracing(x) and (x.dim() != 3 or x.size(-1) != self.channels):
            raise ValueError(f"SGFormerAttention: expected 'x' of shape [B, N, "
                             f"{self.channels}], got {list(x.shape)}")
        b, n = x.size(0), x.size(1)
        shape = (b, n, self.heads, self.head_channels)
        q, k, v = (lin(x).view(shape) for lin in (self.q, self.k, self.v))
        if mask is not None:
            v = v.masked_fill(~mask.bool()[:, :, None, None], 0.0)
        q = torch.where(q == 0, torch.full_like(q, 1e-6), q)
        k = torch.where(k == 0, torch.full_like(k, 1e-6), k)
        q = q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)
        k = k / torch.linalg.vector_norm(k, dim=-1, keepdim=True)
        kv = torch.einsum("blhm,blhd->bhmd", k, v)
        numerator = torch.einsum("bnhm,bhmd->bnhd", q, kv) + n * v
        denominator = torch.einsum("bnhm,bhm->bnh", q, k.sum(dim=1)).unsqueeze(-1) + n
        return (numerator / denominator).mean(dim=2)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(heads={self.heads}, "
                f"head_channels={self.head_channels})")


__all__ = ["SGFormerAttention"]
