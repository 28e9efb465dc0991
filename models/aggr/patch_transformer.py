"""``PatchTransformerAggregation``: attention across fixed-size patches of a sequence."""
from __future__ import annotations

import math
from typing import List, Optional, Union

import torch
from torch import Tensor

from ._dense import check_two_dimensional, to_dense_groups
from .base import Aggregation, has_data, register_aggregation
from .utils import MultiheadAttentionBlock


def dense_patches(x: Tensor, index: Optional[Tensor], ptr: Optional[Tensor],
                  dim_size: Optional[int], patch_size: int,
                  max_num_elements: Optional[int]) -> Tensor:
    """The groups of ``x`` ``[L, H]`` as ``[B, P, patch_size * H]`` patches.

    Each group is zero-padded to a multiple of ``patch_size`` (of ``max_num_elements``
    when given, else of the largest group) and cut into consecutive patches.  Declared
    with ``torch.fx.wrap`` (the width is read from the data).
    """
    dense, _ = to_dense_groups(x, index, ptr, dim_size)
    width = dense.size(1) if max_num_elements is None else max(max_num_elements, 1)
    width = patch_size * math.ceil(width / patch_size)
    padding = dense.new_zeros(dense.size(0), width - dense.size(1), dense.size(2))
    dense = torch.cat([dense, padding], dim=1)
    return dense.reshape(dense.size(0), width // patch_size, patch_size * dense.size(2))


torch.fx.wrap("dense_patches")


def patch_variance(h: Tensor) -> Tensor:
    """Unbiased variance over the patch axis 1; 0 (not NaN) for a single patch."""
    count = h.new_ones(h.shape[:2]).sum(dim=1, keepdim=True)
    centred = h - h.mean(dim=1, keepdim=True)
    return centred.square().sum(dim=1) / (count - 1).clamp(min=1)


PATCH_REDUCTIONS = {
    "sum": lambda h: h.sum(dim=1),
    "mean": lambda h: h.mean(dim=1),
    "max": lambda h: h.max(dim=1).values,
    "min": lambda h: h.min(dim=1).values,
    "var": patch_variance,
    "std": lambda h: patch_variance(h).sqrt(),
}


class PositionalEncoding(torch.nn.Module):
    """Sinusoidal encoding of positions :math:`p`: :math:`[\\sin(p\\,\\omega_j) \\Vert
    \\cos(p\\,\\omega_j)]_j` with frequencies :math:`\\omega_j = b^{j/(C/2-1)}`,
    :math:`j = 0, \\dots, C/2-1`, stored in the buffer ``frequency``.

    Args:
        out_channels (int): the (even) size :math:`C` of the encoding.
        base_freq (float, optional): the smallest frequency :math:`b`. (default: ``1e-4``)
    """

    def __init__(self, out_channels: int, base_freq: float = 1e-4):
        super().__init__()
        if out_channels % 2 != 0:
            raise ValueError(f"PositionalEncoding: 'out_channels' must be even, got "
                             f"{out_channels}")
        self.out_channels = out_channels
        self.register_buffer("frequency", torch.logspace(0, 1, out_channels // 2, base_freq))

    def forward(self, position: Tensor) -> Tensor:
        """``[len(position), out_channels]`` encodings."""
        angle = position.view(-1, 1) * self.frequency.view(1, -1)
        return torch.cat([angle.sin(), angle.cos()], dim=-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.out_channels})"


@register_aggregation("patch_transformer")
class PatchTransformerAggregation(Aggregation):
    """Patch transformer aggregation (Li et al., "Simplifying Temporal Heterogeneous
    Network for Continuous-Time Link Prediction").

    Each element is mapped to ``hidden_channels`` (:math:`\\mathbf{h}_i =
    \\mathbf{W}\\mathbf{x}_i + \\mathbf{b}`); a group, in order of appearance and
    zero-padded to a multiple of ``patch_size``, is cut into patches of ``patch_size``
    consecutive elements.  Patch :math:`p` becomes

    .. math::
        \\mathbf{z}_p = \\mathbf{W}_{\\mathrm{pad}}\\left[\\mathbf{h}_{p,1} \\Vert \\dots
        \\Vert \\mathbf{h}_{p,\\mathrm{patch\\_size}}\\right] + \\mathbf{b}_{\\mathrm{pad}}
        + \\mathrm{PE}(p)

    then passes ``num_transformer_blocks`` multihead attention blocks (self-attention
    across the patches, layer norms on, see :mod:`gfx.nn.aggr.utils`).  The patches are
    reduced by each aggregation in ``aggr`` (concatenated) and mapped by a last linear
    layer to ``out_channels``.  Padding patches take part in the attention and the
    reduction, as in the reference.

    Args:
        in_channels (int): the size of each element.
        out_channels (int): the size of the result.
        patch_size (int): the number of elements per patch.
        hidden_channels (int): the (even) size of the hidden representation.
        num_transformer_blocks (int, optional): attention blocks. (default: ``1``)
        heads (int, optional): the number of attention heads. (default: ``1``)
        dropout (float, optional): dropout on the attention weights. (default: ``0.0``)
        aggr (str or [str], optional): reduction(s) over the patches: ``"sum"``,
            ``"mean"``, ``"max"``, ``"min"``, ``"var"``, ``"std"``
            (variance and deviation unbiased, as in the reference, but 0 rather than NaN
            for a single patch). (default: ``"mean"``)

    ``forward`` takes ``max_num_elements`` (int, optional): a fixed padded length, rounded
    up to a multiple of ``patch_size``; a larger group raises ``ValueError``.

    Differs from the reference where the reference drops input: there the padded length
    (the largest group, or ``max_num_elements``) is sometimes rounded *down* to a
    multiple of ``patch_size``, silently cutting the last elements of the largest
    groups; here it is always rounded up, so every element is read.  When the largest
    group's size is a multiple of ``patch_size`` the two agree.
    """

    def __init__(self, in_channels: int, out_channels: int, patch_size: int,
                 hidden_channels: int, num_transformer_blocks: int = 1, heads: int = 1,
                 dropout: float = 0.0, aggr: Union[str, List[str]] = "mean"):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("patch_size", patch_size), ("hidden_channels", hidden_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(self._error(f"'{name}' must be a positive int, got {value!r}"))
        self.aggr = [aggr] if isinstance(aggr, str) else list(aggr)
        unknown = [name for name in self.aggr if name not in PATCH_REDUCTIONS]
        if not self.aggr or unknown:
            raise ValueError(self._error(
                f"'aggr' must be one or more of {sorted(PATCH_REDUCTIONS)}, got {aggr!r}"))
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.patch_size = patch_size
        self.hidden_channels = hidden_channels
        self.lin = torch.nn.Linear(in_channels, hidden_channels)
        self.pad_projector = torch.nn.Linear(patch_size * hidden_channels, hidden_channels)
        self.pe = PositionalEncoding(hidden_channels)
        self.blocks = torch.nn.ModuleList([
            MultiheadAttentionBlock(hidden_channels, heads, layer_norm=True, dropout=dropout)
            for _ in range(num_transformer_blocks)])
        self.fc = torch.nn.Linear(hidden_channels * len(self.aggr), out_channels)
        self.reset_parameters()

    def get_out_channels(self, in_channels: int) -> int:
        """``out_channels``."""
        return self.out_channels

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2,
                max_num_elements: Optional[int] = None) -> Tensor:
        check_two_dimensional(self, x, dim)
        if max_num_elements is not None and index is not None and has_data(index) \
                and index.numel() > 0 and int(index.bincount().max()) > max_num_elements:
            raise ValueError(self._error(
                f"a group has {int(index.bincount().max())} elements, more than "
                f"max_num_elements={max_num_elements}"))
        if max_num_elements is not None and index is None and ptr is not None \
                and has_data(ptr) and ptr.numel() > 1 \
                and int((ptr[1:] - ptr[:-1]).max()) > max_num_elements:
            raise ValueError(self._error(
                f"a group has {int((ptr[1:] - ptr[:-1]).max())} elements, more than "
                f"max_num_elements={max_num_elements}"))
        patches = dense_patches(self.lin(x), index, ptr, dim_size, self.patch_size,
                                max_num_elements)
        h = self.pad_projector(patches)
        position = torch.arange(h.size(1), device=h.device, dtype=h.dtype)
        h = h + self.pe(position)
        for block in self.blocks:
            h = block(h, h)
        outs = [PATCH_REDUCTIONS[name](h) for name in self.aggr]
        out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)
        return self.fc(out)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, patch_size={self.patch_size}"
