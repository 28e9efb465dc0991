"""``SimpleConv``: parameter-free propagation with an optional root combination."""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.structure import memo
from gfx.utils import is_tracing
from gfx.utils.loops import add_self_loops
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

COMBINE_ROOT = (None, "sum", "cat", "self_loop")


def simple_self_loops(edge_index: Tensor, edge_weight: Optional[Tensor], num_nodes: int
                      ) -> Tuple[Tensor, Optional[Tensor]]:
    """Append one self-loop of weight 1 per node; existing loops are kept.

    Without weights the result is computed once per ``edge_index`` (structure cache).
    """
    if edge_weight is not None:
        return add_self_loops(edge_index, edge_weight, 1.0, num_nodes)
    return memo(edge_index, "simple_self_loops", (num_nodes,),
                lambda: add_self_loops(edge_index, None, 1.0, num_nodes))


# Self-loop insertion depends only on the connectivity: one node in captured graphs.
torch.fx.wrap("simple_self_loops")


class SimpleConv(MessagePassing):
    """A propagation without learnable parameters.

    .. math::
        \\mathbf{x}'_i = \\bigoplus_{j \\in \\mathcal{N}(i)} e_{j,i} \\cdot \\mathbf{x}_j

    where :math:`\\bigoplus` is the aggregation and :math:`e_{j,i}` the optional edge
    weight (default 1).  ``combine_root`` adds the target node itself:
    ``"sum"`` gives :math:`\\mathbf{x}_i + \\mathbf{x}'_i`, ``"cat"`` gives
    :math:`\\mathbf{x}_i \\, \\Vert \\, \\mathbf{x}'_i`, and ``"self_loop"`` appends one
    loop :math:`(i, i)` of weight 1 per node before aggregating (existing loops stay,
    so the neighbourhood is :math:`\\mathcal{N}(i) \\cup \\{i\\}` as a multiset).

    A torch.sparse ``adj_t`` may replace ``edge_index``; its values are the edge weights.

    Args:
        aggr (str or [str] or Aggregation, optional): the aggregation (``"sum"``,
            ``"mean"``, ``"max"``, ``"min"``, ``"mul"``, any resolvable name, a list, or
            an :class:`Aggregation`). (default: ``"sum"``)
        combine_root (str, optional): ``None``, ``"sum"``, ``"cat"`` or ``"self_loop"``.
            ``"self_loop"`` needs a homogeneous (non-pair) input. (default: ``None``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, F]`` or ``([N_src, F], [N_dst, F])``, ``edge_index`` ``[2, E]``,
    ``edge_weight`` ``[E]`` -> ``[N_dst, F]`` (``[N_dst, 2F]`` for ``"cat"``; a
    multi-aggregation widens the aggregated part).
    """

    def __init__(self, aggr: Union[str, List[str], torch.nn.Module, None] = "sum",
                 combine_root: Optional[str] = None, **kwargs):
        if combine_root not in COMBINE_ROOT:
            raise ValueError(f"SimpleConv: unknown combine_root {combine_root!r}; expected "
                             f"one of {COMBINE_ROOT}")
        super().__init__(aggr=aggr, **kwargs)
        self.combine_root = combine_root

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                edge_weight: Optional[Tensor] = None,
                size: Optional[Tuple[int, int]] = None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if isinstance(x, Tensor):
            x = (x, x)
        elif self.combine_root == "self_loop":
            raise ValueError("SimpleConv: combine_root='self_loop' needs one node set; got a "
                             "(source, target) pair (bipartite input)")
        if edge_weight is not None and not is_tracing(edge_weight) and edge_weight.dim() != 1:
            raise ValueError(f"SimpleConv: 'edge_weight' must be 1-D [num_edges], got shape "
                             f"{list(edge_weight.shape)}")
        if self.combine_root == "self_loop":
            looped = simple_self_loops(edge_index, edge_weight, x[0].shape[self.node_dim])
            # Unpack only what exists: a traced call returns one value for the pair.
            edge_index = looped[0]
            edge_weight = None if edge_weight is None else looped[1]
        out = self.propagate(edge_index, x=x, edge_weight=edge_weight, size=size)
        x_dst = x[1]
        if x_dst is not None and self.combine_root == "sum":
            out = out + x_dst
        elif x_dst is not None and self.combine_root == "cat":
            out = torch.cat([x_dst, out], dim=-1)
        return out

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        if edge_weight is None:
            return x_j
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


__all__ = ["SimpleConv"]
