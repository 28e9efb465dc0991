"""``ClusterPooling``: contract every edge above a score threshold; components merge."""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.dense.linear import Linear
from gfx.nn.pool.topk_pool import check_graph
from gfx.ops import scatter
from gfx.utils import coalesce

__all__ = ["ClusterPooling"]

_THRESHOLDS = {"tanh": 0.0, "sigmoid": 0.5, "log_softmax": 0.0}


class UnpoolInfo(NamedTuple):
    """The graph before pooling (self-loops removed), the cluster of every node, and
    the batch vector before pooling."""
    edge_index: Tensor
    cluster: Tensor
    batch: Tensor


def connected_clusters(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Weakly connected components of the graph ``edge_index``, numbered ``0 .. C-1``
    in ascending order of their smallest node.

    Min-label propagation with pointer jumping: every node starts with its own id and
    repeatedly takes the smallest label among itself and its neighbours (then the label
    of that label), all nodes at once; the rounds are bounded by the largest component's
    diameter, not by the number of nodes.
    """
    label = torch.arange(num_nodes, device=edge_index.device)
    src, dst = edge_index[0].long(), edge_index[1].long()
    while src.numel():
        low = torch.minimum(label[src], label[dst])
        new = label.scatter_reduce(0, src, low, "amin").scatter_reduce(0, dst, low, "amin")
        new = new[new]
        if torch.equal(new, label):
            break
        label = new
    return torch.unique(label, sorted=True, return_inverse=True)[1]


def merge_clusters(x: Tensor, edge_index: Tensor, batch: Tensor, edge_score: Tensor,
                   threshold: float) -> Tuple[Tensor, Tensor, Tensor, UnpoolInfo]:
    """Contract the edges scoring above ``threshold`` and build the coarse graph.

    With :math:`c(i)` the cluster of node :math:`i`, the new features are

    .. math::
        \\mathbf{x}'_c = \\sum_{(j, i) \\in \\mathcal{E},\\, c(i) = c} s_{ji}\\,
        \\mathbf{x}_j + [\\,|c| = 1\\,]\\, \\mathbf{x}_{c}

    (every edge carries its score from its source into its target's cluster, kept or
    not; a node left alone also keeps its own features).  Edges map to clusters,
    self-loops dropped, duplicates merged, sorted.  One run-time call in captured graphs.
    """
    num_nodes = x.size(0)
    cluster = connected_clusters(edge_index[:, edge_score > threshold], num_nodes)
    num_clusters = int(cluster.max()) + 1 if num_nodes else 0
    src, dst = edge_index[0].long(), edge_index[1].long()
    new_x = scatter(x[src] * edge_score.view(-1, 1), cluster[dst], 0, num_clusters, "sum")
    alone = (torch.bincount(cluster, minlength=num_clusters) == 1)[cluster]
    new_x = new_x + scatter(x * alone.view(-1, 1).to(x.dtype), cluster, 0, num_clusters,
                            "sum")
    new_edges = cluster[edge_index.long()]
    new_edges = coalesce(new_edges[:, new_edges[0] != new_edges[1]],
                         num_nodes=num_clusters)
    new_batch = torch.zeros(num_clusters, dtype=batch.dtype, device=batch.device)
    new_batch = new_batch.scatter(0, cluster, batch)
    return new_x, new_edges, new_batch, UnpoolInfo(edge_index, cluster, batch)


def without_self_loops(edge_index: Tensor) -> Tensor:
    """``edge_index`` minus its self-loops (a run-time call in captured graphs)."""
    return edge_index[:, edge_index[0] != edge_index[1]]


torch.fx.wrap("merge_clusters")
torch.fx.wrap("without_self_loops")


class ClusterPooling(torch.nn.Module):
    """The cluster pooling operator of "Edge-Based Graph Component Pooling".

    Self-loops are dropped, every edge :math:`(j, i)` is scored as
    :math:`s_{ji} = f(\\mathbf{w}^{\\top}[\\mathbf{x}_j \\,\\Vert\\, \\mathbf{x}_i] + b)`
    (``f`` = ``edge_score_method``), every edge with :math:`s_{ji} >` ``threshold`` is
    contracted, and each connected component of the contracted edges becomes one node
    (numbered by its smallest node).  Features of the new nodes: see
    :func:`merge_clusters`.  Returns ``(x, edge_index, batch, unpool_info)``.

    ``"log_softmax"`` normalises over all edges of the input at once (across the
    graphs of a batch, as the reference library does); its scores are never above its
    default threshold 0, so nothing is contracted unless ``threshold`` is lowered.

    Args:
        in_channels (int): size of each input sample.
        edge_score_method (str, optional): ``"tanh"``, ``"sigmoid"`` or
            ``"log_softmax"``. (default: ``"tanh"``)
        dropout (float, optional): dropout probability of the raw scores in training.
            (default: ``0.0``)
        threshold (float, optional): contraction threshold. (default: ``0.0`` for
            ``"tanh"`` and ``"log_softmax"``, ``0.5`` for ``"sigmoid"``)
    """

    def __init__(self, in_channels: int, edge_score_method: str = "tanh",
                 dropout: float = 0.0, threshold: Optional[float] = None):
        super().__init__()
        if edge_score_method not in _THRESHOLDS:
            raise ValueError(f"ClusterPooling: 'edge_score_method' must be one of "
                             f"{sorted(_THRESHOLDS)}, got {edge_score_method!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"ClusterPooling: 'dropout' must lie in [0, 1], got {dropout}")
        self.in_channels = in_channels
        self.edge_score_method = edge_score_method
        self.dropout = dropout
        self.threshold = _THRESHOLDS[edge_score_method] if threshold is None else threshold
        self.lin = Linear(2 * in_channels, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor
                ) -> Tuple[Tensor, Tensor, Tensor, UnpoolInfo]:
        """Score, contract and coarsen; see the class docstring for the outputs."""
        check_graph("ClusterPooling", x, edge_index, batch)
        edge_index = without_self_loops(edge_index)
        e = torch.cat([x[edge_index[0]], x[edge_index[1]]], dim=-1)
        e = self.lin(e).view(-1)
        e = F.dropout(e, p=self.dropout, training=self.training)
        if self.edge_score_method == "tanh":
            e = torch.tanh(e)
        elif self.edge_score_method == "sigmoid":
            e = torch.sigmoid(e)
        else:
            e = torch.log_softmax(e, dim=0)
        return merge_clusters(x, edge_index, batch, e, self.threshold)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels})"
