"""``DirGNNConv``: run a convolution along and against the edges (Rossi et al., LoG 2023)."""
from __future__ import annotations

import copy

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.utils import is_tracing


class DirGNNConv(torch.nn.Module):
    """A wrapper that makes any convolution direction-aware, from "Edge Directionality
    Improves Learning on Heterophilic Graphs".

    .. math::
        \\mathbf{x}'_i = \\alpha \\, \\Phi_{\\mathrm{out}}(\\mathbf{X},
        \\mathcal{N}_{\\mathrm{out}}(i)) + (1 - \\alpha) \\, \\Phi_{\\mathrm{in}}(\\mathbf{X},
        \\mathcal{N}_{\\mathrm{in}}(i)) + \\mathbf{W} \\mathbf{x}_i + \\mathbf{b}

    :math:`\\Phi_{\\mathrm{in}}` (``conv_in``) aggregates over the edges as given (the
    in-neighbours of ``i``), :math:`\\Phi_{\\mathrm{out}}` (``conv_out``) over the reversed
    edges (the out-neighbours).  Both are independent copies of ``conv``, re-initialised,
    with their own self-loops (``add_self_loops``) and root weights (``root_weight``)
    switched off where they have such an option: the root term is the wrapper's
    :math:`\\mathbf{W}` (``lin``, a :class:`torch.nn.Linear`), present when
    ``root_weight=True``.  ``conv`` itself is left unchanged.

    Args:
        conv (MessagePassing): the convolution to wrap; it must expose ``in_channels``
            and ``out_channels`` when ``root_weight=True``.
        alpha (float, optional): weight :math:`\\alpha` of the out-neighbourhood.
            (default: ``0.5``)
        root_weight (bool, optional): add the root term ``lin(x)``. (default: ``True``)

    Shapes: ``x`` ``[N, in]``, ``edge_index`` ``[2, E]`` -> ``[N, out]``.
    """

    def __init__(self, conv: MessagePassing, alpha: float = 0.5, root_weight: bool = True):
        super().__init__()
        if not isinstance(conv, torch.nn.Module):
            raise TypeError(f"DirGNNConv: 'conv' must be a message passing module, got "
                            f"{type(conv).__name__}")
        self.alpha = alpha
        self.root_weight = root_weight
        self.conv_in = copy.deepcopy(conv)
        self.conv_out = copy.deepcopy(conv)
        for inner in (self.conv_in, self.conv_out):
            if hasattr(inner, "add_self_loops"):
                inner.add_self_loops = False
            if hasattr(inner, "root_weight"):
                inner.root_weight = False
        if root_weight:
            in_channels = getattr(conv, "in_channels", None)
            if isinstance(in_channels, (tuple, list)):  # (source, target): x is both
                in_channels = in_channels[-1]
            out_channels = getattr(conv, "out_channels", None)
            if not isinstance(in_channels, int) or not isinstance(out_channels, int):
                raise ValueError(f"DirGNNConv: root_weight=True needs conv.in_channels and "
                                 f"conv.out_channels to be ints, got {in_channels!r} and "
                                 f"{out_channels!r}")
            self.lin = torch.nn.Linear(in_channels, out_channels)
        else:
            self.lin = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.conv_in.reset_parameters()
        self.conv_out.reset_parameters()
        if self.lin is not None:
            self.lin.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if not is_tracing(edge_index) and (
                not isinstance(edge_index, Tensor) or edge_index.dim() != 2
                or edge_index.shape[0] != 2):
            raise ValueError("DirGNNConv: 'edge_index' must be a [2, num_edges] tensor, got "
                             f"{getattr(edge_index, 'shape', type(edge_index).__name__)}")
        x_in = self.conv_in(x, edge_index)
        x_out = self.conv_out(x, edge_index.flip([0]))
        out = self.alpha * x_out + (1 - self.alpha) * x_in
        if self.lin is not None:
            out = out + self.lin(x)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.conv_in}, alpha={self.alpha})"


__all__ = ["DirGNNConv"]
