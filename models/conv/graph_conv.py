"""``GraphConv``: the higher-order GNN operator of Morris et al. (AAAI 2019)."""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.dense.linear import Linear
from gfx.utils import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index


def check_node_channels(layer: str, x: Tuple[Optional[Tensor], Optional[Tensor]],
                        in_channels: Tuple[int, int], arg: str = "x") -> None:
    """Refuse node features whose width differs from ``in_channels`` (eager only).

    ``x`` is a ``(source, target)`` pair; ``None`` entries and lazy (``-1``) sizes pass.
    """
    for side, value, expected in zip(("source", "target"), x, in_channels):
        if value is None or expected <= 0 or is_tracing(value):
            continue
        if value.shape[-1] != expected:
            raise ValueError(f"{layer}: the {side} node features '{arg}' have "
                             f"{value.shape[-1]} channels, but in_channels={expected} "
                             f"(shape {list(value.shape)})")


class GraphConv(MessagePassing):
    """The graph neural network operator of "Weisfeiler and Leman Go Neural:
    Higher-order Graph Neural Networks".

    .. math::
        \\mathbf{x}'_i = \\mathbf{\\Theta}_1 \\mathbf{x}_i + \\mathbf{\\Theta}_2
        \\bigoplus_{j \\in \\mathcal{N}(i)} e_{j,i} \\cdot \\mathbf{x}_j

    with :math:`e_{j,i}` the weight of the edge from ``j`` to ``i`` (default 1) and
    :math:`\\bigoplus` the aggregation (a sum by default).  :math:`\\mathbf{\\Theta}_2`
    (``lin_rel``, with the bias) is applied after aggregating, :math:`\\mathbf{\\Theta}_1`
    (``lin_root``) to the target features.  A torch.sparse ``adj_t`` may replace
    ``edge_index``; its values are the edge weights.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes
            for bipartite graphs; ``-1`` for lazy.
        out_channels (int): output features per node.
        aggr (str or [str] or Aggregation, optional): the aggregation. (default: ``"add"``)
        bias (bool, optional): learn an additive bias (in ``lin_rel``). (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]``, ``edge_weight`` ``[E]`` -> ``[N_dst, out_channels]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 aggr: Union[str, List[str], object, None] = "add", bias: bool = True,
                 **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        self.in_channels = in_channels  # as given (str() and attribute as the reference)
        if isinstance(in_channels, int):
            in_channels = (in_channels, in_channels)
        self._in_pair = in_channels
        self.out_channels = out_channels
        rel_channels = in_channels[0]
        if in_channels[0] > 0 and hasattr(self.aggr_module, "get_out_channels"):
            rel_channels = self.aggr_module.get_out_channels(in_channels[0])
        self.lin_rel = Linear(rel_channels, out_channels, bias=bias)
        self.lin_root = Linear(in_channels[1], out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin_rel.reset_parameters()
        self.lin_root.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                edge_weight: Optional[Tensor] = None,
                size: Optional[Tuple[int, int]] = None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            if size is None:  # adj_t is [num_targets, num_sources]
                size = (edge_index.size(1), edge_index.size(0))
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if isinstance(x, Tensor):
            x = (x, x)
        check_node_channels("GraphConv", x, self._in_pair)
        if edge_weight is not None and not is_tracing(edge_weight) and edge_weight.dim() != 1:
            raise ValueError(f"GraphConv: 'edge_weight' must be 1-D [num_edges], got shape "
                             f"{list(edge_weight.shape)}")
        out = self.lin_rel(self.propagate(edge_index, x=x, edge_weight=edge_weight, size=size))
        if x[1] is not None:
            out = out + self.lin_root(x[1])
        return out

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        if edge_weight is None:
            return x_j
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


__all__ = ["GraphConv"]
