"""``ChebConv``: the Chebyshev spectral convolution of Defferrard, Bresson and Vandergheynst
(NeurIPS 2016)."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import ModuleList, Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.dense.linear import Linear
from gfx.ops import scatter
from gfx.structure import memo
from gfx.utils import is_torch_sparse_tensor, is_tracing, remove_self_loops, adj_t_to_edge_index

NORMALIZATIONS = (None, "sym", "rw")
LambdaMax = Union[None, float, Tensor]


def _scaled_laplacian(edge_index: Tensor, edge_weight: Optional[Tensor], num_nodes: int,
                      normalization: Optional[str], lambda_max: LambdaMax,
                      batch: Optional[Tensor], flow: str,
                      dtype: Optional[torch.dtype]) -> Tuple[Tensor, Tensor]:
    edge_index, edge_weight = remove_self_loops(edge_index, edge_weight)
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.shape[1], dtype=dtype or torch.float,
                                 device=edge_index.device)
    row, col = edge_index[0], edge_index[1]
    # NOTE [ChebConv degrees]: degrees are summed over edge_index[0] whatever the flow, as
    # the reference library does; on directed graphs with the default flow this is the
    # transpose of the in-degree Laplacian.
    source = row
    deg = scatter(edge_weight, source, 0, num_nodes, "sum")
    if normalization == "sym":
        dinv = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
        weight = -dinv[row] * edge_weight * dinv[col]
        diag = torch.ones_like(deg)
    elif normalization == "rw":
        dinv = deg.reciprocal().masked_fill(deg == 0, 0.0)
        weight = -edge_weight * dinv[source]
        diag = torch.ones_like(deg)
    else:
        weight, diag = -edge_weight, deg
    if lambda_max is None:
        lambda_max = 2.0
    if isinstance(lambda_max, Tensor):
        lambda_max = lambda_max.to(weight.dtype)
        if batch is not None:
            node_lambda = lambda_max.view(-1)[batch]
            edge_lambda = node_lambda[source]
        else:
            node_lambda = edge_lambda = lambda_max.view(())
    else:
        node_lambda = edge_lambda = float(lambda_max)
    weight = 2.0 * weight / edge_lambda
    diag = 2.0 * diag / node_lambda - 1.0
    loop = torch.arange(num_nodes, device=edge_index.device, dtype=edge_index.dtype)
    return (torch.cat([edge_index, torch.stack([loop, loop])], dim=1),
            torch.cat([weight, diag.to(weight.dtype)]))


def scaled_laplacian(edge_index: Tensor, edge_weight: Optional[Tensor], num_nodes: int,
                     normalization: Optional[str] = "sym", lambda_max: LambdaMax = None,
                     batch: Optional[Tensor] = None, flow: str = "source_to_target",
                     dtype: Optional[torch.dtype] = None) -> Tuple[Tensor, Tensor]:
    """The scaled Laplacian :math:`\\hat{L} = 2L / \\lambda_{\\max} - I` as weighted edges.

    Self-loops of the input are dropped (a Laplacian describes the graph without them);
    the result holds every off-diagonal entry as an edge ``(j, i)`` and the diagonal as
    one self-loop per node, after the edges.  Degrees are counted at the sources
    (out-degrees, see NOTE [ChebConv degrees]).  For an
    unweighted graph with a constant ``lambda_max`` the result is computed once per
    ``edge_index`` (structure cache).

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_weight (Tensor, optional): ``[E]`` weights.
        num_nodes (int): number of nodes.
        normalization (str, optional): ``None`` (:math:`L = D - A`), ``"sym"``
            (:math:`I - D^{-1/2} A D^{-1/2}`) or ``"rw"`` (:math:`I - D^{-1} A`).
            (default: ``"sym"``)
        lambda_max (float or Tensor, optional): largest eigenvalue, a scalar or one per
            graph (then ``batch`` picks each node's). (default: ``2.0``)
        batch (Tensor, optional): ``[N]`` graph id of each node. (default: ``None``)
        flow (str, optional): which row holds the targets. (default: ``"source_to_target"``)
        dtype (torch.dtype, optional): dtype of the weights. (default: ``None``)
    """
    if edge_weight is None and batch is None and not isinstance(lambda_max, Tensor):
        return memo(edge_index, "scaled_laplacian",
                    (num_nodes, normalization, lambda_max, flow, dtype),
                    lambda: _scaled_laplacian(edge_index, None, num_nodes, normalization,
                                              lambda_max, None, flow, dtype))
    return _scaled_laplacian(edge_index, edge_weight, num_nodes, normalization, lambda_max,
                             batch, flow, dtype)


# Graph structure: one node in a captured graph, computed through the structure cache.
torch.fx.wrap("scaled_laplacian")


class ChebConv(MessagePassing):
    """The Chebyshev spectral graph convolution of "Convolutional Neural Networks on Graphs
    with Fast Localized Spectral Filtering".

    .. math::
        \\mathbf{X}' = \\sum_{k=1}^{K} \\mathbf{Z}^{(k)} \\mathbf{\\Theta}^{(k)} + \\mathbf{b},
        \\quad \\mathbf{Z}^{(1)} = \\mathbf{X}, \\quad
        \\mathbf{Z}^{(2)} = \\hat{\\mathbf{L}} \\mathbf{X}, \\quad
        \\mathbf{Z}^{(k)} = 2 \\hat{\\mathbf{L}} \\mathbf{Z}^{(k-1)} - \\mathbf{Z}^{(k-2)}

    with the scaled Laplacian :math:`\\hat{\\mathbf{L}} = 2\\mathbf{L} / \\lambda_{\\max}
    - \\mathbf{I}` of the graph without self-loops, where :math:`\\mathbf{L}` is
    :math:`\\mathbf{D} - \\mathbf{A}` (``normalization=None``),
    :math:`\\mathbf{I} - \\mathbf{D}^{-1/2}\\mathbf{A}\\mathbf{D}^{-1/2}` (``"sym"``) or
    :math:`\\mathbf{I} - \\mathbf{D}^{-1}\\mathbf{A}` (``"rw"``), with
    :math:`A_{ij}` the weight of the edge :math:`j \\to i` and
    :math:`D_{ii} = \\sum_j A_{ij}` (an isolated node has :math:`D^{-1}_{ii} = 0`).

    Semantics decided here: ``lambda_max`` defaults to ``2.0`` for ``"sym"`` and ``"rw"``
    (both spectra lie in :math:`[0, 2]`) and is required for ``normalization=None``, whose
    spectrum is not bounded by 2.  As in the reference library, :math:`\\mathbf{D}` counts
    *out*-degrees (the sources' weights), so on a directed graph ``"rw"`` divides each
    message by its source's out-degree (the transpose of :math:`\\mathbf{D}^{-1}
    \\mathbf{A}`); on undirected graphs this is the formula as written.

    Args:
        in_channels (int): input features per node, or ``-1`` (lazy).
        out_channels (int): output features per node.
        K (int): Chebyshev filter size :math:`K` (number of terms, at least 1).
        normalization (str, optional): ``None``, ``"sym"`` or ``"rw"``. (default: ``"sym"``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a sparse ``adj_t``,
    ``edge_weight`` ``[E]``, ``batch`` ``[N]``, ``lambda_max`` scalar or ``[num_graphs]``
    -> ``[N, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, K: int,
                 normalization: Optional[str] = "sym", bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if not isinstance(K, int) or K < 1:
            raise ValueError(f"ChebConv: 'K' must be a positive int, got {K!r}")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"ChebConv: unknown normalization {normalization!r}; expected "
                             f"one of {NORMALIZATIONS}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.normalization = normalization
        self.lins = ModuleList([Linear(in_channels, out_channels, bias=False,
                                       weight_initializer="glorot") for _ in range(K)])
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in self.lins:
            lin.reset_parameters()
        if self.bias is not None:
            inits.zeros(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                batch: Optional[Tensor] = None, lambda_max: LambdaMax = None) -> Tensor:
        if isinstance(x, (tuple, list)):
            raise ValueError("ChebConv does not support bipartite (source, target) inputs")
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if lambda_max is None and self.normalization is None:
            raise ValueError("ChebConv: normalization=None needs 'lambda_max' (the largest "
                             "eigenvalue of D - A, which is not bounded by 2)")
        if not is_tracing(x):
            self._check_inputs(x, edge_index, edge_weight, batch, lambda_max)
        edge_index, norm = scaled_laplacian(edge_index, edge_weight, x.shape[self.node_dim],
                                            self.normalization, lambda_max, batch, self.flow,
                                            x.dtype)
        tx_0 = x
        out = self.lins[0](tx_0)
        if len(self.lins) > 1:
            tx_1 = self.propagate(edge_index, x=x, norm=norm)
            out = out + self.lins[1](tx_1)
            for lin in self.lins[2:]:
                tx_2 = 2.0 * self.propagate(edge_index, x=tx_1, norm=norm) - tx_0
                out = out + lin(tx_2)
                tx_0, tx_1 = tx_1, tx_2
        if self.bias is not None:
            out = out + self.bias
        return out

    def _check_inputs(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor],
                      batch: Optional[Tensor], lambda_max: LambdaMax) -> None:
        if self.in_channels > 0 and x.shape[-1] != self.in_channels:
            raise ValueError(f"ChebConv: 'x' must have in_channels={self.in_channels} "
                             f"features in its last dimension, got shape {list(x.shape)}")
        if edge_weight is not None and edge_weight.shape != (edge_index.shape[-1],):
            raise ValueError(f"ChebConv: 'edge_weight' must have shape [num_edges="
                             f"{edge_index.shape[-1]}], got {list(edge_weight.shape)}")
        if isinstance(lambda_max, Tensor) and lambda_max.numel() > 1 and batch is None:
            raise ValueError(f"ChebConv: 'lambda_max' has {lambda_max.numel()} values (one "
                             f"per graph) but no 'batch' assigns nodes to graphs")
        if batch is not None and batch.shape != (x.shape[self.node_dim],):
            raise ValueError(f"ChebConv: 'batch' must have shape [num_nodes="
                             f"{x.shape[self.node_dim]}], got {list(batch.shape)}")

    def message(self, x_j: Tensor, norm: Tensor) -> Tensor:
        return norm.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"K={len(self.lins)}, normalization={self.normalization})")


__all__ = ["ChebConv"]
