"""``GravNetConv``: the GravNet operator (Qasim et al., EPJ C 2019), message passing over
a k-NN graph built in a learned space."""
from __future__ import annotations

from typing import Tuple, Union

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.conv.edge_conv import dynamic_knn_graph
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear
from gfx.utils import is_tracing

# k-NN search is graph construction: one node in captured graphs (see edge_conv).
torch.fx.wrap("dynamic_knn_graph")


class GravNetConv(MessagePassing):
    """The GravNet operator of "Learning Representations of Irregular Particle-detector
    Geometry with Distance-weighted Graph Networks".

    .. math::
        \\mathbf{s}_i = \\mathbf{W}_s \\mathbf{x}_i + \\mathbf{b}_s, \\quad
        \\mathbf{h}_j = \\mathbf{W}_h \\mathbf{x}_j + \\mathbf{b}_h, \\quad
        w_{j,i} = \\exp \\left( -10 \\, \\lVert \\mathbf{s}_j - \\mathbf{s}_i
        \\rVert^2 \\right)

    .. math::
        \\mathbf{x}'_i = \\mathbf{W}_1 \\mathbf{x}_i + \\mathbf{W}_2 \\left[
        \\operatorname{mean}_{j \\in \\mathcal{N}_k(i)} w_{j,i} \\mathbf{h}_j \\, \\Vert \\,
        \\max_{j \\in \\mathcal{N}_k(i)} w_{j,i} \\mathbf{h}_j \\right] + \\mathbf{b}_2

    with :math:`\\mathcal{N}_k(i)` the ``k`` nearest points of :math:`\\mathbf{s}_i` among
    the :math:`\\mathbf{s}_j` (same example of ``batch``; ``i`` itself included), found by
    :func:`gfx.nn.pool.knn` (exact).  :math:`\\mathbf{W}_s` is ``lin_s``,
    :math:`\\mathbf{W}_h` ``lin_h``, :math:`\\mathbf{W}_1` ``lin_out1`` (no bias) and
    :math:`\\mathbf{W}_2` ``lin_out2``.  Gradients reach ``lin_s`` through the weights
    :math:`w_{j,i}`, not through the neighbour choice.  In a captured model the k-NN
    search stays one call and the message passing around it lowers.

    Args:
        in_channels (int): input features.
        out_channels (int): output features.
        space_dimensions (int): dimensionality :math:`S` of the learned space.
        propagate_dimensions (int): features :math:`F_{\\mathrm{LR}}` propagated.
        k (int): number of nearest neighbours.
        num_workers (int, optional): accepted for compatibility. (default: ``1``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (the aggregation is fixed
            to ``["mean", "max"]``).

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in], [N_dst, in])``, ``batch`` ``[N]`` or a
    pair -> ``[N_dst, out]``.
    """

    def __init__(self, in_channels: int, out_channels: int, space_dimensions: int,
                 propagate_dimensions: int, k: int, num_workers: int = 1,
                 **kwargs):
        if "aggr" in kwargs:
            raise ValueError("GravNetConv: the aggregation is fixed to ['mean', 'max']; "
                             "do not pass 'aggr'")
        if kwargs.get("flow", "source_to_target") != "source_to_target":
            raise ValueError("GravNetConv: only flow='source_to_target' is supported")
        super().__init__(aggr=["mean", "max"], **kwargs)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"GravNetConv: 'k' must be a positive int, got {k!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.k = k
        self.num_workers = num_workers
        self.lin_s = Linear(in_channels, space_dimensions)
        self.lin_h = Linear(in_channels, propagate_dimensions)
        self.lin_out1 = Linear(in_channels, out_channels, bias=False)
        self.lin_out2 = Linear(2 * propagate_dimensions, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin_s.reset_parameters()
        self.lin_h.reset_parameters()
        self.lin_out1.reset_parameters()
        self.lin_out2.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]],
                batch: Union[None, Tensor, Tuple[Tensor, Tensor]] = None) -> Tensor:
        bipartite = not isinstance(x, Tensor)
        pair = tuple(x) if bipartite else (x, x)
        if pair[0] is None or pair[1] is None:
            raise ValueError("GravNetConv: 'x' needs source and target features")
        if not is_tracing(*pair) and (pair[0].dim() != 2 or pair[1].dim() != 2):
            raise ValueError(f"GravNetConv: 'x' must be [num_nodes, C], got shape "
                             f"{list(pair[0].shape)}")
        check_node_channels("GravNetConv", pair, (self.in_channels, self.in_channels))
        b = (batch, batch) if batch is None or isinstance(batch, Tensor) else tuple(batch)
        h_src = self.lin_h(pair[0])
        s_src = self.lin_s(pair[0])
        s_dst = self.lin_s(pair[1]) if bipartite else s_src
        edge_index = dynamic_knn_graph(s_src, s_dst, self.k, b[0], b[1])
        weight = torch.exp(-10.0 * (s_src[edge_index[0]] - s_dst[edge_index[1]])
                           .pow(2).sum(-1))
        out = self.propagate(edge_index, x=(h_src, None), edge_weight=weight,
                             size=(s_src.shape[0], s_dst.shape[0]))
        return self.lin_out1(pair[1]) + self.lin_out2(out)

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return x_j * edge_weight.unsqueeze(1)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"k={self.k})")


__all__ = ["GravNetConv"]
