"""``PANConv``: path integral based convolution of Ma et al. (2020)."""
from __future__ import annotations

import warnings
from typing import Tuple

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn.dense.linear import Linear
from gfx.ops import scatter
from gfx.ops._checks import is_tracing
from gfx.structure import memo
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index


def _coo(indices: Tensor, values: Tensor, n: int) -> Tensor:
    return torch.sparse_coo_tensor(indices, values, (n, n), check_invariants=False).coalesce()


def _matmul(a: Tensor, b: Tensor) -> Tensor:
    with warnings.catch_warnings():  # torch routes COO products through its beta CSR code
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse.mm(a, b).coalesce()


def _walk_counts(edge_index: Tensor, num_nodes: int, filter_size: int) -> Tuple[Tensor, Tensor]:
    n, device = num_nodes, edge_index.device
    ones = lambda k: torch.ones(k, dtype=torch.float64, device=device)  # noqa: E731
    adj = _coo(edge_index.flip(0), ones(edge_index.shape[1]), n)
    loop = torch.arange(n, device=device)
    power = _coo(torch.stack([loop, loop]), ones(n), n)
    keys, values, which = [], [], []
    for p in range(filter_size + 1):
        if p > 0:  # A^p = A^(p-1) A; an empty product stays empty
            power = _matmul(power, adj) if adj._nnz() else \
                _coo(edge_index.new_zeros(2, 0), ones(0), n)
        idx = power.indices()
        keys.append(idx[0] * n + idx[1])
        values.append(power.values())
        which.append(torch.full((idx.shape[1],), p, dtype=torch.long, device=device))
    keys, values, which = torch.cat(keys), torch.cat(values), torch.cat(which)
    union, slot = torch.unique(keys, return_inverse=True)
    counts = torch.zeros(filter_size + 1, union.numel(), dtype=torch.float64, device=device)
    counts.index_put_((which, slot), values, accumulate=True)
    target, source = union // max(n, 1), union % max(n, 1)
    return torch.stack([source, target]), counts


def walk_counts(edge_index: Tensor, num_nodes: int, filter_size: int) -> Tuple[Tensor, Tensor]:
    """The pattern and entries of :math:`\\mathbf{A}^0, \\ldots, \\mathbf{A}^L`.

    :math:`A_{ij}` counts the edges ``j -> i``, so :math:`(\\mathbf{A}^p)_{ij}` counts the
    walks of length ``p`` from ``j`` to ``i``.  Returns ``(index [2, K], counts
    [L + 1, K])``: ``index`` lists (source ``j``, target ``i``) of every pair reached by
    some power, ``counts[p, k]`` the walks of length ``p`` for pair ``k`` (float64, exact
    for fewer than :math:`2^{53}` walks).  Cached per ``edge_index``.
    """
    return memo(edge_index, "pan_walk_counts", (num_nodes, filter_size),
                lambda: _walk_counts(edge_index, num_nodes, filter_size))


# Walk counting is graph structure: one call in captured graphs, cached at run time.
torch.fx.wrap("walk_counts")


class PANConv(MessagePassing):
    """The path integral based convolutional operator of "Path Integral Based Convolution
    and Pooling for Graph Neural Networks".

    .. math::
        \\mathbf{X}^{\\prime} = \\mathbf{M} \\mathbf{X} \\mathbf{W},
        \\qquad
        \\mathbf{M} = \\mathbf{Z}^{-1/2} \\sum_{n=0}^L e^{-\\frac{E(n)}{T}}
        \\mathbf{A}^n \\mathbf{Z}^{-1/2}

    the maximal entropy transition (MET) matrix over walks of up to :math:`L`
    (``filter_size``) steps, with :math:`A_{ij}` the number of edges ``j -> i`` and
    :math:`\\mathbf{Z}` the diagonal of the column sums of the un-normalised sum (a node
    whose column sums to 0 gets 0).  The path weights are learned: with ``weight`` =
    :math:`(w_0, \\ldots, w_L)` (initialised to 0.5), :math:`e^{-E(n)/T} = \\prod_{k=0}^{n}
    w_k`, i.e. each power is the previous one times :math:`\\mathbf{A}`, scaled by
    :math:`w_n` (the reference's recursive construction; the oracle test cannot check it
    here because the reference needs torch-sparse).  :math:`\\mathbf{W}` is ``lin``
    (with bias), applied after propagating.

    ``forward`` returns ``(out, M)`` with ``M`` a coalesced torch.sparse COO tensor
    ``[N, N]`` in ``adj_t`` layout (row = target), differentiable in ``weight``; the
    reference returns a torch-sparse ``SparseTensor``.  The walk counts are computed
    once per ``edge_index`` (structure cache); only the weights vary per call.

    Args:
        in_channels (int): input features per node, or ``-1`` (lazy).
        out_channels (int): output features per node.
        filter_size (int): the longest walk :math:`L` (``>= 0``).
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"add"``).

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a torch.sparse
    ``adj_t`` -> ``([N, out_channels], [N, N] sparse)``.
    """

    def __init__(self, in_channels: int, out_channels: int, filter_size: int, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if not isinstance(filter_size, int) or filter_size < 0:
            raise ValueError(f"PANConv: 'filter_size' must be an int >= 0, got "
                             f"{filter_size!r}")
        if self.flow != "source_to_target":
            raise ValueError("PANConv: only flow='source_to_target' is supported (M is "
                             "built from walks along the edges)")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.filter_size = filter_size
        self.lin = Linear(in_channels, out_channels)
        self.weight = Parameter(torch.empty(filter_size + 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        with torch.no_grad():
            self.weight.fill_(0.5)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tuple[Tensor, Tensor]:
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        if not is_tracing(x) and x.dim() != 2:
            raise ValueError(f"PANConv: 'x' must have shape [num_nodes, in_channels], got "
                             f"{list(x.shape)}")
        n = x.shape[0]
        walks = walk_counts(edge_index, n, self.filter_size)
        index, counts = walks[0], walks[1]
        coef = torch.cumprod(self.weight, dim=0)
        value = (coef.view(-1, 1) * counts.to(coef.dtype)).sum(dim=0)
        deg = scatter(value, index[0], 0, n, "sum")  # column sums of M
        deg_inv_sqrt = deg.pow(-0.5)
        deg_inv_sqrt = deg_inv_sqrt.masked_fill(deg_inv_sqrt == float("inf"), 0.0)
        value = deg_inv_sqrt[index[1]] * value * deg_inv_sqrt[index[0]]
        out = self.propagate(index, x=x, edge_weight=value.to(x.dtype), size=(n, n))
        out = self.lin(out)
        met = torch.sparse_coo_tensor(index.flip(0), value, (n, n), is_coalesced=True,
                                      check_invariants=False)
        return out, met

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"filter_size={self.filter_size})")


__all__ = ["PANConv"]
