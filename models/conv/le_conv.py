"""``LEConv``: the local extremum operator of ASAP (Ranjan, Sanyal and Talukdar, AAAI 2020)."""
from __future__ import annotations

from typing import Optional, Tuple, Union

from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.dense.linear import Linear
from gfx.utils import is_torch_sparse_tensor, is_tracing, adj_t_to_edge_index


class LEConv(MessagePassing):
    """The local extremum operator of "ASAP: Adaptive Structure Aware Pooling for Learning
    Hierarchical Graph Representations", scoring nodes against their neighbours.

    .. math::
        \\mathbf{x}'_i = \\mathbf{\\Theta}_3 \\mathbf{x}_i + \\mathbf{b}_3 +
        \\sum_{j \\in \\mathcal{N}(i)} e_{j,i} \\left(\\mathbf{\\Theta}_1 \\mathbf{x}_j
        + \\mathbf{b}_1 - \\mathbf{\\Theta}_2 \\mathbf{x}_i\\right)

    with :math:`\\mathbf{\\Theta}_k, \\mathbf{b}_k` the weight and bias of ``lin<k>``
    (``lin2`` has no bias) and edge weights :math:`e_{j,i}` defaulting to 1.  This is the
    paper's :math:`\\mathbf{x}_i \\mathbf{\\Theta}_1 + \\sum_j e_{j,i}(\\mathbf{\\Theta}_2
    \\mathbf{x}_i - \\mathbf{\\Theta}_3 \\mathbf{x}_j)` with the difference's sign folded
    into the learned weights, written with the parameter names of the reference library
    so that checkpoints load unchanged.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes
            for bipartite graphs; ``-1`` for lazy.
        out_channels (int): output features per node.
        bias (bool, optional): learn the biases of ``lin1`` and ``lin3``. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]`` or a sparse ``adj_t``, ``edge_weight`` ``[E]`` -> ``[N_dst, out_channels]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if isinstance(in_channels, int):
            in_channels = (in_channels, in_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.lin1 = Linear(in_channels[0], out_channels, bias=bias)
        self.lin2 = Linear(in_channels[1], out_channels, bias=False)
        self.lin3 = Linear(in_channels[1], out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin1.reset_parameters()
        self.lin2.reset_parameters()
        self.lin3.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        if is_torch_sparse_tensor(edge_index):
            size = (edge_index.shape[1], edge_index.shape[0])
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        else:
            size = None
        if not is_tracing(x[0]):
            for side, value, expected in (("source", x[0], self.in_channels[0]),
                                          ("target", x[1], self.in_channels[1])):
                if expected > 0 and value.shape[-1] != expected:
                    raise ValueError(f"LEConv: {side} features 'x' must have {expected} "
                                     f"features in their last dimension, got shape "
                                     f"{list(value.shape)}")
            if edge_weight is not None and edge_weight.shape != (edge_index.shape[-1],):
                raise ValueError(f"LEConv: 'edge_weight' must have shape [num_edges="
                                 f"{edge_index.shape[-1]}], got {list(edge_weight.shape)}")
        a = self.lin1(x[0])
        b = self.lin2(x[1])
        out = self.propagate(edge_index, a=a, b=b, edge_weight=edge_weight, size=size)
        return out + self.lin3(x[1])

    def message(self, a_j: Tensor, b_i: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        out = a_j - b_i
        return out if edge_weight is None else edge_weight.view(-1, 1) * out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels[0]}, {self.out_channels})"


__all__ = ["LEConv"]
