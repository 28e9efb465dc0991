"""``LPFormer``: link prediction with an adaptive, PPR-guided pairwise attention
("LPFormer: An Adaptive Graph Transformer for Link Prediction", Shomer et al., KDD 2024)."""
from __future__ import annotations

import math
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import LayerNorm, Linear, ModuleList, Parameter

from gfx.nn import inits
from gfx.nn.models.basic_gnn import GCN
from gfx.utils import is_torch_sparse_tensor, is_tracing, scatter, softmax

__all__ = ["LPFormer"]

_DEFAULT_THRESHOLDS = (0, 1e-4, 1e-2)


class _MLP(torch.nn.Module):
    """``Linear -> [LayerNorm] -> ReLU -> dropout -> Linear``; a trailing dimension of
    size one is squeezed away."""

    def __init__(self, in_channels: int, hid_channels: int, out_channels: int,
                 num_layers: int = 2, drop: float = 0.0, norm: Optional[str] = "layer"):
        super().__init__()
        self.dropout = drop
        self.norm = LayerNorm(hid_channels) if norm == "layer" else None
        dims = [in_channels] + [hid_channels] * (num_layers - 1) + [out_channels]
        self.linears = ModuleList(Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def reset_parameters(self) -> None:
        for lin in self.linears:
            lin.reset_parameters()
        if self.norm is not None:
            self.norm.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        for lin in self.linears[:-1]:
            x = lin(x)
            if self.norm is not None:
                x = self.norm(x)
            x = F.dropout(x.relu(), p=self.dropout, training=self.training)
        return self.linears[-1](x).squeeze(-1)


class LPAttLayer(torch.nn.Module):
    """Attention of a target link :math:`(a, b)` over the nodes :math:`u` in its
    context, with relative positional encodings :math:`\\mathbf{r}_{abu}`:

    .. math::
        \\mathbf{v}_{u} &= \\mathbf{W}_r [\\mathbf{h}_u \\Vert \\mathbf{r}_{abu}]
        + \\mathbf{b}_r, \\qquad
        e_{abu} = \\mathbf{a}^\\top \\mathrm{LeakyReLU}\\big((\\mathbf{W}_l
        \\mathbf{h}_a + \\mathbf{W}_l \\mathbf{h}_b + 2\\mathbf{b}_l) \\odot
        \\mathbf{v}_u\\big) \\\\
        \\mathbf{s}_{ab} &= \\mathrm{LayerNorm}\\Big(\\sum_u \\mathrm{softmax}_u(e_{abu})
        \\, \\mathbf{v}_u + \\mathbf{b}\\Big)

    followed by dropout of :math:`\\mathbf{s}_{ab}` (the attention weights themselves
    are not dropped).
    """

    def __init__(self, channels: int, dropout: float, negative_slope: float = 0.2):
        super().__init__()
        self.channels = channels
        self.dropout = dropout
        self.negative_slope = negative_slope
        self.lin_l = Linear(channels, channels)
        self.lin_r = Linear(2 * channels, channels)
        self.att = Parameter(torch.empty(1, 1, channels))
        self.bias = Parameter(torch.empty(channels))
        self.post_att_norm = LayerNorm(channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        inits.glorot(self.lin_l.weight)
        inits.zeros(self.lin_l.bias)
        inits.glorot(self.lin_r.weight)
        inits.zeros(self.lin_r.bias)
        inits.glorot(self.att)
        inits.zeros(self.bias)
        self.post_att_norm.reset_parameters()

    def forward(self, pairs: Tensor, h_src: Tensor, h_dst: Tensor, x: Tensor,
                rpe: Tensor) -> Tensor:
        """``pairs = [link, node]`` ``[2, K]``; ``h_src``, ``h_dst`` ``[B, C]``; ``x``
        ``[N, C]``; ``rpe`` ``[K, C]`` -> ``[B, C]``."""
        link, node = pairs[0], pairs[1]
        value = self.lin_r(torch.cat([x[node], rpe], dim=-1))
        query = self.lin_l(h_src)[link] + self.lin_l(h_dst)[link]
        logit = F.leaky_relu(query * value, self.negative_slope)
        logit = (logit * self.att.view(1, -1)).sum(dim=-1)
        alpha = softmax(logit, link, num_nodes=h_src.size(0))
        out = scatter(alpha.unsqueeze(-1) * value, link, dim=0, dim_size=h_src.size(0),
                      reduce="sum")
        out = self.post_att_norm(out + self.bias)
        return F.dropout(out, p=self.dropout, training=self.training)


class LPFormer(torch.nn.Module):
    """The LPFormer link predictor.

    A GCN gives node embeddings :math:`\\mathbf{h}` (then a LayerNorm).  For each target
    link :math:`(a, b)` the context nodes are split by their relation to the pair and
    kept only where both personalised PageRank scores :math:`p_{au}, p_{bu}` reach the
    class's threshold (``ppr_thresholds``):

    * common neighbours (CN): :math:`u \\in \\mathcal{N}(a) \\cap \\mathcal{N}(b)`;
    * one-hop nodes: neighbours of exactly one of :math:`a, b`;
    * the others (:math:`a` and :math:`b` included when not adjacent).

    Each context node gets the symmetric relative positional encoding
    :math:`\\mathbf{r}_{abu} = \\phi_c([p_{au}, p_{bu}]) + \\phi_c([p_{bu}, p_{au}])`
    with one MLP :math:`\\phi_c` per class, the pair attends over its context
    (:class:`LPAttLayer`) giving :math:`\\mathbf{s}_{ab}`, and

    .. math::
        \\mathbf{z}_{ab} &= \\mathrm{MLP}_{pair}\\big(\\mathbf{s}_{ab} \\Vert
        [n_{cn}, n_{1hop}, n_{other}, n_{cn} + n_{1hop}]\\big) \\\\
        \\mathrm{score}(a, b) &= \\mathrm{MLP}_{score}\\big(\\mathrm{MLP}_{el}
        (\\mathbf{h}_a \\odot \\mathbf{h}_b) \\Vert \\mathbf{z}_{ab}\\big)

    with :math:`n_c` the number of context nodes of each class.  The graph is taken as
    undirected (:math:`\\mathcal{N}(a)` is row :math:`a` of the adjacency).  Context
    masks are computed densely per link (``[B, N]`` booleans; no ``[N, N]`` buffer in
    eager mode).  The output is a logit
    per link.

    Unlike the reference, which crashes on them, ``num_heads > 1`` and
    ``num_transformer_layers > 1`` raise a clear error.

    In training mode, as in the reference, (i) the PPR scores :math:`p_{ab}, p_{ba}` of
    every target pair in the batch count as zero when selecting the "other" context
    nodes (so a training edge does not see itself), and (ii) with
    ``transformer_dropout`` :math:`= q > 0` each class keeps a random
    :math:`\\lceil (1 - q) K \\rceil` of its :math:`K` context pairs, the counts
    :math:`n_c` being taken after that drop.  (i) is checked against the reference;
    (ii) draws its random pairs differently, so it agrees in distribution only.  Under
    capture (:func:`gfx.compile`) step (ii) is skipped.

    Args:
        in_channels (int): size of each input node feature.
        hidden_channels (int): hidden size.
        num_gnn_layers (int, optional): GCN layers. (default: ``2``)
        gnn_dropout (float, optional): dropout of the input features and in the GCN.
            (default: ``0.1``)
        num_transformer_layers (int, optional): attention layers (only ``1``).
            (default: ``1``)
        num_heads (int, optional): attention heads (only ``1``). (default: ``1``)
        transformer_dropout (float, optional): dropout of the attention output
            :math:`\\mathbf{s}_{ab}`. (default: ``0.1``)
        ppr_thresholds (list, optional): PPR thresholds of the CN, one-hop and other
            context nodes; ``None`` means ``[0, 1e-4, 1e-2]``. (default: ``None``)
        gcn_cache (bool, optional): cache the GCN normalisation. (default: ``False``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_gnn_layers: int = 2,
                 gnn_dropout: float = 0.1, num_transformer_layers: int = 1,
                 num_heads: int = 1, transformer_dropout: float = 0.1,
                 ppr_thresholds: Optional[List[float]] = None, gcn_cache: bool = False):
        super().__init__()
        thresholds = list(_DEFAULT_THRESHOLDS if ppr_thresholds is None
                          else ppr_thresholds)
        if len(thresholds) != 3:
            raise ValueError(f"LPFormer: 'ppr_thresholds' must have 3 entries (CN, "
                             f"one-hop, other), got {len(thresholds)}")
        if num_heads != 1:
            raise ValueError(f"LPFormer: only 'num_heads=1' is supported, got {num_heads}")
        if num_transformer_layers != 1:
            raise ValueError(f"LPFormer: only 'num_transformer_layers=1' is supported, got "
                             f"{num_transformer_layers}")
        self.thresh_cn, self.thresh_1hop, self.thresh_non1hop = thresholds
        self.in_dim = in_channels
        self.hid_dim = hidden_channels
        self.gnn_drop = gnn_dropout
        self.trans_drop = transformer_dropout
        self.out_dim = hidden_channels
        self.num_gnn_layers = num_gnn_layers
        self.num_transformer_layers = num_transformer_layers
        self.mask = "all"
        h = hidden_channels
        self.gnn = GCN(in_channels, h, num_gnn_layers, dropout=gnn_dropout,
                       norm="layer_norm", cached=gcn_cache)
        self.gnn_norm = LayerNorm(h)
        self.att_layers = ModuleList([LPAttLayer(h, transformer_dropout)])
        self.elementwise_lin = _MLP(h, h, h)
        self.ppr_encoder_cn = _MLP(2, h, h)
        self.ppr_encoder_onehop = _MLP(2, h, h)
        self.ppr_encoder_non1hop = _MLP(2, h, h)
        self.pairwise_lin = _MLP(h + 4, h + 4, h)
        self.score_func = _MLP(2 * h, 2 * h, 1, norm=None)

    def reset_parameters(self) -> None:
        """Re-initialises every layer."""
        for module in self.children():
            if isinstance(module, ModuleList):
                for m in module:
                    m.reset_parameters()
            else:
                module.reset_parameters()

    def forward(self, batch: Tensor, x: Tensor, edge_index: Tensor,
                ppr_matrix: Tensor) -> Tensor:
        """Logits ``[B]`` of the target links ``batch`` ``[2, B]``; ``ppr_matrix`` is the
        ``[N, N]`` (sparse or dense) personalised PageRank matrix, row :math:`a` holding
        :math:`p_{a\\cdot}`."""
        n = x.size(0)
        if not is_tracing(batch, x, edge_index, ppr_matrix):
            if batch.dim() != 2 or batch.size(0) != 2:
                raise ValueError(f"LPFormer: 'batch' must hold target links [2, B], got "
                                 f"{tuple(batch.shape)}")
            if tuple(ppr_matrix.shape) != (n, n):
                raise ValueError(f"LPFormer: 'ppr_matrix' must be [N, N] = [{n}, {n}], "
                                 f"got {tuple(ppr_matrix.shape)}")
            if is_torch_sparse_tensor(edge_index):
                edge_index = edge_index.coalesce().indices()
        x = F.dropout(x, p=self.gnn_drop, training=self.training)
        h = self.gnn_norm(self.gnn(x, edge_index))
        src, dst = batch[0], batch[1]
        h_src, h_dst = h[src], h[dst]
        elementwise = self.elementwise_lin(h_src * h_dst)

        pairs, rpe, counts = self._context(src, dst, edge_index, ppr_matrix, n)
        pairwise = self.att_layers[0](pairs, h_src, h_dst, h, rpe)
        pairwise = self.pairwise_lin(torch.cat([pairwise, counts], dim=-1))
        return self.score_func(torch.cat([elementwise, pairwise], dim=-1))

    def _context(self, src: Tensor, dst: Tensor, edge_index: Tensor, ppr: Tensor,
                 n: int) -> Tuple[Tensor, Tensor, Tensor]:
        """The ``[2, K]`` (link, node) context pairs, their encodings ``[K, C]`` and the
        ``[B, 4]`` class counts."""
        tracing = is_tracing(src, edge_index, ppr)
        near_a = _incidence_rows(edge_index[0], edge_index[1], n, src, tracing)
        near_b = _incidence_rows(edge_index[0], edge_index[1], n, dst, tracing)
        if tracing:     # a captured graph takes the PPR matrix dense
            ppr_a, ppr_b = ppr[src], ppr[dst]
        else:
            ppr_a, ppr_b = _rows(ppr, src), _rows(ppr, dst)
        low = torch.minimum(ppr_a, ppr_b)
        far_a, far_b = ppr_a, ppr_b
        if self.training:
            # the target pairs' own PPR scores are hidden from the "other" class
            rows, cols = torch.cat([src, dst]), torch.cat([dst, src])
            far_a = ppr_a.masked_fill(_incidence_rows(rows, cols, n, src, tracing), 0.0)
            far_b = ppr_b.masked_fill(_incidence_rows(rows, cols, n, dst, tracing), 0.0)
        far_low = torch.minimum(far_a, far_b)
        classes = (
            (near_a & near_b & (low >= self.thresh_cn), self.ppr_encoder_cn, ppr_a, ppr_b),
            ((near_a ^ near_b) & (low >= self.thresh_1hop), self.ppr_encoder_onehop,
             ppr_a, ppr_b),
            (~(near_a | near_b) & (far_low >= self.thresh_non1hop),
             self.ppr_encoder_non1hop, far_a, far_b),
        )
        pairs, rpes, counts = [], [], []
        for mask, encoder, rows_a, rows_b in classes:
            found = mask.nonzero().t()
            if self.training and self.trans_drop > 0 and not is_tracing(found):
                found = _drop_pairs(found, self.trans_drop)
            link, node = found[0], found[1]
            p_a, p_b = rows_a[link, node], rows_b[link, node]
            rpes.append(encoder(torch.stack([p_a, p_b], dim=-1)) +
                        encoder(torch.stack([p_b, p_a], dim=-1)))
            pairs.append(torch.stack([link, node]))
            counts.append(torch.zeros_like(src, dtype=ppr_a.dtype).index_add(
                0, link, torch.ones_like(link, dtype=ppr_a.dtype)))
        counts.append(counts[0] + counts[1])
        counts = torch.stack(counts, dim=-1)
        return torch.cat(pairs, dim=1), torch.cat(rpes, dim=0), counts

    def calc_sparse_ppr(self, edge_index: Tensor, num_nodes: int, alpha: float = 0.15,
                        eps: float = 5e-5) -> Tensor:
        """The approximate personalised PageRank matrix ``[num_nodes, num_nodes]``
        (sparse COO, row :math:`a` holding :math:`p_{a\\cdot}`) that :meth:`forward`
        takes, by the push method of Andersen, Chung and Lang (2006) from every node.

        Each push moves :math:`\\alpha r_u` of a node's residual into its score and
        spreads the rest evenly over its neighbours, until every residual is below
        :math:`\\epsilon \\deg(u)`; scores under-estimate the exact PPR by at most
        :math:`\\epsilon \\sum_u \\deg(u)` per row.  Duplicate edges count as
        multi-edges.  Pure Python, for small and medium graphs.

        Args:
            edge_index (torch.Tensor): the (undirected) edges ``[2, E]``.
            num_nodes (int): the number of nodes.
            alpha (float, optional): the teleport probability. (default: ``0.15``)
            eps (float, optional): the residual tolerance. (default: ``5e-5``)
        """
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"LPFormer: 'alpha' must be in (0, 1], got {alpha}")
        if eps <= 0.0:
            raise ValueError(f"LPFormer: 'eps' must be positive, got {eps}")
        neighbours: List[List[int]] = [[] for _ in range(num_nodes)]
        for i, j in edge_index.t().tolist():
            neighbours[i].append(j)
        rows, cols, vals = [], [], []
        for source in range(num_nodes):
            scores = _push(neighbours, source, alpha, eps)
            for node, value in scores.items():
                rows.append(source)
                cols.append(node)
                vals.append(value)
        index = torch.tensor([rows, cols], dtype=torch.long, device=edge_index.device)
        values = torch.tensor(vals, dtype=torch.float, device=edge_index.device)
        return torch.sparse_coo_tensor(index, values, (num_nodes, num_nodes)).coalesce()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_dim}, {self.hid_dim}, "
                f"num_gnn_layers={self.num_gnn_layers}, "
                f"num_transformer_layers={self.num_transformer_layers})")


def _incidence_rows(row: Tensor, col: Tensor, n: int, index: Tensor,
                    tracing: bool) -> Tensor:
    """``[len(index), n]`` booleans: is there a pair ``(index[k], u)`` among ``(row,
    col)``?  Through a sparse matrix in eager mode (no ``[n, n]`` buffer); densely when
    captured."""
    if tracing:
        full = index.new_zeros((n, n), dtype=torch.bool).index_put(
            (row, col), torch.ones_like(row, dtype=torch.bool))
        return full[index]
    ones = torch.ones(row.numel(), device=row.device)
    matrix = torch.sparse_coo_tensor(torch.stack([row, col]), ones, (n, n))
    return matrix.coalesce().index_select(0, index).to_dense() > 0


def _rows(matrix: Tensor, index: Tensor) -> Tensor:
    """Dense rows ``matrix[index]`` of a dense or sparse matrix."""
    if matrix.is_sparse:
        return matrix.index_select(0, index).to_dense()
    if matrix.layout != torch.strided:
        return matrix.to_dense()[index]
    return matrix[index]


def _push(neighbours: List[List[int]], source: int, alpha: float, eps: float) -> dict:
    """Approximate PPR scores of one source node (push method, see ``calc_sparse_ppr``)."""
    scores: dict = {}
    residual = {source: 1.0}
    queue, queued = [source], {source}
    while queue:
        u = queue.pop()
        queued.discard(u)
        r = residual.get(u, 0.0)
        degree = len(neighbours[u])
        if r < eps * max(degree, 1):
            continue
        scores[u] = scores.get(u, 0.0) + alpha * r
        residual[u] = 0.0
        if degree == 0:
            continue
        share = (1.0 - alpha) * r / degree
        for v in neighbours[u]:
            residual[v] = residual.get(v, 0.0) + share
            if v not in queued and residual[v] >= eps * max(len(neighbours[v]), 1):
                queue.append(v)
                queued.add(v)
    return scores



def _drop_pairs(pairs: Tensor, p: float) -> Tensor:
    """A random ``ceil((1 - p) K)`` of the ``K`` context pairs (training only)."""
    num = pairs.size(1)
    keep = torch.randperm(num, device=pairs.device)[:math.ceil(num * (1.0 - p))]
    return pairs[:, keep]
