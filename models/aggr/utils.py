"""Attention blocks over padded sets, the building blocks of the set-transformer readouts.

Every block takes dense sets ``[B, M, C]`` with an optional mask ``[B, M]`` of the real
entries (see :func:`gfx.nn.aggr._dense.to_dense_groups`).

NOTE [attention over an empty set]
    A group without elements has no key to attend to; a softmax over no entries is 0/0.
    Here every attention weight of such a query is 0, so the attended value is the zero
    vector and the attention output is the output projection of zero, i.e. its bias
    (the reference's values and gradients), never NaN.  The mask row of an empty set is
    opened before the softmax (the padded keys are finite zeros) and the result replaced
    afterwards, which keeps the computation free of data-dependent control flow.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


class MultiheadAttentionBlock(torch.nn.Module):
    """Multihead attention block (Lee et al., "Set Transformer"), :math:`\\mathrm{MAB}`.

    .. math::
        \\mathbf{H} &= \\mathrm{LN}_1(\\mathbf{X} + \\mathrm{Multihead}(\\mathbf{X},
        \\mathbf{Y}, \\mathbf{Y})) \\\\
        \\mathrm{MAB}(\\mathbf{X}, \\mathbf{Y}) &= \\mathrm{LN}_2(\\mathbf{H} +
        \\mathrm{ReLU}(\\mathbf{H}\\mathbf{W} + \\mathbf{b}))

    The layer norms are the identity when ``layer_norm=False``.  Padded queries (where
    ``x_mask`` is ``False``) get a zero attention output; queries into an empty set get
    the output projection's bias (see ``NOTE [attention over an empty set]``).

    Args:
        channels (int): the size :math:`C` of each element.
        heads (int, optional): the number of attention heads. (default: ``1``)
        layer_norm (bool, optional): apply the two layer norms. (default: ``True``)
        dropout (float, optional): dropout on the attention weights. (default: ``0.0``)
    """

    def __init__(self, channels: int, heads: int = 1, layer_norm: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"{type(self).__name__}: 'channels' must be a positive int, "
                             f"got {channels!r}")
        if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1 \
                or channels % heads != 0:
            raise ValueError(f"{type(self).__name__}: 'heads' must be a positive int that "
                             f"divides channels={channels}, got {heads!r}")
        self.channels = channels
        self.heads = heads
        self.dropout = dropout
        self.attn = torch.nn.MultiheadAttention(channels, heads, batch_first=True,
                                                dropout=dropout)
        self.lin = torch.nn.Linear(channels, channels)
        self.layer_norm1 = torch.nn.LayerNorm(channels) if layer_norm else None
        self.layer_norm2 = torch.nn.LayerNorm(channels) if layer_norm else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the attention, the linear map and the layer norms."""
        self.attn._reset_parameters()
        self.lin.reset_parameters()
        for norm in (self.layer_norm1, self.layer_norm2):
            if norm is not None:
                norm.reset_parameters()

    def forward(self, x: Tensor, y: Tensor, x_mask: Optional[Tensor] = None,
                y_mask: Optional[Tensor] = None) -> Tensor:
        """Attend from the queries ``x`` ``[B, Q, C]`` to the set ``y`` ``[B, M, C]``."""
        if y_mask is None:
            out, _ = self.attn(x, y, y, need_weights=False)
        else:
            has_keys = y_mask.any(dim=1, keepdim=True)                        # [B, 1]
            ignore = ~y_mask & has_keys
            out, _ = self.attn(x, y, y, key_padding_mask=ignore, need_weights=False)
            keep = has_keys.unsqueeze(-1).to(out.dtype)
            out = out * keep + (1 - keep) * self.attn.out_proj.bias
        if x_mask is not None:
            out = out * x_mask.unsqueeze(-1).to(out.dtype)
        out = out + x
        if self.layer_norm1 is not None:
            out = self.layer_norm1(out)
        out = out + self.lin(out).relu()
        if self.layer_norm2 is not None:
            out = self.layer_norm2(out)
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.channels}, heads={self.heads}, "
                f"layer_norm={self.layer_norm1 is not None}, dropout={self.dropout})")


class SetAttentionBlock(torch.nn.Module):
    """Set attention block :math:`\\mathrm{SAB}(\\mathbf{X}) = \\mathrm{MAB}(\\mathbf{X},
    \\mathbf{X})` (Lee et al., "Set Transformer").

    Args:
        channels (int): the size of each element.
        heads (int, optional): the number of attention heads. (default: ``1``)
        layer_norm (bool, optional): apply layer norms. (default: ``True``)
        dropout (float, optional): dropout on the attention weights. (default: ``0.0``)
    """

    def __init__(self, channels: int, heads: int = 1, layer_norm: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        self.mab = MultiheadAttentionBlock(channels, heads, layer_norm, dropout)

    def reset_parameters(self) -> None:
        """Re-initialise the attention block."""
        self.mab.reset_parameters()

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Self-attention within the padded sets ``x`` ``[B, M, C]``."""
        return self.mab(x, x, mask, mask)

    def __repr__(self) -> str:
        mab = self.mab
        return (f"{type(self).__name__}({mab.channels}, heads={mab.heads}, "
                f"layer_norm={mab.layer_norm1 is not None}, dropout={mab.dropout})")


class PoolingByMultiheadAttention(torch.nn.Module):
    """Pooling by multihead attention (Lee et al., "Set Transformer"):
    :math:`\\mathrm{PMA}_k(\\mathbf{X}) = \\mathrm{MAB}(\\mathbf{S}, \\mathrm{ReLU}(
    \\mathbf{X}\\mathbf{W} + \\mathbf{b}))` with :math:`k` learnable seed vectors
    :math:`\\mathbf{S} \\in \\mathbb{R}^{k \\times C}`.

    Args:
        channels (int): the size of each element.
        num_seed_points (int, optional): the number :math:`k` of outputs per set.
            (default: ``1``)
        heads (int, optional): the number of attention heads. (default: ``1``)
        layer_norm (bool, optional): apply layer norms. (default: ``True``)
        dropout (float, optional): dropout on the attention weights. (default: ``0.0``)
    """

    def __init__(self, channels: int, num_seed_points: int = 1, heads: int = 1,
                 layer_norm: bool = True, dropout: float = 0.0):
        super().__init__()
        if isinstance(num_seed_points, bool) or not isinstance(num_seed_points, int) \
                or num_seed_points < 1:
            raise ValueError(f"{type(self).__name__}: 'num_seed_points' must be a positive "
                             f"int, got {num_seed_points!r}")
        self.num_seed_points = num_seed_points
        self.lin = torch.nn.Linear(channels, channels)
        self.seed = torch.nn.Parameter(torch.empty(1, num_seed_points, channels))
        self.mab = MultiheadAttentionBlock(channels, heads, layer_norm, dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Seeds from Xavier-uniform; re-initialise the linear map and the block."""
        self.lin.reset_parameters()
        torch.nn.init.xavier_uniform_(self.seed)
        self.mab.reset_parameters()

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Pool the padded sets ``x`` ``[B, M, C]`` into ``[B, k, C]``."""
        x = self.lin(x).relu()
        return self.mab(self.seed.expand(x.size(0), -1, -1), x, y_mask=mask)

    def __repr__(self) -> str:
        mab = self.mab
        return (f"{type(self).__name__}({mab.channels}, num_seed_points="
                f"{self.num_seed_points}, heads={mab.heads}, layer_norm="
                f"{mab.layer_norm1 is not None}, dropout={mab.dropout})")


__all__ = ["MultiheadAttentionBlock", "SetAttentionBlock", "PoolingByMultiheadAttention"]
