"""``MeshCNNConv``: convolution over the edges of a triangle mesh (Hanocka et al., 2019)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.utils import is_tracing


class MeshCNNConv(MessagePassing):
    """The mesh edge convolution of "MeshCNN: A Network With An Edge".

    The "nodes" are the edges of a triangle mesh.  Every mesh edge :math:`e` has four
    neighbouring edges :math:`(a, b, c, d)`: :math:`a, b` from one of its two triangles,
    :math:`c, d` from the other, in a fixed orientation.  Symmetric functions of opposite
    pairs make the layer invariant to which triangle comes first:

    .. math::
        \\mathbf{x}'_e = W_0 \\mathbf{x}_e + W_1 |\\mathbf{x}_a - \\mathbf{x}_c|
        + W_2 (\\mathbf{x}_a + \\mathbf{x}_c) + W_3 |\\mathbf{x}_b - \\mathbf{x}_d|
        + W_4 (\\mathbf{x}_b + \\mathbf{x}_d)

    with :math:`W_k` the modules ``kernels[k]`` (by default
    :class:`torch.nn.Linear` layers with bias).  ``edge_index`` lists the neighbours
    four at a time: columns ``4k .. 4k+3`` are :math:`(a, b, c, d) \\to e` for one edge
    :math:`e` (row 0 the neighbours, row 1 :math:`e` four times).  Edges without such a
    group get :math:`W_0 \\mathbf{x}_e` only.  The reference computes garbage (or fails
    deep inside) when the columns are not grouped this way; gfx checks the grouping in
    eager mode and raises an error naming ``edge_index``.

    Args:
        in_channels (int): features per mesh edge.
        out_channels (int): output features per mesh edge.
        kernels (torch.nn.ModuleList, optional): the five maps :math:`W_0 .. W_4`, each
            from ``in_channels`` to ``out_channels``. (default: ``None``, five
            :class:`torch.nn.Linear`)

    Shapes: ``x`` ``[|E|, in_channels]``, ``edge_index`` ``[2, 4 * |E|]`` ->
    ``[|E|, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 kernels: Optional[torch.nn.ModuleList] = None):
        super().__init__(aggr="add")
        self.in_channels = in_channels
        self.out_channels = out_channels
        if kernels is None:
            kernels = torch.nn.ModuleList(
                [torch.nn.Linear(in_channels, out_channels) for _ in range(5)])
        if not isinstance(kernels, torch.nn.ModuleList) or len(kernels) != 5:
            raise ValueError(f"MeshCNNConv: 'kernels' must be a torch.nn.ModuleList of "
                             f"exactly 5 modules, got {type(kernels).__name__}"
                             + (f" of {len(kernels)}" if hasattr(kernels, "__len__") else ""))
        self.kernels = kernels

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for kernel in self.kernels:
            if hasattr(kernel, "reset_parameters"):
                kernel.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        self._check_groups(x, edge_index)
        return self.propagate(edge_index, x=x)

    def _check_groups(self, x: Tensor, edge_index: Tensor) -> None:
        if is_tracing(x, edge_index):
            return
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"MeshCNNConv: 'x' must have shape [num_mesh_edges, "
                             f"{self.in_channels}], got {list(x.shape)}")
        if edge_index.dim() != 2 or edge_index.shape[0] != 2 or edge_index.shape[1] % 4:
            raise ValueError(f"MeshCNNConv: 'edge_index' must have shape [2, 4 * k] (four "
                             f"neighbours per mesh edge), got {list(edge_index.shape)}")
        targets = edge_index[1].view(-1, 4)
        if (targets != targets[:, :1]).any():
            group = int((targets != targets[:, :1]).any(1).nonzero()[0])
            raise ValueError(f"MeshCNNConv: 'edge_index' columns {4 * group}..{4 * group + 3} "
                             f"must share one target (the four neighbours of one mesh edge), "
                             f"got targets {targets[group].tolist()}")

    def message(self, x_j: Tensor) -> Tensor:
        a, b, c, d = x_j.view(-1, 4, x_j.shape[-1]).unbind(1)
        terms = [self.kernels[1]((a - c).abs()), self.kernels[2](a + c),
                 self.kernels[3]((b - d).abs()), self.kernels[4](b + d)]
        # one message per column: the four terms of a group all go to its mesh edge
        out = torch.stack(terms, dim=1)
        return out.reshape(-1, out.shape[-1])

    def update(self, aggr_out: Tensor, x: Tensor) -> Tensor:
        return self.kernels[0](x) + aggr_out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


__all__ = ["MeshCNNConv"]
