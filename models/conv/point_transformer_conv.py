"""``PointTransformerConv``: the vector self-attention layer of Point Transformer
(Zhao et al., ICCV 2021)."""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.conv.point_conv import Pair, point_inputs
from gfx.nn.dense.linear import Linear
from gfx.utils import softmax


class PointTransformerConv(MessagePassing):
    """The Point Transformer layer of "Point Transformer".

    .. math::
        \\mathbf{x}'_i = \\sum_{j \\in \\mathcal{N}(i) \\cup \\{ i \\}} \\alpha_{i,j}
        \\odot \\left( \\mathbf{W}_3 \\mathbf{x}_j + \\delta_{i,j} \\right),
        \\qquad
        \\alpha_{i,j} = \\mathrm{softmax}_j \\left( \\gamma_{\\mathbf{\\Theta}}
        (\\mathbf{W}_1 \\mathbf{x}_i - \\mathbf{W}_2 \\mathbf{x}_j + \\delta_{i,j})
        \\right),
        \\qquad
        \\delta_{i,j} = h_{\\mathbf{\\Theta}}(\\mathbf{p}_i - \\mathbf{p}_j)

    The softmax runs over the incoming edges of :math:`i`, per channel (vector attention).
    :math:`h_{\\mathbf{\\Theta}}` is ``pos_nn`` (a ``Linear(3, out_channels)`` by default),
    :math:`\\gamma_{\\mathbf{\\Theta}}` is ``attn_nn`` (identity by default),
    :math:`\\mathbf{W}_1` is ``lin_dst``, :math:`\\mathbf{W}_2` ``lin_src`` and
    :math:`\\mathbf{W}_3` ``lin``.  With ``add_self_loops`` the graph's loops are
    replaced by one loop per node; a node without incoming edges gets 0.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes.
        out_channels (int): output features.
        pos_nn (torch.nn.Module, optional): :math:`h_{\\mathbf{\\Theta}}`, mapping
            ``[E, D]`` offsets to ``[E, out_channels]``; ``None`` means
            ``Linear(3, out_channels)`` (3-D positions). (default: ``None``)
        attn_nn (torch.nn.Module, optional): :math:`\\gamma_{\\mathbf{\\Theta}}`, mapping
            ``[E, out_channels]`` to ``[E, out_channels]``. (default: ``None``)
        add_self_loops (bool, optional): replace self-loops by one per node.
            (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (aggregation: ``"add"``).

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``pos``
    ``[N, D]`` or a pair, ``edge_index`` ``[2, E]`` -> ``[N_dst, out]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 pos_nn: Optional[Callable] = None, attn_nn: Optional[Callable] = None,
                 add_self_loops: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        pair = (in_channels, in_channels) if isinstance(in_channels, int) else tuple(in_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.add_self_loops = add_self_loops
        self._in_pair = pair
        self.pos_nn = pos_nn if pos_nn is not None else Linear(3, out_channels)
        self.attn_nn = attn_nn
        self.lin = Linear(pair[0], out_channels, bias=False)
        self.lin_src = Linear(pair[0], out_channels, bias=False)
        self.lin_dst = Linear(pair[1], out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.reset(self.pos_nn)
        inits.reset(self.attn_nn)
        self.lin.reset_parameters()
        self.lin_src.reset_parameters()
        self.lin_dst.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], pos: Pair,
                edge_index: Tensor) -> Tensor:
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        if pair[0] is None or pair[1] is None:
            raise ValueError("PointTransformerConv: 'x' needs source and target features "
                             "(both enter the attention)")
        check_node_channels("PointTransformerConv", pair, self._in_pair)
        _, pos, edge_index, _ = point_inputs("PointTransformerConv", pair[0], pos,
                                             edge_index, self.add_self_loops, self.flow)
        alpha = (self.lin_src(pair[0]), self.lin_dst(pair[1]))
        alpha = self.edge_updater(edge_index, alpha=alpha, pos=pos)
        return self.propagate(edge_index, x=(self.lin(pair[0]), pair[1]), pos=pos,
                              alpha=alpha)

    def edge_update(self, alpha_i: Tensor, alpha_j: Tensor, pos_i: Tensor, pos_j: Tensor,
                    index: Tensor, size_i: Optional[int]) -> Tensor:
        alpha = alpha_i - alpha_j + self.pos_nn(pos_i - pos_j)
        if self.attn_nn is not None:
            alpha = self.attn_nn(alpha)
        return softmax(alpha, index, num_nodes=size_i)

    def message(self, x_j: Tensor, pos_i: Tensor, pos_j: Tensor, alpha: Tensor) -> Tensor:
        return alpha * (x_j + self.pos_nn(pos_i - pos_j))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


__all__ = ["PointTransformerConv"]
