"""``CuGraphSAGEConv``: GraphSAGE with the interface of the reference's cugraph-ops layer,
(graph inputs: :mod:`gfx.nn.conv.cugraph.base`)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.dense.linear import Linear
from gfx.nn.conv.cugraph.base import GraphInput, cugraph_graph, to_csc
from gfx.utils import is_tracing

SAGE_AGGRS = ("mean", "sum", "add", "min", "max")


class CuGraphSAGEConv(MessagePassing):
    """The GraphSAGE operator of "Inductive Representation Learning on Large Graphs", with
    the interface of the reference's cugraph-ops layer.

    .. math::
        \\mathbf{x}'_i = \\mathbf{W} \\left[ \\bigoplus_{j \\in \\mathcal{N}(i)}
        \\mathbf{x}_j \\,\\Vert\\, \\mathbf{x}_i \\right] + \\mathbf{b}

    one linear map ``lin`` over the aggregated neighbours concatenated with the root
    (``root_weight=True``; else over the aggregation alone).  With ``project=True`` every
    node is first mapped by :math:`\\mathrm{ReLU}(\\mathbf{P} \\mathbf{x} + \\mathbf{c})`
    (``pre_lin``); with ``normalize=True`` outputs are scaled to unit L2 norm.  The
    reference calls the pylibcugraphops CUDA kernels; gfx runs its own message passing
    (any device, eager and compiled): ``lin.weight`` equals ``[W_l | W_r]`` of
    :class:`gfx.nn.SAGEConv`.

    Args:
        in_channels (int): input features per node.
        out_channels (int): output features per node.
        aggr (str, optional): ``"mean"``, ``"sum"``, ``"min"`` or ``"max"``.
            (default: ``"mean"``)
        normalize (bool, optional): L2-normalise the output. (default: ``False``)
        root_weight (bool, optional): concatenate the root's features. (default: ``True``)
        project (bool, optional): project the inputs first. (default: ``False``)
        bias (bool, optional): bias of ``lin``. (default: ``True``)

    Shapes: ``x`` ``[N_src, in_channels]``; ``edge_index`` ``[2, E]`` (or an
    ``EdgeIndex``-like tensor, or a CSC triple ``(row, colptr, N_src)`` whose targets are the
    first ``N_dst`` rows of ``x``) -> ``[N_dst, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, aggr: str = "mean",
                 normalize: bool = False, root_weight: bool = True, project: bool = False,
                 bias: bool = True):
        if aggr not in SAGE_AGGRS:
            raise ValueError(f"CuGraphSAGEConv: 'aggr' must be one of {SAGE_AGGRS}, got "
                             f"{aggr!r}")
        super().__init__(aggr="sum" if aggr == "add" else aggr)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.normalize = normalize
        self.root_weight = root_weight
        self.project = project
        self.pre_lin = Linear(in_channels, in_channels, bias=True) if project else None
        width = 2 * in_channels if root_weight else in_channels
        self.lin = Linear(width, out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.pre_lin is not None:
            self.pre_lin.reset_parameters()
        self.lin.reset_parameters()

    to_csc = staticmethod(to_csc)

    def forward(self, x: Tensor, edge_index: GraphInput,
                max_num_neighbors: Optional[int] = None) -> Tensor:
        edge_index, size = cugraph_graph("CuGraphSAGEConv", x, edge_index, max_num_neighbors)
        if not is_tracing(x) and (x.dim() != 2 or x.shape[1] != self.in_channels):
            raise ValueError(f"CuGraphSAGEConv: 'x' must have shape [num_nodes, "
                             f"{self.in_channels}], got {list(x.shape)}")
        if self.pre_lin is not None:
            x = F.relu(self.pre_lin(x))
        x_dst = x[:size[1]]
        out = self.propagate(edge_index, x=(x, x_dst), size=size)
        if self.root_weight:
            out = torch.cat([out, x_dst], dim=-1)
        out = self.lin(out)
        if self.normalize:
            out = F.normalize(out, p=2.0, dim=-1)
        return out

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"aggr={self.aggr})")


__all__ = ["CuGraphSAGEConv"]
