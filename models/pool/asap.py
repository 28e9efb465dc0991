"""``ASAPooling``: adaptive structure aware pooling (Ranjan et al., AAAI 2020)."""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.conv.le_conv import LEConv
from gfx.nn.dense.linear import Linear
from gfx.nn.pool.topk_pool import SelectTopK, check_graph, check_ratio, default_batch
from gfx.ops import scatter, segment_softmax
from gfx.utils import add_remaining_self_loops, coalesce

__all__ = ["ASAPooling"]


def _join(row_a: Tensor, col_a: Tensor, val_a: Tensor, row_b: Tensor, col_b: Tensor,
          val_b: Tensor, num_mid: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Uncoalesced entries of the product of two sparse matrices in coordinate form:
    every pair of an entry ``(r, m)`` of A and an entry ``(m, c)`` of B gives
    ``(r, c, a * b)``."""
    order = row_b.argsort(stable=True)
    row_b, col_b, val_b = row_b[order], col_b[order], val_b[order]
    count = torch.bincount(row_b, minlength=num_mid)
    start = torch.cumsum(count, 0) - count
    reps = count[col_a]
    pair_a = torch.repeat_interleave(torch.arange(col_a.numel(), device=col_a.device), reps)
    first = torch.cumsum(reps, 0) - reps
    pos = torch.arange(pair_a.numel(), device=col_a.device) - first[pair_a]
    pair_b = start[col_a[pair_a]] + pos
    return row_a[pair_a], col_b[pair_b], val_a[pair_a] * val_b[pair_b]


def coarsen(edge_index: Tensor, edge_weight: Tensor, score: Tensor, perm: Tensor,
            num_nodes: int, add_self_loops: bool) -> Tuple[Tensor, Tensor]:
    """The pooled adjacency :math:`\\mathbf{S}^{\\top} \\mathbf{A} \\mathbf{S}` with
    :math:`S_{jk} = ` the score of edge ``j -> perm[k]``, sorted by (row, column);
    diagonal removed, or (``add_self_loops``) completed: a node without a diagonal entry
    gets one of value 1."""
    k = perm.numel()
    new_id = torch.full((num_nodes,), -1, dtype=torch.long, device=edge_index.device)
    new_id[perm] = torch.arange(k, device=edge_index.device)
    src, dst = edge_index[0].long(), edge_index[1].long()
    keep = new_id[dst] >= 0
    s_row, s_col, s_val = src[keep], new_id[dst[keep]], score[keep]
    # A S: entries (a, l) from A's (a, b) and S's (b, l).
    r1, c1, v1 = _join(src, dst, edge_weight, s_row, s_col, s_val, num_nodes)
    # S^T (A S): entries (k, l) from S^T's (k, a) and (A S)'s (a, l).
    row, col, val = _join(s_col, s_row, s_val, r1, c1, v1, num_nodes)
    edge_index, val = coalesce(torch.stack([row, col]), val, k)
    loop = edge_index[0] == edge_index[1]
    if add_self_loops:
        # Every node gets a loop: an existing diagonal entry keeps its value, else 1.
        loop_val = val.new_ones(k).index_put((edge_index[0][loop],), val[loop])
        nodes = torch.arange(k, device=edge_index.device)
        edge_index = torch.cat([edge_index[:, ~loop], torch.stack([nodes, nodes])], 1)
        return coalesce(edge_index, torch.cat([val[~loop], loop_val]), k)
    return edge_index[:, ~loop], val[~loop]


def remaining_self_loops(edge_index: Tensor, edge_weight: Tensor, num_nodes: int
                         ) -> Tuple[Tensor, Tensor]:
    """:func:`gfx.utils.add_remaining_self_loops` with fill value 1, as one run-time call
    in captured graphs (its output size depends on the data)."""
    return add_remaining_self_loops(edge_index, edge_weight, 1.0, num_nodes)


torch.fx.wrap("coarsen")
torch.fx.wrap("remaining_self_loops")


class ASAPooling(torch.nn.Module):
    """The Adaptive Structure Aware Pooling operator of "ASAP: Adaptive Structure Aware
    Pooling for Learning Hierarchical Graph Representations".

    Every node :math:`i` forms a cluster of itself and its in-neighbours
    :math:`\\mathcal{N}(i)`, after ``add_remaining_self_loops`` (one loop per node: weight 1,
    or that of an existing loop, whose duplicates collapse into it).  With
    :math:`\\mathbf{x}^{c}` the node features (or ``GNN``'s output when given):

    .. math::
        \\mathbf{m}_i &= \\mathbf{W} \\max_{j \\in \\mathcal{N}(i)} \\mathbf{x}^{c}_j + \\mathbf{b},
        \\quad
        \\alpha_{ji} = \\mathrm{softmax}_i\\left(\\mathrm{LeakyReLU}\\left(
        \\mathbf{a}^{\\top}[\\mathbf{m}_i \\,\\Vert\\, \\mathbf{x}^{c}_j] + c\\right)\\right)

        \\mathbf{x}'_i &= \\sum_{j \\in \\mathcal{N}(i)} \\alpha_{ji} \\mathbf{x}_j, \\quad
        \\phi_i = \\sigma(\\mathrm{LEConv}(\\mathbf{X}', \\mathbf{A})_i)

    (``lin`` holds :math:`\\mathbf{W}, \\mathbf{b}`; ``att`` holds :math:`\\mathbf{a}, c`;
    ``gnn_score`` is the LEConv; :math:`\\sigma` the logistic sigmoid).  The clusters
    with the top-:math:`k` fitness :math:`\\phi` per graph are kept, as
    :math:`\\phi_i \\mathbf{x}'_i`.  Like the reference, the ranking passes the
    one-channel ``select.weight`` :math:`w` (:math:`\\tanh(\\mathrm{sign}(w)\\,\\phi)`).
    The new adjacency is :math:`\\mathbf{S}^{\\top} \\mathbf{A} \\mathbf{S}` with
    :math:`S_{jk} = \\alpha_{j,\\mathrm{perm}_k}`, diagonal removed (with
    ``add_self_loops``: kept, and set to 1 where it is empty), its edges sorted by
    (row, column) (the reference library's order within a row may differ).  Returns
    ``(x, edge_index, edge_weight, batch, perm)``; as in the reference, the returned
    ``edge_weight`` is ``None`` when no ``edge_weight`` was given (the pooled graph is
    then read as unweighted).

    Args:
        in_channels (int): size of each input sample.
        ratio (float or int, optional): float: keep :math:`\\lceil \\mathrm{ratio}
            \\cdot N \\rceil` clusters per graph; int: keep ``ratio``. (default: ``0.5``)
        GNN (type, optional): a convolution taking ``edge_weight`` (e.g.
            :class:`~gfx.nn.conv.GraphConv`, :class:`~gfx.nn.conv.GCNConv`), built as
            ``GNN(in_channels, in_channels, **kwargs)``, that computes
            :math:`\\mathbf{x}^{c}`. (default: ``None``)
        dropout (float, optional): dropout of :math:`\\alpha` in training.
            (default: ``0.0``)
        negative_slope (float, optional): LeakyReLU slope. (default: ``0.2``)
        add_self_loops (bool, optional): give every pooled node a self-loop (weight 1
            unless :math:`\\mathbf{S}^{\\top} \\mathbf{A} \\mathbf{S}` has one).
            (default: ``False``)
        **kwargs: further arguments of ``GNN``.
    """

    def __init__(self, in_channels: int, ratio: Union[float, int] = 0.5,
                 GNN: Optional[Callable] = None, dropout: float = 0.0,
                 negative_slope: float = 0.2, add_self_loops: bool = False, **kwargs):
        super().__init__()
        check_ratio("ASAPooling", ratio, None)
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"ASAPooling: 'dropout' must lie in [0, 1], got {dropout}")
        self.in_channels = in_channels
        self.ratio = ratio
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.GNN = GNN
        self.add_self_loops = add_self_loops
        self.lin = Linear(in_channels, in_channels, bias=True)
        self.att = Linear(2 * in_channels, 1, bias=True)
        self.gnn_score = LEConv(in_channels, 1)
        self.gnn_intra_cluster = GNN(in_channels, in_channels, **kwargs) \
            if GNN is not None else None
        self.select = SelectTopK(1, ratio)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()
        self.att.reset_parameters()
        self.gnn_score.reset_parameters()
        if self.gnn_intra_cluster is not None:
            self.gnn_intra_cluster.reset_parameters()
        self.select.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                batch: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor, Optional[Tensor], Tensor, Tensor]:
        """Pool ``x`` ``[N, F]``; see the class docstring for the outputs."""
        check_graph("ASAPooling", x, edge_index, batch)
        num_nodes = x.size(0)
        weighted = edge_weight is not None
        if edge_weight is None:
            edge_weight = x.new_ones(edge_index.size(1))
        edge_index, edge_weight = remaining_self_loops(edge_index, edge_weight, num_nodes)
        batch = default_batch(x, batch)
        x_pool = x
        if self.gnn_intra_cluster is not None:
            x_pool = self.gnn_intra_cluster(x, edge_index, edge_weight)
        src, dst = edge_index[0], edge_index[1]
        x_pool_j = x_pool[src]
        x_q = scatter(x_pool_j, dst, 0, num_nodes, "max")
        x_q = self.lin(x_q)[dst]
        score = self.att(torch.cat([x_q, x_pool_j], dim=-1)).view(-1)
        score = F.leaky_relu(score, self.negative_slope)
        score = segment_softmax(score, index=dst, num_segments=num_nodes)
        score = F.dropout(score, p=self.dropout, training=self.training)
        x = scatter(x[src] * score.view(-1, 1), dst, 0, num_nodes, "sum")
        fitness = self.gnn_score(x, edge_index).sigmoid().view(-1)
        perm, _ = self.select(fitness, batch)
        x = x[perm] * fitness[perm].view(-1, 1)
        edge_index, edge_weight = coarsen(edge_index, edge_weight, score, perm, num_nodes,
                                          self.add_self_loops)
        return x, edge_index, edge_weight if weighted else None, batch[perm], perm

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, ratio={self.ratio})"
