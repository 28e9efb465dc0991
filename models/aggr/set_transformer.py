"""``SetTransformerAggregation``: encode a set with self-attention, pool it with seeds."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ._dense import check_two_dimensional, to_dense_groups
from .base import Aggregation, register_aggregation
from .utils import PoolingByMultiheadAttention, SetAttentionBlock

torch.fx.wrap("to_dense_groups")  # see NOTE [dense groups while tracing]


@register_aggregation("set_transformer")
class SetTransformerAggregation(Aggregation):
    """Set Transformer aggregation (Lee et al., "Set Transformer"; Buterez et al., "Graph
    Neural Networks with Adaptive Readouts").

    .. math::
        \\mathbf{r}_g = \\mathrm{SAB}^{(d)}\\left(\\mathrm{PMA}_k\\left(
        \\mathrm{SAB}^{(e)}(\\mathbf{X}_g)\\right)\\right)

    with ``num_encoder_blocks`` set attention blocks before pooling by multihead
    attention into :math:`k` = ``num_seed_points`` vectors and ``num_decoder_blocks``
    after it (see :mod:`gfx.nn.aggr.utils`).  The :math:`k` outputs are concatenated
    (``[B, k * C]``) or averaged (``[B, C]``).  An empty group attends to nothing (see
    ``NOTE [attention over an empty set]``), so its result depends on the parameters
    only.

    Args:
        channels (int): the size :math:`C` of each element.
        num_seed_points (int, optional): the number :math:`k` of seeds. (default: ``1``)
        num_encoder_blocks (int, optional): set attention blocks before pooling.
            (default: ``1``)
        num_decoder_blocks (int, optional): set attention blocks after pooling.
            (default: ``1``)
        heads (int, optional): the number of attention heads. (default: ``1``)
        concat (bool, optional): concatenate the :math:`k` outputs, else average them.
            (default: ``True``)
        layer_norm (bool, optional): apply layer norms in every block. (default: ``False``)
        dropout (float, optional): dropout on the attention weights. (default: ``0.0``)
    """

    def __init__(self, channels: int, num_seed_points: int = 1, num_encoder_blocks: int = 1,
                 num_decoder_blocks: int = 1, heads: int = 1, concat: bool = True,
                 layer_norm: bool = False, dropout: float = 0.0):
        super().__init__()
        for name, value in (("num_encoder_blocks", num_encoder_blocks),
                            ("num_decoder_blocks", num_decoder_blocks)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(self._error(
                    f"'{name}' must be a non-negative int, got {value!r}"))
        self.channels = channels
        self.num_seed_points = num_seed_points
        self.heads = heads
        self.concat = concat
        self.layer_norm = layer_norm
        self.dropout = dropout
        self.encoders = torch.nn.ModuleList([
            SetAttentionBlock(channels, heads, layer_norm, dropout)
            for _ in range(num_encoder_blocks)])
        self.pma = PoolingByMultiheadAttention(channels, num_seed_points, heads, layer_norm,
                                               dropout)
        self.decoders = torch.nn.ModuleList([
            SetAttentionBlock(channels, heads, layer_norm, dropout)
            for _ in range(num_decoder_blocks)])

    def get_out_channels(self, in_channels: int) -> int:
        """``num_seed_points * in_channels`` with ``concat``, else ``in_channels``."""
        return self.num_seed_points * in_channels if self.concat else in_channels

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        check_two_dimensional(self, x, dim)
        dense, mask = to_dense_groups(x, index, ptr, dim_size)
        for encoder in self.encoders:
            dense = encoder(dense, mask)
        dense = self.pma(dense, mask)
        for decoder in self.decoders:
            dense = decoder(dense)
        return dense.flatten(1, 2) if self.concat else dense.mean(dim=1)

    def extra_repr(self) -> str:
        return (f"{self.channels}, num_seed_points={self.num_seed_points}, "
                f"heads={self.heads}, layer_norm={self.layer_norm}, dropout={self.dropout}")
