"""``EdgePooling``: contract the best-scoring edges of a graph into single nodes.

# NOTE [edge contraction order]
Edges are visited in descending score (ties: the lower edge position first).  An edge
whose two ends are both still unmerged is contracted: its ends become one new node
(a self-loop contracts its one node alone).  New nodes are numbered in the order of
contraction; nodes left unmerged follow in ascending id, with score 1.  The loop is
sequential, so it runs as a small C function built with the ``cpp`` toolchain (cached
on disk), or in Python where no compiler exists.  In a captured model the contraction
is one run-time call (:func:`merge_edges` is declared with ``torch.fx.wrap``); the
score and the feature sums around it are ordinary tensor ops.
"""
from __future__ import annotations

import ctypes
import functools
from typing import Callable, NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.dense.linear import Linear
from gfx.nn.pool.topk_pool import check_graph
from gfx.ops import scatter, segment_softmax
from gfx.ops._checks import is_tracing
from gfx.utils import coalesce

__all__ = ["EdgePooling"]

_SOURCE = r"""
/* gfx edge pooling: contract edges in the given order while both ends are free. */
long gfx_edge_pool_merge(long n, long m, const long *order, const long *src,
                         const long *dst, long *cluster, long *chosen) {
    long next = 0;
    for (long k = 0; k < m; ++k) {
        long e = order[k], s = src[e], t = dst[e];
        if (cluster[s] >= 0 || cluster[t] >= 0) continue;
        cluster[s] = next; cluster[t] = next; chosen[next] = e; ++next;
    }
    long merged = next;
    for (long u = 0; u < n; ++u) if (cluster[u] < 0) cluster[u] = next++;
    return merged;
}
"""


@functools.lru_cache(maxsize=None)
def _kernel():
    """The compiled contraction loop, or ``None`` when no C toolchain is available."""
    from gfx.codegen import cpp_build
    if not cpp_build.available():
        return None
    path, _ = cpp_build.build(_SOURCE)
    fn = ctypes.CDLL(path).gfx_edge_pool_merge
    fn.restype = ctypes.c_long
    fn.argtypes = [ctypes.c_long, ctypes.c_long] + [ctypes.c_void_p] * 5
    return fn


def _merge_python(n: int, order, src, dst, cluster: list, chosen: list) -> int:
    nxt = 0
    for e in order:
        s, t = src[e], dst[e]
        if cluster[s] >= 0 or cluster[t] >= 0:
            continue
        cluster[s] = cluster[t] = nxt
        chosen[nxt] = e
        nxt += 1
    merged = nxt
    for u in range(n):
        if cluster[u] < 0:
            cluster[u] = nxt
            nxt += 1
    return merged


def contract(edge_index: Tensor, edge_score: Tensor, num_nodes: int
             ) -> Tuple[Tensor, Tensor]:
    """``(cluster, chosen)``: the new node of every node and the contracted edges' ids,
    following NOTE [edge contraction order]."""
    order = edge_score.detach().cpu().argsort(descending=True, stable=True).contiguous()
    src, dst = (v.contiguous() for v in edge_index.detach().long().cpu())
    cluster = torch.full((num_nodes,), -1, dtype=torch.long)
    chosen = torch.zeros(max(num_nodes, 1), dtype=torch.long)
    kernel = _kernel()
    if kernel is not None:
        merged = kernel(num_nodes, order.numel(), order.data_ptr(), src.data_ptr(),
                        dst.data_ptr(), cluster.data_ptr(), chosen.data_ptr())
    else:
        c, ch = cluster.tolist(), chosen.tolist()
        merged = _merge_python(num_nodes, order.tolist(), src.tolist(), dst.tolist(), c, ch)
        cluster, chosen = torch.tensor(c, dtype=torch.long), torch.tensor(ch,
                                                                          dtype=torch.long)
    device = edge_index.device
    return cluster.to(device), chosen[:merged].to(device)


class UnpoolInfo(NamedTuple):
    """What :meth:`EdgePooling.unpool` needs: the graph before pooling, the new node of
    every old node, and each new node's score."""
    edge_index: Tensor
    cluster: Tensor
    batch: Tensor
    new_edge_score: Tensor


def merge_edges(x: Tensor, edge_index: Tensor, batch: Tensor, edge_score: Tensor
                ) -> Tuple[Tensor, Tensor, Tensor, UnpoolInfo]:
    """Contract edges (NOTE [edge contraction order]) and build the coarse graph.

    A new node's features are the sum of its old nodes' features times the score of the
    contracted edge (1 for a node left alone); its edges are the old edges mapped to
    the new nodes, coalesced (self-loops kept); its graph is that of its old nodes.
    """
    num_nodes = x.size(0)
    cluster, chosen = contract(edge_index, edge_score, num_nodes)
    num_new = int(cluster.max()) + 1 if num_nodes else 0
    new_x = scatter(x, cluster, 0, num_new, "sum")
    score = torch.cat([edge_score[chosen],
                       edge_score.new_ones(num_new - chosen.numel())])
    new_x = new_x * score.view(-1, 1)
    new_edge_index = coalesce(cluster[edge_index.long()], num_nodes=num_new)
    new_batch = torch.zeros(num_new, dtype=batch.dtype, device=batch.device)
    new_batch = new_batch.scatter(0, cluster, batch)
    return new_x, new_edge_index, new_batch, UnpoolInfo(edge_index, cluster, batch, score)


torch.fx.wrap("merge_edges")


class EdgePooling(torch.nn.Module):
    """The edge pooling operator of "Towards Graph Pooling by Edge Contraction" and
    "Edge Contraction Pooling for Graph Neural Networks".

    Every edge :math:`(i, j)` gets a raw score and a normalised score

    .. math::
        r_{ij} = \\mathbf{w}^{\\top} [\\mathbf{x}_i \\,\\Vert\\, \\mathbf{x}_j] + b,
        \\qquad s_{ij} = \\mathrm{norm}(r)_{ij} + \\mathrm{add\\_to\\_edge\\_score}

    (``norm`` is ``edge_score_method``: by default a softmax over the edges entering
    each node).  Edges are then contracted greedily by descending score while both
    ends are unmerged (NOTE [edge contraction order]); a contracted pair becomes
    :math:`\\mathbf{x}' = s_{ij} (\\mathbf{x}_i + \\mathbf{x}_j)`, a node left alone
    keeps :math:`\\mathbf{x}_i`.  ``forward`` returns ``(x, edge_index, batch,
    unpool_info)``; :meth:`unpool` undoes it.

    Args:
        in_channels (int): size of each input sample.
        edge_score_method (callable, optional): ``f(raw_edge_score, edge_index,
            num_nodes)`` returning normalised scores; one of
            :meth:`compute_edge_score_softmax`, :meth:`compute_edge_score_tanh`,
            :meth:`compute_edge_score_sigmoid`.
            (default: :meth:`compute_edge_score_softmax`)
        dropout (float, optional): dropout probability of the raw scores in training.
            (default: ``0.0``)
        add_to_edge_score (float, optional): added to every score (helps unpooling).
            (default: ``0.5``)
    """

    unpool_description = UnpoolInfo

    def __init__(self, in_channels: int, edge_score_method: Optional[Callable] = None,
                 dropout: float = 0.0, add_to_edge_score: float = 0.5):
        super().__init__()
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"EdgePooling: 'dropout' must lie in [0, 1], got {dropout}")
        if edge_score_method is None:
            edge_score_method = self.compute_edge_score_softmax
        if not callable(edge_score_method):
            raise TypeError("EdgePooling: 'edge_score_method' must be callable, got "
                            f"{edge_score_method!r}")
        self.in_channels = in_channels
        self.compute_edge_score = edge_score_method
        self.add_to_edge_score = add_to_edge_score
        self.dropout = dropout
        self.lin = Linear(2 * in_channels, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()

    @staticmethod
    def compute_edge_score_softmax(raw_edge_score: Tensor, edge_index: Tensor,
                                   num_nodes: int) -> Tensor:
        """Softmax of the raw scores over the edges entering each node."""
        return segment_softmax(raw_edge_score, index=edge_index[1], num_segments=num_nodes)

    @staticmethod
    def compute_edge_score_tanh(raw_edge_score: Tensor, edge_index: Optional[Tensor] = None,
                                num_nodes: Optional[int] = None) -> Tensor:
        """:math:`\\tanh` of the raw scores."""
        return torch.tanh(raw_edge_score)

    @staticmethod
    def compute_edge_score_sigmoid(raw_edge_score: Tensor,
                                   edge_index: Optional[Tensor] = None,
                                   num_nodes: Optional[int] = None) -> Tensor:
        """Logistic sigmoid of the raw scores."""
        return torch.sigmoid(raw_edge_score)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor
                ) -> Tuple[Tensor, Tensor, Tensor, UnpoolInfo]:
        """Score, contract and coarsen; see the class docstring for the outputs."""
        check_graph("EdgePooling", x, edge_index, batch)
        e = torch.cat([x[edge_index[0]], x[edge_index[1]]], dim=-1)
        e = self.lin(e).view(-1)
        e = F.dropout(e, p=self.dropout, training=self.training)
        e = self.compute_edge_score(e, edge_index, x.size(0))
        e = e + self.add_to_edge_score
        return merge_edges(x, edge_index, batch, e)

    def unpool(self, x: Tensor, unpool_info: UnpoolInfo) -> Tuple[Tensor, Tensor, Tensor]:
        """Undo a pooling step: every old node gets its new node's features divided by
        that node's score; returns ``(x, edge_index, batch)`` of the old graph.

        Args:
            x (Tensor): ``[N', F]`` features of the pooled nodes.
            unpool_info (UnpoolInfo): the fourth output of :meth:`forward`.
        """
        if not is_tracing(x) and x.shape[0] != unpool_info.new_edge_score.numel():
            raise ValueError(f"EdgePooling.unpool: 'x' has {x.shape[0]} rows but the "
                             f"pooled graph had {unpool_info.new_edge_score.numel()} nodes")
        new_x = x / unpool_info.new_edge_score.view(-1, 1)
        return new_x[unpool_info.cluster], unpool_info.edge_index, unpool_info.batch

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels})"
