"""``FusedGATConv``: GATConv taking its graph in CSR/CSC form (Zhang et al., MLSys 2022)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from gfx.nn.conv.gat_conv import GATConv
from gfx.utils import is_tracing

CSR = Tuple[Tensor, Tensor]
CSC = Tuple[Tensor, Tensor]


def _ptr(index: Tensor, size: Optional[int]) -> Tensor:
    """CSR pointers of a sorted index vector over ``size`` rows (``max + 1`` if ``None``)."""
    if size is None:
        size = int(index.max()) + 1 if index.numel() else 0
    counts = torch.bincount(index.long(), minlength=size)
    return torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)]).to(index.dtype)


def _ptr_to_index(ptr: Tensor) -> Tensor:
    """The row of every entry of a CSR pointer vector."""
    rows = torch.arange(ptr.numel() - 1, device=ptr.device, dtype=ptr.dtype)
    return torch.repeat_interleave(rows, ptr[1:] - ptr[:-1])


# Entry counts come from the pointer values: one node in captured graphs.
torch.fx.wrap("_ptr_to_index")


class FusedGATConv(GATConv):
    """The graph attention operator of :class:`gfx.nn.GATConv`, run on a graph given in
    both compressed layouts, from "Understanding GNN Computational Graph: A Coordinated
    Computation, IO, and Memory Perspective".

    .. math::
        \\mathbf{x}'_i = \\sum_{j \\in \\mathcal{N}(i)} \\alpha_{i,j}
        \\mathbf{\\Theta} \\mathbf{x}_j, \\qquad
        \\alpha_{i,j} = \\mathrm{softmax}_j \\left( \\mathrm{LeakyReLU} \\left(
        \\mathbf{a}_s^{\\top} \\mathbf{\\Theta} \\mathbf{x}_j +
        \\mathbf{a}_t^{\\top} \\mathbf{\\Theta} \\mathbf{x}_i \\right) \\right)

    per head: the same layer, parameters and output as ``GATConv(...,
    add_self_loops=False)`` on the ``edge_index`` given to :meth:`to_graph_format`.  The
    reference runs a fused vendor kernel (dgNN, CUDA only); gfx runs its own message
    passing on the CSC form (sorted by target, so reductions need no atomics), on any
    device, eager or compiled.  Self-loops must be added beforehand and edge features
    are not supported, as in the reference.

    Args:
        *args, **kwargs: the arguments of :class:`gfx.nn.GATConv`; ``add_self_loops``
            must be ``False`` and ``edge_dim`` ``None``.

    Shapes: ``x`` ``[N, in_channels]``, ``csr`` ``(rowptr [N_src + 1], col [E])``, ``csc``
    ``(row [E], colptr [N_dst + 1])``, ``perm`` ``[E]`` -> ``[N, heads * out_channels]``
    (``[N, out_channels]`` with ``concat=False``).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.add_self_loops:
            raise ValueError(f"{type(self).__name__}: adding self-loops is not supported; "
                             f"add them to the graph beforehand and pass "
                             f"add_self_loops=False")
        if self.edge_dim is not None:
            raise ValueError(f"{type(self).__name__}: edge features are not supported; "
                             f"pass edge_dim=None")

    @staticmethod
    def to_graph_format(edge_index: Tensor, size: Optional[Tuple[int, int]] = None
                        ) -> Tuple[CSR, CSC, Tensor]:
        """``((rowptr, col), (row, colptr), perm)``: the graph sorted by source (CSR) and
        by target (CSC), as int32; ``perm[k]`` is the CSR position of the ``k``-th CSC
        edge.

        Args:
            edge_index (Tensor): ``[2, E]`` connectivity, sources in row 0.
            size ((int, int), optional): numbers of source and target nodes.
                (default: ``None``, inferred from the largest ids)
        """
        if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or \
                edge_index.shape[0] != 2:
            raise ValueError(f"FusedGATConv.to_graph_format: 'edge_index' must be a "
                             f"[2, num_edges] tensor, got "
                             f"{getattr(edge_index, 'shape', type(edge_index).__name__)}")
        src, dst = edge_index.long()
        span = int(edge_index.max()) + 1 if edge_index.numel() else 1
        by_src = torch.sort(src * span + dst, stable=True).indices
        src, dst = src[by_src], dst[by_src]
        rowptr = _ptr(src.int(), None if size is None else size[0])
        col = dst.int()
        by_dst = torch.sort(dst * span + src, stable=True).indices
        row = src[by_dst].int()
        colptr = _ptr(dst[by_dst].int(), None if size is None else size[1])
        return (rowptr, col), (row, colptr), by_dst.int()

    def forward(self, x: Tensor, csr: CSR, csc: CSC, perm: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: 'x' must be one tensor of node "
                            f"features; bipartite pairs are not supported")
        row, colptr = csc
        if not is_tracing(x, row, colptr, perm):
            if x.dim() != 2:
                raise ValueError(f"{type(self).__name__}: 'x' must be [num_nodes, "
                                 f"channels], got shape {list(x.shape)}")
            num_edges = row.numel()
            if csr[1].numel() != num_edges or perm.numel() != num_edges or \
                    (colptr.numel() and int(colptr[-1]) != num_edges):
                raise ValueError(f"{type(self).__name__}: 'csr', 'csc' and 'perm' describe "
                                 f"different numbers of edges ({csr[1].numel()}, "
                                 f"{num_edges} / {int(colptr[-1]) if colptr.numel() else 0},"
                                 f" {perm.numel()}); build them with to_graph_format")
        edge_index = torch.stack([row.long(), _ptr_to_index(colptr).long()])
        return super().forward(x, edge_index)


__all__ = ["FusedGATConv"]
