"""``NeuralFingerprint``: differentiable molecular fingerprints (Duvenaud et al., 2015)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.nn.conv.mf_conv import MFConv
from gfx.nn.dense.linear import Linear
from gfx.nn.pool.glob import global_add_pool


class NeuralFingerprint(torch.nn.Module):
    """The Neural Fingerprint model: a learnable, smooth version of circular fingerprints.

    Each layer :math:`\\ell` updates the atoms with a degree-dependent convolution
    (:class:`~gfx.nn.MFConv`) and a sigmoid, then writes a softmax "bit" vector of every
    atom into the fingerprint of its molecule:

    .. math::
        \\mathbf{H}^{(\\ell)} = \\sigma\\left(\\mathrm{MFConv}_\\ell(\\mathbf{H}^{(\\ell-1)},
        \\mathbf{A})\\right), \\qquad
        \\mathbf{f}_g = \\sum_{\\ell=1}^{L} \\sum_{i \\in g} \\mathrm{softmax}\\left(
        \\mathbf{W}_\\ell \\mathbf{h}^{(\\ell)}_i\\right)

    Args:
        in_channels (int): atom features.
        hidden_channels (int): hidden atom features.
        out_channels (int): fingerprint length.
        num_layers (int): number of layers (at least 1).
        **kwargs: arguments of :class:`~gfx.nn.MFConv` (``max_degree``, ``bias``, ...).
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int, **kwargs):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"NeuralFingerprint: 'num_layers' must be at least 1, got "
                             f"{num_layers}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.convs = torch.nn.ModuleList([
            MFConv(in_channels if i == 0 else hidden_channels, hidden_channels, **kwargs)
            for i in range(num_layers)])
        self.lins = torch.nn.ModuleList([Linear(hidden_channels, out_channels, bias=False)
                                         for _ in range(num_layers)])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv, lin in zip(self.convs, self.lins):
            conv.reset_parameters()
            lin.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, batch: Optional[Tensor] = None,
                batch_size: Optional[int] = None) -> Tensor:
        """Fingerprints ``[num_graphs, out_channels]`` (one row when ``batch`` is
        ``None``) of atoms ``x`` ``[N, in_channels]`` with bonds ``edge_index``."""
        out = None
        for conv, lin in zip(self.convs, self.lins):
            x = conv(x, edge_index).sigmoid()
            bits = global_add_pool(lin(x).softmax(dim=-1), batch, batch_size)
            out = bits if out is None else out + bits
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"num_layers={self.num_layers})")


__all__ = ["NeuralFingerprint"]
