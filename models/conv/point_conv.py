"""``PointNetConv`` (legacy name ``PointConv``): the PointNet / PointNet++ set layer
(Qi et al., CVPR 2017 and NeurIPS 2017)."""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gat_conv import attention_self_loops
from gfx.utils import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

PairOpt = Union[Optional[Tensor], Tuple[Optional[Tensor], Optional[Tensor]]]
Pair = Union[Tensor, Tuple[Tensor, Tensor]]

# Loop replacement is graph structure: one call in captured graphs (see gat_conv).
torch.fx.wrap("attention_self_loops")


def point_inputs(layer: str, x: PairOpt, pos: Pair, edge_index: Tensor, loops: bool,
                 flow: str, extra: Tuple[Tuple[str, Pair], ...] = ()):
    """Shared input handling of the point layers: pairs, checks and loop replacement.

    Returns ``(x_pair, pos_pair, edge_index, extra_pairs)``; with ``loops`` every
    self-loop is replaced by one loop per node of the smaller node set.
    """
    if is_torch_sparse_tensor(edge_index):
        edge_index, _ = adj_t_to_edge_index(edge_index)
    x = (x, None) if not isinstance(x, (tuple, list)) else tuple(x)
    def as_pair(v):
        if isinstance(v, Tensor):
            return (v, v)
        return tuple(v) if isinstance(v, (tuple, list)) else (None, None)

    pos = as_pair(pos)
    pairs = [(name, as_pair(v)) for name, v in extra]
    for name, value in [("pos", pos)] + pairs:
        if len(value) != 2 or value[0] is None or value[1] is None:
            raise ValueError(f"{layer}: '{name}' must be a tensor or a (source, target) "
                             f"pair of tensors")
        if is_tracing(*value):
            continue
        if value[0].dim() != 2 or value[1].dim() != 2:
            raise ValueError(f"{layer}: '{name}' must be [num_nodes, D], got shapes "
                             f"{list(value[0].shape)} and {list(value[1].shape)}")
    if x[0] is not None and not is_tracing(x[0], pos[0]) and x[0].shape[0] != pos[0].shape[0]:
        raise ValueError(f"{layer}: 'x' has {x[0].shape[0]} rows but 'pos' has "
                         f"{pos[0].shape[0]} source points")
    if loops:
        sizes = (pos[0].shape[0], pos[1].shape[0])
        if flow != "source_to_target":
            sizes = (sizes[1], sizes[0])
        edge_index = attention_self_loops(edge_index, None, sizes)[0]
    return x, pos, edge_index, [v for _, v in pairs]


class PointNetConv(MessagePassing):
    """The PointNet set layer of "PointNet: Deep Learning on Point Sets for 3D
    Classification and Segmentation" and "PointNet++: Deep Hierarchical Feature Learning
    on Point Sets in a Metric Space".

    .. math::
        \\mathbf{x}'_i = \\gamma_{\\mathbf{\\Theta}} \\left( \\max_{j \\in
        \\mathcal{N}(i) \\cup \\{ i \\}} h_{\\mathbf{\\Theta}} ( \\mathbf{x}_j,
        \\mathbf{p}_j - \\mathbf{p}_i ) \\right)

    with :math:`h_{\\mathbf{\\Theta}}` (``local_nn``) and :math:`\\gamma_{\\mathbf{\\Theta}}`
    (``global_nn``) networks (identity when ``None``) and :math:`\\mathbf{p}` the
    positions.  The message is :math:`[\\mathbf{x}_j, \\mathbf{p}_j - \\mathbf{p}_i]`, or
    only the offset when ``x`` is ``None``.  With ``add_self_loops`` the graph's loops are
    replaced by one loop per node (of the smaller node set when bipartite); a node
    without incoming edges aggregates to 0.

    Args:
        local_nn (torch.nn.Module, optional): :math:`h_{\\mathbf{\\Theta}}`, mapping
            ``[E, in_channels + D]`` to ``[E, out_channels]``. (default: ``None``)
        global_nn (torch.nn.Module, optional): :math:`\\gamma_{\\mathbf{\\Theta}}`,
            applied to the aggregated node features. (default: ``None``)
        add_self_loops (bool, optional): replace self-loops by one per node.
            (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (aggregation: ``"max"``).

    Shapes: ``x`` ``[N, C]``, ``None`` or ``([N_src, C], None)``, ``pos`` ``[N, D]`` or
    ``([N_src, D], [N_dst, D])``, ``edge_index`` ``[2, E]`` -> ``[N_dst, out]``.
    """

    def __init__(self, local_nn: Optional[Callable] = None,
                 global_nn: Optional[Callable] = None, add_self_loops: bool = True,
                 **kwargs):
        kwargs.setdefault("aggr", "max")
        super().__init__(**kwargs)
        self.local_nn = local_nn
        self.global_nn = global_nn
        self.add_self_loops = add_self_loops
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.reset(self.local_nn)
        inits.reset(self.global_nn)

    def forward(self, x: PairOpt, pos: Pair, edge_index: Tensor) -> Tensor:
        x, pos, edge_index, _ = point_inputs(type(self).__name__, x, pos, edge_index,
                                             self.add_self_loops, self.flow)
        out = self.propagate(edge_index, x=x, pos=pos)
        if self.global_nn is not None:
            out = self.global_nn(out)
        return out

    def message(self, x_j: Optional[Tensor], pos_i: Tensor, pos_j: Tensor) -> Tensor:
        msg = pos_j - pos_i
        if x_j is not None:
            msg = torch.cat([x_j, msg], dim=1)
        if self.local_nn is not None:
            msg = self.local_nn(msg)
        return msg

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(local_nn={self.local_nn}, "
                f"global_nn={self.global_nn})")


PointConv = PointNetConv

__all__ = ["PointNetConv", "PointConv"]
