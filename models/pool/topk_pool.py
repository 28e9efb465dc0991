"""``TopKPooling``: keep the best-scoring nodes of every graph (Graph U-Nets).

The selection machinery here (:func:`topk`, :func:`filter_adj` and the scoring module
:class:`SelectTopK`) is shared by :class:`~gfx.nn.pool.SAGPooling`,
:class:`~gfx.nn.pool.ASAPooling` and :class:`~gfx.nn.pool.PANPooling`.

# NOTE [pooling in captured graphs]
How many nodes a pooling layer keeps depends on the data (the scores, the number of
nodes of every graph).  ``torch.fx`` cannot trace that, so the data-dependent steps are
functions declared with ``torch.fx.wrap``: :func:`topk` (which nodes stay) and
:func:`filter_adj` (which edges stay, renumbered).  A captured model holds one call to
each; they run as ordinary Python when the compiled graph runs, so the node count of
everything after a pooling layer is the run-time count, never a traced constant.  The
scoring and the feature gating around them are plain tensor ops and lower like any
other node-level computation.
"""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.nn import inits
from gfx.ops import scatter, segment_softmax
from gfx.ops._checks import is_tracing

__all__ = ["TopKPooling"]


def check_ratio(owner: str, ratio: Union[int, float], min_score: Optional[float]) -> None:
    """Refuse a pooling ratio that selects nothing (an int < 1 or a float outside (0, 1])."""
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)):
        raise TypeError(f"{owner}: 'ratio' must be an int or a float, got "
                        f"{type(ratio).__name__}")
    if min_score is None:
        if isinstance(ratio, int) and ratio < 1:
            raise ValueError(f"{owner}: an integer 'ratio' is the number of nodes to keep "
                             f"and must be >= 1, got {ratio}")
        if isinstance(ratio, float) and not 0.0 < ratio <= 1.0:
            raise ValueError(f"{owner}: a float 'ratio' must lie in (0, 1], got {ratio}")


def check_graph(owner: str, x: Tensor, edge_index: Tensor, batch: Optional[Tensor]) -> None:
    """Eager checks of node features, connectivity and batch vector of a pooling call."""
    if is_tracing(x, edge_index, batch):
        return
    if not isinstance(x, Tensor) or x.dim() != 2:
        raise ValueError(f"{owner}: 'x' must be a [num_nodes, channels] tensor, got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or \
            edge_index.shape[0] != 2:
        raise ValueError(f"{owner}: 'edge_index' must be a [2, num_edges] tensor, got "
                         f"{getattr(edge_index, 'shape', type(edge_index).__name__)}")
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{owner}: 'edge_index' must be int64 or int32, got "
                        f"{edge_index.dtype}")
    if edge_index.numel() and (int(edge_index.min()) < 0 or
                               int(edge_index.max()) >= x.shape[0]):
        raise IndexError(f"{owner}: 'edge_index' refers to node "
                         f"{int(edge_index.max())} or {int(edge_index.min())}, but 'x' "
                         f"has {x.shape[0]} nodes")
    if batch is not None:
        if batch.dim() != 1 or batch.numel() != x.shape[0]:
            raise ValueError(f"{owner}: 'batch' must have one entry per node "
                             f"({x.shape[0]}), got shape {list(batch.shape)}")
        if batch.numel() and int(batch.min()) < 0:
            raise ValueError(f"{owner}: 'batch' must not hold negative graph ids")


def topk(score: Tensor, ratio: Optional[Union[int, float]], batch: Tensor,
         min_score: Optional[float] = None, tol: float = 1e-7) -> Tensor:
    """The ids of the nodes that a top-:math:`k` pooling keeps, grouped by graph.

    Without ``min_score``, graph :math:`b` with :math:`N_b` nodes keeps its
    :math:`k_b = \\lceil \\mathrm{ratio} \\cdot N_b \\rceil` (float ``ratio``) or
    :math:`k_b = \\min(\\mathrm{ratio}, N_b)` (int ``ratio``) best-scoring nodes, in
    descending score order; the graphs follow each other in ascending id.  With
    ``min_score``, a node stays when its score exceeds
    :math:`\\min(\\tilde{\\alpha}, \\max_{b} \\mathrm{score} - \\mathrm{tol})`, so the
    best node of every graph always stays; those ids come in ascending node order.
    A float ``ratio`` of ``1.0`` keeps every node (the reference library reads any
    ``ratio >= 1`` as a node count, so its ``1.0`` keeps one node per graph).

    Args:
        score (Tensor): ``[N]`` node scores.
        ratio (int or float, optional): the pooling ratio (ignored with ``min_score``).
        batch (Tensor): ``[N]`` graph id of every node.
        min_score (float, optional): the score threshold. (default: ``None``)
        tol (float, optional): slack below each graph's best score. (default: ``1e-7``)
    """
    num_nodes = score.numel()
    if num_nodes == 0:
        return batch.new_zeros(0, dtype=torch.long)
    batch = batch.long()
    num_graphs = int(batch.max()) + 1
    if min_score is not None:
        best = scatter(score.detach(), batch, 0, num_graphs, "max").index_select(0, batch)
        threshold = (best - tol).clamp(max=min_score)
        return (score > threshold).nonzero().view(-1)
    counts = torch.bincount(batch, minlength=num_graphs)
    if isinstance(ratio, int) and not isinstance(ratio, bool):
        keep = counts.clamp(max=ratio)
    else:
        keep = (float(ratio) * counts.to(torch.float64)).ceil().long()
    # Descending score, then (stable) ascending graph: every graph's nodes are
    # contiguous and best-first; a node's rank is its position minus its graph's start.
    order = score.detach().argsort(descending=True, stable=True)
    order = order[batch[order].argsort(stable=True)]
    start = torch.cumsum(counts, 0) - counts
    rank = torch.arange(num_nodes, device=score.device) - start[batch[order]]
    return order[rank < keep[batch[order]]]


def filter_adj(edge_index: Tensor, edge_attr: Optional[Tensor], perm: Tensor,
               num_nodes: int) -> Tuple[Tensor, Optional[Tensor]]:
    """The edges between kept nodes, renumbered: :math:`\\mathbf{A}_{\\mathbf{i},\\mathbf{i}}`.

    Node ``perm[m]`` becomes node ``m``; an edge survives when both its ends are kept,
    and keeps its position relative to the other survivors.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor, optional): ``[E, ...]`` edge features. (default: ``None``)
        perm (Tensor): ``[K]`` ids of the kept nodes.
        num_nodes (int): the number of nodes before pooling.
    """
    new_id = torch.full((num_nodes,), -1, dtype=torch.long, device=edge_index.device)
    new_id[perm] = torch.arange(perm.numel(), device=edge_index.device)
    row, col = new_id[edge_index[0].long()], new_id[edge_index[1].long()]
    mask = (row >= 0) & (col >= 0)
    out = torch.stack([row[mask], col[mask]], 0).to(edge_index.dtype)
    return out, (edge_attr[mask] if edge_attr is not None else None)


torch.fx.wrap("topk")
torch.fx.wrap("filter_adj")


def resolve_nonlinearity(owner: str, nonlinearity: Union[str, Callable]) -> Callable:
    """A callable for ``nonlinearity``: itself, or the ``torch`` function of that name."""
    if callable(nonlinearity):
        return nonlinearity
    if isinstance(nonlinearity, str):
        fn = getattr(torch, nonlinearity, None) or \
            getattr(torch.nn.functional, nonlinearity, None)
        if callable(fn):
            return fn
    raise ValueError(f"{owner}: 'nonlinearity' must be a callable or the name of a torch "
                     f"function, got {nonlinearity!r}")


class SelectTopK(torch.nn.Module):
    """Scores nodes by a learnable projection and picks the top-:math:`k` of each graph.

    .. math::
        \\mathbf{y} = \\sigma\\left(\\frac{\\mathbf{X}\\mathbf{p}}{\\|\\mathbf{p}\\|}\\right)
        \\textrm{ or, with min\\_score, }
        \\mathbf{y} = \\mathrm{softmax}_{\\mathrm{graph}}(\\mathbf{X}\\mathbf{p})

    followed by :func:`topk`.  Used inside the pooling layers (its ``weight`` is their
    ``select.weight``); not exported.

    Args:
        in_channels (int): size of each node's input.
        ratio (int or float, optional): the pooling ratio. (default: ``0.5``)
        min_score (float, optional): the score threshold. (default: ``None``)
        act (str or callable, optional): :math:`\\sigma`. (default: ``"tanh"``)
    """

    def __init__(self, in_channels: int, ratio: Union[int, float] = 0.5,
                 min_score: Optional[float] = None, act: Union[str, Callable] = "tanh"):
        super().__init__()
        check_ratio("SelectTopK", ratio, min_score)
        self.in_channels = in_channels
        self.ratio = ratio
        self.min_score = min_score
        self.act = resolve_nonlinearity("SelectTopK", act)
        self.weight = torch.nn.Parameter(torch.empty(1, in_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        inits.uniform(self.in_channels, self.weight)

    def forward(self, x: Tensor, batch: Tensor) -> Tuple[Tensor, Tensor]:
        """``(perm, score)``: kept node ids and the (activated) scores of ALL nodes."""
        x = x.reshape(-1, self.in_channels)
        score = (x * self.weight).sum(dim=-1)
        if self.min_score is None:
            score = self.act(score / self.weight.norm(p=2, dim=-1))
        else:
            score = segment_softmax(score, index=batch)
        return topk(score, self.ratio, batch, self.min_score), score

    def __repr__(self) -> str:
        arg = f"ratio={self.ratio}" if self.min_score is None else \
            f"min_score={self.min_score}"
        return f"{type(self).__name__}({self.in_channels}, {arg})"


def pool_nodes(x: Tensor, score: Tensor, perm: Tensor, multiplier: float) -> Tensor:
    """:math:`(\\mathbf{X} \\odot \\mathbf{y})_{\\mathbf{i}}`, times ``multiplier``."""
    x = x[perm] * score[perm].view(-1, 1)
    return multiplier * x if multiplier != 1 else x


def default_batch(x: Tensor, batch: Optional[Tensor]) -> Tensor:
    """``batch``, or all zeros (one graph) when it is ``None``."""
    if batch is None:
        return torch.zeros(x.size(0), dtype=torch.long, device=x.device)
    return batch


class TopKPooling(torch.nn.Module):
    """The :math:`\\mathrm{top}_k` pooling operator of "Graph U-Nets", "Towards Sparse
    Hierarchical Graph Classifiers" and "Understanding Attention and Generalization in
    Graph Neural Networks".

    Without ``min_score``:

    .. math::
        \\mathbf{y} = \\sigma\\left(\\frac{\\mathbf{X}\\mathbf{p}}{\\|\\mathbf{p}\\|}\\right),
        \\quad \\mathbf{i} = \\mathrm{top}_k(\\mathbf{y}), \\quad
        \\mathbf{X}' = (\\mathbf{X} \\odot \\mathbf{y})_{\\mathbf{i}}, \\quad
        \\mathbf{A}' = \\mathbf{A}_{\\mathbf{i},\\mathbf{i}}

    with :math:`\\sigma` = ``nonlinearity`` and :math:`k` per graph (see :func:`topk`).
    With ``min_score`` :math:`\\tilde{\\alpha}`:
    :math:`\\mathbf{y} = \\mathrm{softmax}(\\mathbf{X}\\mathbf{p})` (not divided by
    :math:`\\|\\mathbf{p}\\|`) within each graph and :math:`\\mathbf{i} =
    \\{i : y_i > \\tilde{\\alpha}\\}` (the best node of each graph always stays).
    The projection :math:`\\mathbf{p}` is
    ``select.weight``.  With ``attn``, scores are computed from ``attn`` instead of ``x``.

    Returns ``(x, edge_index, edge_attr, batch, perm, score)``: pooled features, the
    renumbered edges between kept nodes, their attributes, the kept nodes' batch vector,
    the kept node ids ``perm`` and their scores ``y[perm]``.  In a captured model the
    node selection is a run-time call (see NOTE [pooling in captured graphs]).

    Args:
        in_channels (int): size of each input sample.
        ratio (int or float, optional): float: keep :math:`\\lceil \\mathrm{ratio} \\cdot
            N \\rceil` nodes per graph (a float must lie in (0, 1]; the reference reads
            a float ``ratio >= 1`` as a node count, gfx asks for an int); int: keep
            ``ratio`` nodes. Ignored with ``min_score``. (default: ``0.5``)
        min_score (float, optional): score threshold :math:`\\tilde{\\alpha}`.
            (default: ``None``)
        multiplier (float, optional): factor applied to the pooled features.
            (default: ``1.0``)
        nonlinearity (str or callable, optional): :math:`\\sigma`. (default: ``"tanh"``)
    """

    def __init__(self, in_channels: int, ratio: Union[int, float] = 0.5,
                 min_score: Optional[float] = None, multiplier: float = 1.0,
                 nonlinearity: Union[str, Callable] = "tanh"):
        super().__init__()
        check_ratio("TopKPooling", ratio, min_score)
        self.in_channels = in_channels
        self.ratio = ratio
        self.min_score = min_score
        self.multiplier = multiplier
        self.select = SelectTopK(in_channels, ratio, min_score,
                                 resolve_nonlinearity("TopKPooling", nonlinearity))

    def reset_parameters(self) -> None:
        self.select.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                batch: Optional[Tensor] = None, attn: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor, Optional[Tensor], Tensor, Tensor, Tensor]:
        """Pool ``x`` ``[N, F]`` and its graph; see the class docstring for the outputs."""
        check_graph("TopKPooling", x, edge_index, batch)
        batch = default_batch(x, batch)
        perm, score = self.select(x if attn is None else attn, batch)
        out = pool_nodes(x, score, perm, self.multiplier)
        edge_index, edge_attr = filter_adj(edge_index, edge_attr, perm, x.size(0))
        return out, edge_index, edge_attr, batch[perm], perm, score[perm]

    def __repr__(self) -> str:
        arg = f"ratio={self.ratio}" if self.min_score is None else \
            f"min_score={self.min_score}"
        return f"{type(self).__name__}({self.in_channels}, {arg}, " \
            f"multiplier={self.multiplier})"

