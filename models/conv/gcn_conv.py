"""``GCNConv``: the graph convolution of Kipf and Welling (ICLR 2017)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.dense.linear import Linear
from gfx.ops import scatter
from gfx.ops._checks import is_tracing
from gfx.structure import memo
from gfx.utils.loops import add_remaining_self_loops
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index, edge_index_to_adj_t


def _gcn_norm(edge_index: Tensor, edge_weight: Optional[Tensor], num_nodes: int,
              improved: bool, add_self_loops: bool, flow: str,
              dtype: Optional[torch.dtype]) -> Tuple[Tensor, Tensor]:
    # The reference library applies ``improved`` only to weighted graphs (an unweighted
    # graph gets loops of weight 1 either way); gfx follows it (drop-in semantics).
    fill_value = 2.0 if improved and edge_weight is not None else 1.0
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.shape[1], dtype=dtype or torch.float,
                                 device=edge_index.device)
    if add_self_loops:
        edge_index, edge_weight = add_remaining_self_loops(edge_index, edge_weight,
                                                           fill_value, num_nodes)
    row, col = edge_index[0], edge_index[1]
    target = col if flow == "source_to_target" else row
    deg = scatter(edge_weight, target, 0, num_nodes, "sum")
    deg_inv_sqrt = deg.pow(-0.5)
    deg_inv_sqrt = deg_inv_sqrt.masked_fill(deg_inv_sqrt == float("inf"), 0.0)
    return edge_index, deg_inv_sqrt[row] * edge_weight * deg_inv_sqrt[col]


def gcn_norm(edge_index: Tensor, edge_weight: Optional[Tensor] = None,
             num_nodes: Optional[int] = None, improved: bool = False,
             add_self_loops: bool = True, flow: str = "source_to_target",
             dtype: Optional[torch.dtype] = None) -> Tuple[Tensor, Tensor]:
    """Symmetric normalisation :math:`\\hat{D}^{-1/2} \\hat{A} \\hat{D}^{-1/2}` of a graph.

    Given a sparse ``adj_t`` (COO or CSR, ``[num_targets, num_sources]``), returns the
    normalised ``(adj_t, None)`` in the same layout, as the reference library does.
    Otherwise returns ``(edge_index, edge_weight)`` with self-loops added (weight 1, or 2 when
    ``improved``; an existing loop keeps its weight) and each edge ``(j, i)`` weighted by
    :math:`w_{ji} / \\sqrt{\\hat{d}_j \\hat{d}_i}`, degrees counted at the targets.  For an
    unweighted graph the result is computed once per ``edge_index`` (structure cache).

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_weight (Tensor, optional): ``[E]`` weights. (default: ``None``)
        num_nodes (int, optional): number of nodes. (default: ``edge_index.max() + 1``)
        improved (bool, optional): loops of weight 2, when ``edge_weight`` is given (the
            reference library ignores it on unweighted graphs). (default: ``False``)
        add_self_loops (bool, optional): add self-loops first. (default: ``True``)
        flow (str, optional): which row holds the targets. (default: ``"source_to_target"``)
        dtype (torch.dtype, optional): dtype of the weights. (default: ``None``)
    """
    if is_torch_sparse_tensor(edge_index):  # a sparse adj_t in, a normalised adj_t out
        adj_t = edge_index
        index, values = adj_t_to_edge_index(adj_t)
        index, weight = _gcn_norm(index, values, adj_t.size(0), improved, add_self_loops,
                                  "source_to_target", dtype or values.dtype)
        out = edge_index_to_adj_t(index, weight, (adj_t.size(1), adj_t.size(0)))
        return (out if adj_t.layout == torch.sparse_coo else
                out.to_sparse(layout=adj_t.layout)), None
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    if edge_weight is not None:
        return _gcn_norm(edge_index, edge_weight, num_nodes, improved, add_self_loops, flow,
                         dtype)
    return memo(edge_index, "gcn_norm", (num_nodes, improved, add_self_loops, flow, dtype),
                lambda: _gcn_norm(edge_index, None, num_nodes, improved, add_self_loops,
                                  flow, dtype))


# Normalisation is graph structure, not feature computation: it stays one call in a
# captured graph and runs through the structure cache at run time.
torch.fx.wrap("gcn_norm")


class GCNConv(MessagePassing):
    """The graph convolutional operator of "Semi-supervised Classification with Graph
    Convolutional Networks".

    .. math::
        \\mathbf{X}' = \\hat{\\mathbf{D}}^{-1/2} \\hat{\\mathbf{A}}
        \\hat{\\mathbf{D}}^{-1/2} \\mathbf{X} \\mathbf{\\Theta}

    with :math:`\\hat{\\mathbf{A}} = \\mathbf{A} + \\mathbf{I}` (optionally weighted by
    ``edge_weight``) and :math:`\\hat{D}_{ii} = \\sum_j \\hat{A}_{ij}`.

    Args:
        in_channels (int): input features per node, or ``-1`` (lazy).
        out_channels (int): output features per node.
        improved (bool, optional): use :math:`\\mathbf{A} + 2\\mathbf{I}`.  As in the
            reference library, this takes effect only when edge weights are given (an
            ``edge_weight`` tensor or a weighted sparse adjacency); on an unweighted
            ``edge_index`` the loops keep weight 1. (default: ``False``)
        cached (bool, optional): compute the normalised graph on the first call and reuse
            it on every later call (transductive settings only). (default: ``False``)
        add_self_loops (bool, optional): add self-loops; ``None`` means the value of
            ``normalize``. (default: ``None``)
        normalize (bool, optional): apply the symmetric normalisation. (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a sparse ``adj_t``,
    ``edge_weight`` ``[E]`` -> ``[N, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, improved: bool = False,
                 cached: bool = False, add_self_loops: Optional[bool] = None,
                 normalize: bool = True, bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if add_self_loops is None:
            add_self_loops = normalize
        if add_self_loops and not normalize:
            raise ValueError("GCNConv: add_self_loops=True requires normalize=True (the "
                             "loops are part of the normalisation)")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.improved = improved
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self._cached_graph: Optional[Tuple[Tensor, Tensor]] = None
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        if self.bias is not None:
            inits.zeros(self.bias)
        self._cached_graph = None

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if isinstance(x, (tuple, list)):
            raise ValueError("GCNConv does not support bipartite (source, target) inputs; "
                             "use SAGEConv or GraphConv for bipartite message passing")
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if edge_weight is not None and not is_tracing(edge_weight) and edge_weight.dim() != 1:
            raise ValueError(f"GCNConv: 'edge_weight' must be 1-D [num_edges], got shape "
                             f"{list(edge_weight.shape)}")
        if self.normalize:
            if self.cached and self._cached_graph is not None:
                edge_index, edge_weight = self._cached_graph
            else:
                edge_index, edge_weight = gcn_norm(
                    edge_index, edge_weight, x.shape[self.node_dim], self.improved,
                    self.add_self_loops, self.flow, x.dtype)
                if self.cached and not is_tracing(x):  # never cache fx proxies
                    self._cached_graph = (edge_index, edge_weight)
        x = self.lin(x)
        out = self.propagate(edge_index, x=x, edge_weight=edge_weight)
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j
__all__ = ["GCNConv", "gcn_norm"]
