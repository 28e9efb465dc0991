"""``PANPooling``: top-:math:`k` pooling scored by features and the MET matrix of PAN."""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.nn.pool.topk_pool import (SelectTopK, check_ratio, default_batch, filter_adj,
                                   pool_nodes, resolve_nonlinearity)
from gfx.ops import scatter
from gfx.ops._checks import is_tracing

__all__ = ["PANPooling"]

# Imported run-time steps stay single calls in captured graphs here too (torch.fx.wrap
# patches one module's globals; NOTE [pooling in captured graphs] in topk_pool.py).
torch.fx.wrap("filter_adj")


def met_entries(M: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """``(row, col, value)`` of a torch.sparse matrix (COO or CSR), row-major order."""
    coo = M.coalesce() if M.layout == torch.sparse_coo else M.to_sparse_coo().coalesce()
    row, col = coo.indices()
    return row, col, coo.values()


torch.fx.wrap("met_entries")


class PANPooling(torch.nn.Module):
    """The path integral based pooling operator of "Path Integral Based Convolution and
    Pooling for Graph Neural Networks".

    Top-:math:`k` pooling whose node importance combines the features and the maximal
    entropy transition (MET) matrix :math:`\\mathbf{M}` of a PAN convolution:

    .. math::
        \\mathrm{score} = \\beta_1 \\mathbf{X} \\mathbf{p} + \\beta_2 \\deg(\\mathbf{M}),
        \\qquad \\deg(\\mathbf{M})_j = \\sum_i M_{ij}

    (column sums).  As in :class:`~gfx.nn.pool.SAGPooling`, the score passes the
    one-channel ``select.weight`` :math:`w`: :math:`\\mathbf{y} =
    \\sigma(\\mathrm{sign}(w)\\,\\mathrm{score})`, or a per-graph softmax of
    :math:`w \\cdot \\mathrm{score}` with ``min_score``; the kept nodes are
    :math:`(\\mathbf{X} \\odot \\mathbf{y})_{\\mathbf{i}}`.  Every entry :math:`M_{ij}`
    between kept nodes becomes an edge ``(j, i)`` (transposed, as in the reference)
    with attribute :math:`M_{ij}`.  Returns ``(x, edge_index, edge_attr, batch, perm,
    score)``.  ``p`` starts at ones and ``beta`` at ``(0.5, 0.5)``.

    Args:
        in_channels (int): size of each input sample.
        ratio (float, optional): float: keep :math:`\\lceil \\mathrm{ratio} \\cdot N
            \\rceil` nodes per graph; int: keep ``ratio`` nodes. Ignored with
            ``min_score``. (default: ``0.5``)
        min_score (float, optional): score threshold :math:`\\tilde{\\alpha}`.
            (default: ``None``)
        multiplier (float, optional): factor applied to the pooled features.
            (default: ``1.0``)
        nonlinearity (str or callable, optional): :math:`\\sigma`. (default: ``"tanh"``)
    """

    def __init__(self, in_channels: int, ratio: float = 0.5,
                 min_score: Optional[float] = None, multiplier: float = 1.0,
                 nonlinearity: Union[str, Callable] = "tanh"):
        super().__init__()
        check_ratio("PANPooling", ratio, min_score)
        self.in_channels = in_channels
        self.ratio = ratio
        self.min_score = min_score
        self.multiplier = multiplier
        self.p = Parameter(torch.empty(in_channels))
        self.beta = Parameter(torch.empty(2))
        self.select = SelectTopK(1, ratio, min_score,
                                 resolve_nonlinearity("PANPooling", nonlinearity))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.p.fill_(1.0)
            self.beta.fill_(0.5)
        self.select.reset_parameters()

    def forward(self, x: Tensor, M: Tensor, batch: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        """Pool ``x`` ``[N, F]`` with the ``[N, N]`` torch.sparse MET matrix ``M``."""
        if not is_tracing(x, M):
            if not isinstance(M, Tensor) or M.layout not in (torch.sparse_coo,
                                                             torch.sparse_csr):
                raise TypeError("PANPooling: 'M' must be a torch.sparse COO or CSR "
                                f"tensor, got {type(M).__name__}")
            if x.dim() != 2 or tuple(M.shape) != (x.shape[0], x.shape[0]):
                raise ValueError(f"PANPooling: 'M' must be [N, N] for 'x' [N, F], got "
                                 f"{list(M.shape)} and {list(x.shape)}")
        batch = default_batch(x, batch)
        row, col, value = met_entries(M)
        score1 = (x * self.p).sum(dim=-1)
        score2 = scatter(value, col, 0, x.size(0), "sum")
        raw = self.beta[0] * score1 + self.beta[1] * score2
        perm, score = self.select(raw, batch)
        out = pool_nodes(x, score, perm, self.multiplier)
        edge_index, edge_attr = filter_adj(torch.stack([col, row], 0), value, perm,
                                           x.size(0))
        return out, edge_index, edge_attr, batch[perm], perm, score[perm]

    def __repr__(self) -> str:
        arg = f"ratio={self.ratio}" if self.min_score is None else \
            f"min_score={self.min_score}"
        return f"{type(self).__name__}({self.in_channels}, {arg}, " \
            f"multiplier={self.multiplier})"
