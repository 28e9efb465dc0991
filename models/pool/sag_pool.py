"""``SAGPooling``: top-:math:`k` pooling with scores from a graph convolution."""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.nn.conv.graph_conv import GraphConv
from gfx.nn.pool.topk_pool import (SelectTopK, check_graph, check_ratio, default_batch,
                                   filter_adj, pool_nodes, resolve_nonlinearity)

__all__ = ["SAGPooling"]

# Imported run-time steps stay single calls in captured graphs here too (torch.fx.wrap
# patches one module's globals; NOTE [pooling in captured graphs] in topk_pool.py).
torch.fx.wrap("filter_adj")


class SAGPooling(torch.nn.Module):
    """The self-attention pooling operator of "Self-Attention Graph Pooling" and
    "Understanding Attention and Generalization in Graph Neural Networks".

    Without ``min_score``:

    .. math::
        \\mathbf{y} = \\sigma(s \\cdot \\textrm{GNN}(\\mathbf{X}, \\mathbf{A})), \\quad
        \\mathbf{i} = \\mathrm{top}_k(\\mathbf{y}), \\quad
        \\mathbf{X}' = (\\mathbf{X} \\odot \\mathbf{y})_{\\mathbf{i}}, \\quad
        \\mathbf{A}' = \\mathbf{A}_{\\mathbf{i},\\mathbf{i}}

    With ``min_score`` :math:`\\tilde{\\alpha}`:
    :math:`\\mathbf{y} = \\mathrm{softmax}(w \\cdot \\textrm{GNN}(\\mathbf{X},
    \\mathbf{A}))` within each graph and :math:`\\mathbf{i} = \\{i : y_i >
    \\tilde{\\alpha}\\}` (the best node of each graph always stays).

    ``GNN`` maps ``in_channels`` to one score per node.  Like the reference, the score
    then passes the one-channel projection ``select.weight`` :math:`w` of
    :class:`~gfx.nn.pool.topk_pool.SelectTopK`: :math:`s = w / |w| = \\pm 1`, so a
    negative :math:`w` ranks the nodes by :math:`-\\textrm{GNN}`; under ``min_score``
    the softmax sees :math:`w \\cdot \\textrm{GNN}`.  The ``edge_attr`` are filtered to
    the kept edges but not given to ``GNN``.  With ``attn``, ``GNN`` reads ``attn``
    instead of ``x``.  Returns ``(x, edge_index, edge_attr, batch, perm, score)`` as
    :class:`~gfx.nn.pool.TopKPooling` does.

    Args:
        in_channels (int): size of each input sample.
        ratio (int or float, optional): float: keep :math:`\\lceil \\mathrm{ratio} \\cdot
            N \\rceil` nodes per graph; int: keep ``ratio`` nodes. Ignored with
            ``min_score``. (default: ``0.5``)
        GNN (type, optional): the convolution class, built as
            ``GNN(in_channels, 1, **kwargs)``. (default: :class:`~gfx.nn.conv.GraphConv`)
        min_score (float, optional): score threshold :math:`\\tilde{\\alpha}`.
            (default: ``None``)
        multiplier (float, optional): factor applied to the pooled features.
            (default: ``1.0``)
        nonlinearity (str or callable, optional): :math:`\\sigma`. (default: ``"tanh"``)
        **kwargs: further arguments of ``GNN``.
    """

    def __init__(self, in_channels: int, ratio: Union[float, int] = 0.5,
                 GNN: type = GraphConv, min_score: Optional[float] = None,
                 multiplier: float = 1.0, nonlinearity: Union[str, Callable] = "tanh",
                 **kwargs):
        super().__init__()
        check_ratio("SAGPooling", ratio, min_score)
        if not callable(GNN):
            raise TypeError(f"SAGPooling: 'GNN' must be a layer class, got {GNN!r}")
        self.in_channels = in_channels
        self.ratio = ratio
        self.min_score = min_score
        self.multiplier = multiplier
        self.gnn = GNN(in_channels, 1, **kwargs)
        self.select = SelectTopK(1, ratio, min_score,
                                 resolve_nonlinearity("SAGPooling", nonlinearity))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.gnn.reset_parameters()
        self.select.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                batch: Optional[Tensor] = None, attn: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor, Optional[Tensor], Tensor, Tensor, Tensor]:
        """Pool ``x`` ``[N, F]`` and its graph; see the class docstring for the outputs."""
        check_graph("SAGPooling", x, edge_index, batch)
        batch = default_batch(x, batch)
        attn = x if attn is None else attn
        attn = attn.reshape(-1, self.in_channels)
        raw = self.gnn(attn, edge_index).view(-1)
        perm, score = self.select(raw, batch)
        out = pool_nodes(x, score, perm, self.multiplier)
        edge_index, edge_attr = filter_adj(edge_index, edge_attr, perm, x.size(0))
        return out, edge_index, edge_attr, batch[perm], perm, score[perm]

    def __repr__(self) -> str:
        arg = f"ratio={self.ratio}" if self.min_score is None else \
            f"min_score={self.min_score}"
        return f"{type(self).__name__}({type(self.gnn).__name__}, {self.in_channels}, " \
            f"{arg}, multiplier={self.multiplier})"
