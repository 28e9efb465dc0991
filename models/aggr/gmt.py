"""``GraphMultisetTransformer``: pool a set to k seeds, self-attend, pool to one vector."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ._dense import check_two_dimensional, to_dense_groups
from .base import Aggregation, register_aggregation
from .utils import PoolingByMultiheadAttention, SetAttentionBlock

torch.fx.wrap("to_dense_groups")  # see NOTE [dense groups while tracing]


@register_aggregation("gmt")
class GraphMultisetTransformer(Aggregation):
    """Graph Multiset Transformer readout (Baek et al., "Accurate Learning of Graph
    Representations with Graph Multiset Pooling").

    .. math::
        \\mathbf{r}_g = \\mathrm{PMA}_1\\left(\\mathrm{SAB}^{(n)}\\left(
        \\mathrm{PMA}_k(\\mathbf{X}_g)\\right)\\right)

    The elements of a group are pooled into :math:`k` vectors by multihead attention
    with learnable seeds, refined by ``num_encoder_blocks`` set attention blocks, and
    pooled into one vector (see :mod:`gfx.nn.aggr.utils`).  An empty group attends to
    nothing (see ``NOTE [attention over an empty set]``).

    Args:
        channels (int): the size :math:`C` of each element (and of the result).
        k (int): the number of seeds of the first pooling.
        num_encoder_blocks (int, optional): the number :math:`n` of set attention
            blocks. (default: ``1``)
        heads (int, optional): the number of attention heads. (default: ``1``)
        layer_norm (bool, optional): apply layer norms in every block. (default: ``False``)
        dropout (float, optional): dropout on the attention weights. (default: ``0.0``)
    """

    def __init__(self, channels: int, k: int, num_encoder_blocks: int = 1, heads: int = 1,
                 layer_norm: bool = False, dropout: float = 0.0):
        super().__init__()
        if isinstance(num_encoder_blocks, bool) or not isinstance(num_encoder_blocks, int) \
                or num_encoder_blocks < 0:
            raise ValueError(self._error(f"'num_encoder_blocks' must be a non-negative int, "
                                         f"got {num_encoder_blocks!r}"))
        self.channels = channels
        self.k = k
        self.heads = heads
        self.layer_norm = layer_norm
        self.dropout = dropout
        self.pma1 = PoolingByMultiheadAttention(channels, k, heads, layer_norm, dropout)
        self.encoders = torch.nn.ModuleList([
            SetAttentionBlock(channels, heads, layer_norm, dropout)
            for _ in range(num_encoder_blocks)])
        self.pma2 = PoolingByMultiheadAttention(channels, 1, heads, layer_norm, dropout)

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        check_two_dimensional(self, x, dim)
        dense, mask = to_dense_groups(x, index, ptr, dim_size)
        dense = self.pma1(dense, mask)
        for encoder in self.encoders:
            dense = encoder(dense)
        return self.pma2(dense).squeeze(1)

    def extra_repr(self) -> str:
        return (f"{self.channels}, k={self.k}, heads={self.heads}, "
                f"layer_norm={self.layer_norm}, dropout={self.dropout}")
