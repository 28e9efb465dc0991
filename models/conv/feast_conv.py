"""``FeaStConv``: the feature-steered convolution of FeaStNet (Verma et al., CVPR 2018)."""
from __future__ import annotations

from typing import Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn.conv.gat_conv import attention_self_loops
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

# Loop replacement is graph structure: one call in captured graphs (see gat_conv).
torch.fx.wrap("attention_self_loops")


class FeaStConv(MessagePassing):
    """The (translation-invariant) feature-steered convolutional operator of "FeaStNet:
    Feature-Steered Graph Convolutions for 3D Shape Analysis".

    .. math::
        \\mathbf{x}'_i = \\frac{1}{|\\mathcal{N}(i)|} \\sum_{j \\in \\mathcal{N}(i)}
        \\sum_{h=1}^H q_h(\\mathbf{x}_i, \\mathbf{x}_j) \\mathbf{W}_h \\mathbf{x}_j
        + \\mathbf{b},
        \\qquad
        q_h(\\mathbf{x}_i, \\mathbf{x}_j) = \\mathrm{softmax}_h \\left(
        \\mathbf{u}_h^{\\top} (\\mathbf{x}_j - \\mathbf{x}_i) + c_h \\right)

    The soft assignment :math:`q` is normalised over the :math:`H` heads of each edge
    (as in the paper and the reference; the seeds' :math:`\\mathrm{softmax}_j` names the
    edge it belongs to).  With ``add_self_loops`` the graph's loops are replaced by one
    loop per node first.  :math:`\\mathbf{W}` is ``lin`` (``[H * out, in]``),
    :math:`\\mathbf{u}` is ``u`` and :math:`c` is ``c``.

    Args:
        in_channels (int): input features.
        out_channels (int): output features.
        heads (int, optional): number of attention heads :math:`H`. (default: ``1``)
        add_self_loops (bool, optional): replace self-loops by one per node.
            (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (aggregation: ``"mean"``).

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in], [N_dst, in])``, ``edge_index``
    ``[2, E]`` -> ``[N_dst, out]``.
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1,
                 add_self_loops: bool = True, bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "mean")
        super().__init__(**kwargs)
        if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1:
            raise ValueError(f"FeaStConv: 'heads' must be a positive int, got {heads!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.add_self_loops = add_self_loops
        self.lin = Linear(in_channels, heads * out_channels, bias=False,
                          weight_initializer="uniform")
        self.u = Linear(in_channels, heads, bias=False, weight_initializer="uniform")
        self.c = Parameter(torch.empty(heads))
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        self.u.reset_parameters()
        with torch.no_grad():
            self.c.normal_(0.0, 0.1)
            if self.bias is not None:
                self.bias.normal_(0.0, 0.1)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], edge_index: Tensor) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        if pair[1] is None:
            raise ValueError("FeaStConv: target node features are required (q uses "
                             "x_j - x_i); got (x_src, None)")
        check_node_channels("FeaStConv", pair, (self.in_channels, self.in_channels))
        if self.add_self_loops:
            sizes = (pair[0].shape[0], pair[1].shape[0])
            if self.flow != "source_to_target":
                sizes = (sizes[1], sizes[0])
            edge_index = attention_self_loops(edge_index, None, sizes)[0]
        out = self.propagate(edge_index, x=pair)
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_i: Tensor, x_j: Tensor) -> Tensor:
        q = F.softmax(self.u(x_j - x_i) + self.c, dim=1)  # [E, H]
        h = self.lin(x_j).view(-1, self.heads, self.out_channels)
        return (h * q.view(-1, self.heads, 1)).sum(dim=1)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")


__all__ = ["FeaStConv"]
