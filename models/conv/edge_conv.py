"""``EdgeConv`` and ``DynamicEdgeConv``: the edge convolution of Dynamic Graph CNN (Wang et
al., 2019), on a given graph or on the k-NN graph of the features."""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gin_conv import nn_in_channels
from gfx.utils import is_tracing


class EdgeConv(MessagePassing):
    """The edge convolutional operator of "Dynamic Graph CNN for Learning on Point
    Clouds".

    .. math::
        \\mathbf{x}'_i = \\bigoplus_{j \\in \\mathcal{N}(i)} h_{\\mathbf{\\Theta}}
        (\\mathbf{x}_i \\, \\Vert \\, \\mathbf{x}_j - \\mathbf{x}_i)

    with :math:`h_{\\mathbf{\\Theta}}` a neural network applied per edge and
    :math:`\\bigoplus` the aggregation (a maximum by default; a node without incoming
    edges gets 0).  When the input width of ``nn`` can be read (see
    :func:`gfx.nn.conv.gin_conv.nn_in_channels`), node features whose doubled width
    differs are refused.

    Args:
        nn (torch.nn.Module): :math:`h_{\\mathbf{\\Theta}}`, mapping
            ``[E, 2 * in_channels]`` to ``[E, out_channels]``.
        aggr (str or [str] or Aggregation, optional): the aggregation. (default: ``"max"``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in], [N_dst, in])``, ``edge_index``
    ``[2, E]`` -> ``[N_dst, out]``.
    """

    def __init__(self, nn: Callable, aggr: str = "max", **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        self.nn = nn
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.reset(self.nn)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], edge_index: Tensor) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        if x[1] is None:
            raise ValueError("EdgeConv: target node features are required (messages use "
                             "x_i); got (x_src, None)")
        width = nn_in_channels(self.nn)
        if width is not None and not is_tracing(x[0]):
            for side, value in zip(("source", "target"), x):
                if 2 * value.shape[-1] != width:
                    raise ValueError(f"EdgeConv: the {side} node features 'x' have "
                                     f"{value.shape[-1]} channels, but nn takes {width} = "
                                     f"2 * in_channels inputs")
        return self.propagate(edge_index, x=x)

    def message(self, x_i: Tensor, x_j: Tensor) -> Tensor:
        return self.nn(torch.cat([x_i, x_j - x_i], dim=-1))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(nn={self.nn})"


def dynamic_knn_graph(x_src: Tensor, x_dst: Tensor, k: int, batch_src: Optional[Tensor],
                      batch_dst: Optional[Tensor]) -> Tensor:
    """``edge_index`` from each of the ``k`` nearest sources (same example) to each target.

    ``edge_index[0]`` indexes ``x_src`` and ``edge_index[1]`` ``x_dst``; a point is its
    own nearest neighbour when sources and targets are the same set.
    """
    from gfx.nn.pool.knn import knn  # imported here: pool layers import convolutions
    return knn(x_src.detach(), x_dst.detach(), k, batch_src, batch_dst).flip(0)


# k-NN search is graph construction: one node in captured graphs; lowering inlines the
# message passing around it.
torch.fx.wrap("dynamic_knn_graph")


class DynamicEdgeConv(MessagePassing):
    """The dynamic edge convolutional operator of "Dynamic Graph CNN for Learning on
    Point Clouds": :class:`EdgeConv` on the k-NN graph of the input features.

    .. math::
        \\mathbf{x}'_i = \\bigoplus_{j \\in \\mathcal{N}_k(i)} h_{\\mathbf{\\Theta}}
        (\\mathbf{x}_i \\, \\Vert \\, \\mathbf{x}_j - \\mathbf{x}_i)

    with :math:`\\mathcal{N}_k(i)` the ``k`` nearest points of ``i`` in feature space
    (Euclidean, within ``i``'s example of ``batch``; ``i`` itself included, being at
    distance 0) found by :func:`gfx.nn.pool.knn` (exact; ties go to the smaller index).
    In a captured model the k-NN search stays one call (:func:`dynamic_knn_graph`) and
    the message passing around it lowers like :class:`EdgeConv`'s; no gradient flows
    through the neighbour choice.

    Args:
        nn (torch.nn.Module): :math:`h_{\\mathbf{\\Theta}}`, mapping
            ``[E, 2 * in_channels]`` to ``[E, out_channels]``.
        k (int): number of nearest neighbours.
        aggr (str, optional): the aggregation (``"add"``, ``"mean"``, ``"max"``).
            (default: ``"max"``)
        num_workers (int, optional): accepted for compatibility. (default: ``1``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, C]`` or ``([N_src, C], [N_dst, C])``, ``batch`` ``[N]`` or a
    pair -> ``[N_dst, out]``.
    """

    def __init__(self, nn: Callable, k: int, aggr: str = "max", num_workers: int = 1,
                 **kwargs):
        if kwargs.get("flow", "source_to_target") != "source_to_target":
            raise ValueError("DynamicEdgeConv: only flow='source_to_target' is supported "
                             "(the k-NN graph points from neighbours to centres)")
        super().__init__(aggr=aggr, **kwargs)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"DynamicEdgeConv: 'k' must be a positive int, got {k!r}")
        self.nn = nn
        self.k = k
        self.num_workers = num_workers
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.reset(self.nn)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]],
                batch: Union[None, Tensor, Tuple[Tensor, Tensor]] = None) -> Tensor:
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        if pair[0] is None or pair[1] is None:
            raise ValueError("DynamicEdgeConv: 'x' needs source and target features")
        if not is_tracing(*pair) and (pair[0].dim() != 2 or pair[1].dim() != 2):
            raise ValueError(f"DynamicEdgeConv: 'x' must be [num_nodes, C] (static graphs "
                             f"are not supported), got shape {list(pair[0].shape)}")
        width = nn_in_channels(self.nn)
        if width is not None and not is_tracing(*pair):
            for side, value in zip(("source", "target"), pair):
                if 2 * value.shape[-1] != width:
                    raise ValueError(f"DynamicEdgeConv: the {side} node features 'x' have "
                                     f"{value.shape[-1]} channels, but nn takes {width} = "
                                     f"2 * in_channels inputs")
        b = (batch, batch) if batch is None or isinstance(batch, Tensor) else tuple(batch)
        edge_index = dynamic_knn_graph(pair[0], pair[1], self.k, b[0], b[1])
        return self.propagate(edge_index, x=pair, size=None)

    def message(self, x_i: Tensor, x_j: Tensor) -> Tensor:
        return self.nn(torch.cat([x_i, x_j - x_i], dim=-1))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(nn={self.nn}, k={self.k})"


__all__ = ["EdgeConv", "DynamicEdgeConv"]
