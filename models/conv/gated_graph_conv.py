"""``GatedGraphConv``: gated graph sequence networks of Li et al. (ICLR 2016)."""
from __future__ import annotations

from typing import List, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.utils import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index


class GatedGraphConv(MessagePassing):
    """The gated graph convolution of "Gated Graph Sequence Neural Networks".

    .. math::
        \\mathbf{h}_i^{(0)} = \\mathbf{x}_i \\, \\Vert \\, \\mathbf{0}, \\qquad
        \\mathbf{m}_i^{(l+1)} = \\bigoplus_{j \\in \\mathcal{N}(i)} e_{j,i} \\cdot
        \\mathbf{h}_j^{(l)} \\mathbf{\\Theta}^{(l)}, \\qquad
        \\mathbf{h}_i^{(l+1)} = \\mathrm{GRU}(\\mathbf{m}_i^{(l+1)}, \\mathbf{h}_i^{(l)})

    for :math:`l = 0, \\dots, L - 1`, returning :math:`\\mathbf{h}^{(L)}`.  The input is
    zero-padded to ``out_channels`` (so it may not be wider), :math:`e_{j,i}` is the
    optional edge weight (default 1), :math:`\\bigoplus` the aggregation (a sum by
    default), :math:`\\mathbf{\\Theta}^{(l)}` = ``weight[l]`` (applied on the right) and
    the GRU is one :class:`torch.nn.GRUCell` (``rnn``) shared by all steps.  A
    torch.sparse ``adj_t`` may replace ``edge_index``; its values are the edge weights.

    Args:
        out_channels (int): width of the hidden state (and of the output).
        num_layers (int): the number of steps :math:`L`.
        aggr (str or [str] or Aggregation, optional): the aggregation. (default: ``"add"``)
        bias (bool, optional): biases in the GRU cell. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, F]`` with ``F <= out_channels``, ``edge_index`` ``[2, E]``,
    ``edge_weight`` ``[E]`` -> ``[N, out_channels]``.
    """

    def __init__(self, out_channels: int, num_layers: int,
                 aggr: Union[str, List[str], object, None] = "add", bias: bool = True,
                 **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.weight = Parameter(torch.empty(num_layers, out_channels, out_channels))
        self.rnn = torch.nn.GRUCell(out_channels, out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.uniform(self.out_channels, self.weight)
        self.rnn.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if not isinstance(x, Tensor):
            raise ValueError("GatedGraphConv: 'x' must be one node feature tensor; "
                             "bipartite (source, target) pairs are not supported")
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if not is_tracing(x) and x.shape[-1] > self.out_channels:
            raise ValueError(f"GatedGraphConv: 'x' has {x.shape[-1]} channels, more than "
                             f"out_channels={self.out_channels} (inputs are zero-padded to "
                             f"out_channels, never truncated)")
        if edge_weight is not None and not is_tracing(edge_weight) and edge_weight.dim() != 1:
            raise ValueError(f"GatedGraphConv: 'edge_weight' must be 1-D [num_edges], got "
                             f"shape {list(edge_weight.shape)}")
        h = F.pad(x, (0, self.out_channels - x.shape[-1]))
        for step in range(self.num_layers):
            m = self.propagate(edge_index, x=torch.matmul(h, self.weight[step]),
                               edge_weight=edge_weight)
            h = self.rnn(m, h)
        return h

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        if edge_weight is None:
            return x_j
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.out_channels}, num_layers={self.num_layers})"


__all__ = ["GatedGraphConv"]
