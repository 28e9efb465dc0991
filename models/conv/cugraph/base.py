"""Graph inputs of the ``CuGraph*`` layers: a ``[2, E]`` edge index, anything with
``sparse_size()`` (such as the reference's EdgeIndex), or a CSC triple from
:func:`to_csc`, all turned into gfx's edge-index form."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.utils import is_tracing

CSC = Tuple[Tensor, Tensor, int]
GraphInput = Union[Tensor, CSC]


def to_csc(edge_index: Tensor, size: Optional[Tuple[int, int]] = None,
           edge_attr: Optional[Tensor] = None):
    """``(row, colptr, num_src_nodes)``: ``edge_index`` sorted by target (CSC), and
    ``edge_attr`` in the same order when given (then ``((row, colptr, n), edge_attr)``).

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity, sources in row 0.
        size ((int, int), optional): numbers of source and target nodes.
            (default: ``None``, inferred from the largest ids)
        edge_attr (Tensor, optional): per-edge values to reorder. (default: ``None``)
    """
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"to_csc: 'edge_index' must be a [2, num_edges] tensor, got "
                         f"{getattr(edge_index, 'shape', type(edge_index).__name__)}")
    row, col = edge_index
    num_src = size[0] if size is not None else (int(row.max()) + 1 if row.numel() else 0)
    num_dst = size[1] if size is not None else (int(col.max()) + 1 if col.numel() else 0)
    perm = torch.sort(col, stable=True).indices
    counts = torch.bincount(col, minlength=num_dst)
    colptr = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
    csc = (row[perm], colptr, num_src)
    return csc if edge_attr is None else (csc, edge_attr[perm])


def _csc_targets(colptr: Tensor) -> Tensor:
    rows = torch.arange(colptr.numel() - 1, device=colptr.device)
    return torch.repeat_interleave(rows, colptr[1:] - colptr[:-1])


def _captured_edge_index(graph) -> Tensor:
    """Run-time guard of a captured graph, which was traced for the ``edge_index`` form."""
    if not isinstance(graph, Tensor):
        raise TypeError("CuGraph layers: a captured (compiled) model takes the graph as a "
                        "[2, num_edges] edge_index; convert CSC input with "
                        "torch.stack([row, targets]) before calling it")
    return graph


# Entry counts come from the pointer values, and the graph form is checked at run time:
# each is one node in captured graphs.
torch.fx.wrap("_csc_targets")
torch.fx.wrap("_captured_edge_index")


def cugraph_graph(layer: str, x: Tensor, graph: GraphInput,
                  max_num_neighbors: Optional[int]) -> Tuple[Tensor, Tuple[int, int]]:
    """``(edge_index, (num_src, num_dst))`` from a ``CuGraph*`` layer's graph input.

    ``graph`` is a ``[2, E]`` edge index (an object with ``sparse_size()``, such as the
    reference's ``EdgeIndex``, gives the sizes; otherwise both sides have ``x``'s rows) or a
    CSC triple ``(row, colptr, num_src_nodes)`` from :func:`to_csc`, whose targets are the
    first ``len(colptr) - 1`` rows of ``x``.  ``max_num_neighbors`` is a kernel hint of the
    vendor library: checked, then unused.
    """
    if max_num_neighbors is not None and (not isinstance(max_num_neighbors, int)
                                          or max_num_neighbors < 0):
        raise ValueError(f"{layer}: 'max_num_neighbors' must be None or a non-negative int, "
                         f"got {max_num_neighbors!r}")
    if isinstance(graph, (tuple, list)):
        if len(graph) != 3:
            raise ValueError(f"{layer}: a CSC graph must be (row, colptr, num_src_nodes), "
                             f"got {len(graph)} entries")
        row, colptr, num_src = graph
        num_dst = colptr.shape[0] - 1
        if not is_tracing(row, colptr) and (colptr.dim() != 1 or colptr.numel() < 1
                                            or row.numel() != int(colptr[-1])):
            raise ValueError(f"{layer}: a CSC graph needs colptr [num_dst + 1] ending at the "
                             f"number of rows ({row.numel()}), got colptr "
                             f"{colptr.tolist() if colptr.numel() < 12 else colptr.shape}")
        return torch.stack([row, _csc_targets(colptr)]), (num_src, num_dst)
    if not isinstance(graph, Tensor):
        raise TypeError(f"{layer}: 'edge_index' must be a [2, num_edges] tensor or a CSC "
                        f"triple (row, colptr, num_src_nodes), got {type(graph).__name__}")
    if isinstance(graph, torch.fx.Proxy):  # captured: a plain edge index over x's nodes
        return _captured_edge_index(graph), (x.shape[0], x.shape[0])
    if hasattr(graph, "sparse_size"):  # EdgeIndex-like: sizes travel with the indices
        size = tuple(graph.sparse_size())
        size = (size[0] if size[0] is not None else x.shape[0],
                size[1] if size[1] is not None else x.shape[0])
        return graph.as_subclass(Tensor), size
    return graph, (x.shape[0], x.shape[0])


__all__ = []
