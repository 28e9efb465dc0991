"""``graclus``: greedy matching of neighbouring nodes into clusters of one or two.

# NOTE [graclus visiting order]
The matching is sequential by nature (a node's partner depends on the nodes matched
before it), so it runs as one small C loop, built once with the ``cpp`` backend's
toolchain (:mod:`gfx.codegen.cpp_build`) and cached on disk; where no C compiler is
available the same loop runs in Python.  Nodes are visited in ascending id (the
reference library visits them in a random order, so its clusters change from call to
call; gfx's are reproducible).  The graph is read as undirected: the candidates of a
node are the other ends of all its edges, in either direction, self-loops excluded.  A
visited node that is still unmatched takes, among its unmatched candidates, the one
joined by the edge of largest ``weight`` (ties: the smaller node id; without ``weight``
every edge weighs 1, so the smallest unmatched neighbour); a node without an unmatched
candidate stays alone.  Every cluster is named by its smallest node id.
"""
from __future__ import annotations

import ctypes
import functools
from typing import Optional

import torch
from torch import Tensor

__all__ = ["graclus"]

_SOURCE = r"""
/* gfx graclus: greedy matching over CSR rows sorted best candidate first. */
void gfx_graclus_match(long n, const long *rowptr, const long *col, long *cluster) {
    for (long u = 0; u < n; ++u) {
        if (cluster[u] >= 0) continue;
        cluster[u] = u;
        for (long e = rowptr[u]; e < rowptr[u + 1]; ++e) {
            long v = col[e];
            if (cluster[v] < 0) { cluster[v] = u; break; }
        }
    }
}
"""


@functools.lru_cache(maxsize=None)
def _kernel():
    """The compiled matching loop, or ``None`` when no C toolchain is available."""
    from gfx.codegen import cpp_build
    if not cpp_build.available():
        return None
    path, _ = cpp_build.build(_SOURCE)
    fn = ctypes.CDLL(path).gfx_graclus_match
    fn.restype = None
    fn.argtypes = [ctypes.c_long] + [ctypes.c_void_p] * 3
    return fn


def _match_python(n: int, rowptr: Tensor, col: Tensor, cluster: Tensor) -> None:
    ptr, cols, out = rowptr.tolist(), col.tolist(), cluster.tolist()
    for u in range(n):
        if out[u] >= 0:
            continue
        out[u] = u
        for v in cols[ptr[u]:ptr[u + 1]]:
            if out[v] < 0:
                out[v] = u
                break
    cluster.copy_(torch.tensor(out, dtype=torch.long))


def graclus(edge_index: Tensor, weight: Optional[Tensor] = None,
            num_nodes: Optional[int] = None) -> Tensor:
    """A greedy clustering after "Weighted Graph Cuts without Eigenvectors: A Multilevel
    Approach": each unmarked node is matched with the unmarked neighbour that maximises
    the edge weight.

    Returns ``[N]`` cluster ids (each the smallest node id of its cluster; clusters have
    one or two nodes).  Visiting order, tie-breaking and the undirected reading of the
    graph: see NOTE [graclus visiting order].

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        weight (Tensor, optional): ``[E]`` edge weights. (default: ``None``)
        num_nodes (int, optional): number of nodes. (default: ``edge_index.max() + 1``)
    """
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or \
            edge_index.shape[0] != 2:
        raise ValueError(f"graclus: 'edge_index' must be a [2, num_edges] tensor, got "
                         f"{getattr(edge_index, 'shape', type(edge_index).__name__)}")
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"graclus: 'edge_index' must be int64 or int32, got "
                        f"{edge_index.dtype}")
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    if edge_index.numel() and (int(edge_index.min()) < 0 or
                               int(edge_index.max()) >= num_nodes):
        raise IndexError(f"graclus: 'edge_index' holds node ids outside [0, {num_nodes})")
    if weight is not None and (weight.dim() != 1 or weight.numel() != edge_index.shape[1]):
        raise ValueError(f"graclus: 'weight' must hold one value per edge "
                         f"({edge_index.shape[1]}), got shape {list(weight.shape)}")
    device = edge_index.device
    row, col = edge_index.long().cpu()
    w = torch.ones(row.numel(), dtype=torch.float64) if weight is None else \
        weight.detach().cpu().to(torch.float64)
    keep = row != col
    row, col, w = torch.cat([row[keep], col[keep]]), torch.cat([col[keep], row[keep]]), \
        torch.cat([w[keep], w[keep]])
    # Sort by (row, -weight, col): the first unmatched entry of a row is the best one.
    order = col.argsort(stable=True)
    order = order[(-w[order]).argsort(stable=True)]
    order = order[row[order].argsort(stable=True)]
    col = col[order].contiguous()
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long)
    rowptr[1:] = torch.cumsum(torch.bincount(row, minlength=num_nodes), 0)
    cluster = torch.full((num_nodes,), -1, dtype=torch.long)
    kernel = _kernel()
    if kernel is not None:
        kernel(num_nodes, rowptr.data_ptr(), col.data_ptr(), cluster.data_ptr())
    else:
        _match_python(num_nodes, rowptr, col, cluster)
    return cluster.to(device)
