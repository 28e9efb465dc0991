"""``MixHopConv``: mixing neighbourhood powers, after Abu-El-Haija et al. (ICML 2019)."""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import Tensor
from torch.nn import Identity, ModuleList, Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.nn.dense.linear import Linear
from gfx.ops._checks import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

# Normalisation is graph structure: one call in captured graphs (see gcn_conv).
torch.fx.wrap("gcn_norm")


class MixHopConv(MessagePassing):
    """The Mix-Hop graph convolutional operator of "MixHop: Higher-Order Graph
    Convolutional Architectures via Sparsified Neighborhood Mixing".

    .. math::
        \\mathbf{X}^{\\prime} = \\Big\\Vert_{p \\in P} \\left( \\hat{\\mathbf{D}}^{-1/2}
        \\hat{\\mathbf{A}} \\hat{\\mathbf{D}}^{-1/2} \\right)^p \\mathbf{X}
        \\mathbf{\\Theta}_p + \\mathbf{b}

    with :math:`\\hat{\\mathbf{A}} = \\mathbf{A} + \\mathbf{I}` (optionally weighted by
    ``edge_weight``; see :func:`gfx.nn.conv.gcn_norm`), :math:`P` the list ``powers``
    and one bias-free :math:`\\mathbf{\\Theta}_p` (``lins[p]``) per listed power.  The
    input is propagated :math:`\\max(P)` times; ``lins`` holds an identity placeholder at
    the powers not listed, so checkpoint keys are ``lins.<p>.weight``.

    Args:
        in_channels (int): input features per node, or ``-1`` (lazy).
        out_channels (int): output features per power.
        powers (list of int, optional): the powers :math:`P`, each ``>= 0``; ``None``
            means ``[0, 1, 2]``. (default: ``None``)
        add_self_loops (bool, optional): add self-loops before normalising.
            (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``).

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a torch.sparse
    ``adj_t``, ``edge_weight`` ``[E]`` -> ``[N, len(powers) * out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 powers: Optional[List[int]] = None, add_self_loops: bool = True,
                 bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        powers = [0, 1, 2] if powers is None else list(powers)
        if not powers or any(not isinstance(p, int) or p < 0 for p in powers):
            raise ValueError(f"MixHopConv: 'powers' must be a non-empty list of ints >= 0, "
                             f"got {powers!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.powers = powers
        self.add_self_loops = add_self_loops
        self.lins = ModuleList([
            Linear(in_channels, out_channels, bias=False) if p in powers else Identity()
            for p in range(max(powers) + 1)])
        self.bias = Parameter(torch.empty(len(powers) * out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in self.lins:
            if hasattr(lin, "reset_parameters"):
                lin.reset_parameters()
        inits.zeros(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if edge_weight is not None and not is_tracing(edge_weight, edge_index) and (
                edge_weight.dim() != 1 or edge_weight.shape[0] != edge_index.shape[1]):
            raise ValueError(f"MixHopConv: 'edge_weight' must have shape "
                             f"[{edge_index.shape[1]}], got {list(edge_weight.shape)}")
        edge_index, edge_weight = gcn_norm(edge_index, edge_weight, x.shape[self.node_dim],
                                           False, self.add_self_loops, self.flow, x.dtype)
        outs = [self.lins[0](x)]
        for lin in self.lins[1:]:
            x = self.propagate(edge_index, x=x, edge_weight=edge_weight)
            outs.append(lin(x))
        out = torch.cat([outs[p] for p in self.powers], dim=-1)
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"powers={self.powers})")


__all__ = ["MixHopConv"]
