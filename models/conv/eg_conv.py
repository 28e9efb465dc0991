"""``EGConv``: efficient graph convolution with aggregator fusion (Tailor et al., 2021)."""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.nn.dense.linear import Linear
from gfx.ops import scatter
from gfx.ops._checks import is_tracing
from gfx.structure import memo
from gfx.utils.loops import add_remaining_self_loops
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

AGGREGATORS = ("sum", "mean", "symnorm", "max", "min", "std", "var")


def _with_loops(edge_index: Tensor, num_nodes: int) -> Tensor:
    return memo(edge_index, "remaining_self_loops", (num_nodes,),
                lambda: add_remaining_self_loops(edge_index, num_nodes=num_nodes)[0])


# Graph structure: one call in captured graphs (see gcn_conv).
torch.fx.wrap("gcn_norm")
torch.fx.wrap("_with_loops")


class EGConv(MessagePassing):
    """The Efficient Graph Convolution of "Adaptive Filters and Aggregator Fusion for
    Efficient Graph Convolutions".

    .. math::
        \\mathbf{x}_i^{\\prime} = \\Big\\Vert_{h=1}^H \\sum_{\\oplus \\in \\mathcal{A}}
        \\sum_{b = 1}^B w_{i, h, \\oplus, b} \\;
        \\underset{j \\in \\mathcal{N}(i) \\cup \\{i\\}}{\\bigoplus}
        \\mathbf{\\Theta}_b \\mathbf{x}_{j}

    :math:`B` shared basis maps :math:`\\mathbf{\\Theta}_b` (``bases_lin``, each of
    width ``out_channels / H``) are aggregated over the neighbourhood with every
    aggregator :math:`\\oplus \\in \\mathcal{A}`, and each node mixes the results with its
    own weights :math:`w_{i} = \\mathbf{W}\\mathbf{x}_i + \\mathbf{c}` (``comb_lin``), one
    set per head; the heads are concatenated.  ``"symnorm"`` is the sum weighted by
    :math:`1/\\sqrt{\\hat d_i \\hat d_j}` (as in ``GCNConv``); ``"std"`` is
    :math:`\\sqrt{\\max(\\mathrm{var}, 10^{-5})}`; ``"max"``/``"min"`` give 0 for a
    node without neighbours.  Self-loops are added for every node, including isolated
    nodes with the highest ids (the reference infers the node count from
    ``edge_index`` when no aggregator is ``"symnorm"`` and leaves those nodes without a
    loop).  Memory is :math:`\\mathcal{O}(|\\mathcal{V}|)` in
    the output width: messages have ``B * out_channels / H`` columns.

    Args:
        in_channels (int): input features per node.
        out_channels (int): output features per node; a multiple of ``num_heads``.
        aggregators (list of str, optional): any of ``"sum"``, ``"mean"``,
            ``"symnorm"``, ``"max"``, ``"min"``, ``"std"``, ``"var"``; ``None`` means
            ``["symnorm"]``. (default: ``None``)
        num_heads (int, optional): heads :math:`H`. (default: ``8``)
        num_bases (int, optional): basis maps :math:`B`. (default: ``4``)
        cached (bool, optional): compute the looped (and normalised) graph on the first
            call and reuse it (transductive settings only). (default: ``False``)
        add_self_loops (bool, optional): aggregate over :math:`\\mathcal{N}(i) \\cup
            \\{i\\}`. (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``node_dim`` ``0``).

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a torch.sparse
    ``adj_t`` -> ``[N, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 aggregators: Optional[List[str]] = None, num_heads: int = 8,
                 num_bases: int = 4, cached: bool = False, add_self_loops: bool = True,
                 bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "sum")
        kwargs.setdefault("node_dim", 0)
        super().__init__(**kwargs)
        aggregators = ["symnorm"] if aggregators is None else list(aggregators)
        if not aggregators:
            raise ValueError("EGConv: 'aggregators' must name at least one aggregator")
        for aggr in aggregators:
            if aggr not in AGGREGATORS:
                raise ValueError(f"EGConv: unknown aggregator {aggr!r} in 'aggregators'; "
                                 f"expected some of {AGGREGATORS}")
        if num_heads <= 0 or out_channels % num_heads != 0:
            raise ValueError(f"EGConv: 'out_channels' ({out_channels}) must be a multiple "
                             f"of 'num_heads' ({num_heads})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.aggregators = aggregators
        self.num_heads = num_heads
        self.num_bases = num_bases
        self.cached = cached
        self.add_self_loops = add_self_loops
        self._cached_graph: Optional[Tuple[Tensor, Optional[Tensor]]] = None
        self.bases_lin = Linear(in_channels, (out_channels // num_heads) * num_bases,
                                bias=False, weight_initializer="glorot")
        self.comb_lin = Linear(in_channels, num_heads * num_bases * len(aggregators))
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.bases_lin.reset_parameters()
        self.comb_lin.reset_parameters()
        inits.zeros(self.bias)
        self._cached_graph = None

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        if not is_tracing(x) and (x.dim() != 2 or
                                  (self.in_channels > 0 and x.shape[-1] != self.in_channels)):
            raise ValueError(f"EGConv: 'x' must have shape [num_nodes, {self.in_channels}], "
                             f"got {list(x.shape)}")
        num_nodes = x.shape[0]
        if self.cached and self._cached_graph is not None:
            edge_index, symnorm_weight = self._cached_graph
        else:
            symnorm_weight = None
            if "symnorm" in self.aggregators:
                edge_index, symnorm_weight = gcn_norm(edge_index, None, num_nodes, False,
                                                      self.add_self_loops, self.flow, x.dtype)
            elif self.add_self_loops:
                edge_index = _with_loops(edge_index, num_nodes)
            if self.cached and not is_tracing(x):
                self._cached_graph = (edge_index, symnorm_weight)

        bases = self.bases_lin(x)
        weightings = self.comb_lin(x)
        aggregated = self.propagate(edge_index, x=bases, symnorm_weight=symnorm_weight,
                                    size=None)
        heads, per_head = self.num_heads, self.out_channels // self.num_heads
        weightings = weightings.view(-1, heads, self.num_bases * len(self.aggregators))
        aggregated = aggregated.view(-1, len(self.aggregators) * self.num_bases, per_head)
        out = torch.matmul(weightings, aggregated).view(-1, self.out_channels)
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def aggregate(self, inputs: Tensor, index: Tensor, dim_size: Optional[int] = None,
                  symnorm_weight: Optional[Tensor] = None) -> Tensor:
        outs = []
        for aggr in self.aggregators:
            if aggr == "symnorm":
                out = scatter(inputs * symnorm_weight.view(-1, 1), index, 0, dim_size, "sum")
            elif aggr in ("var", "std"):
                mean = scatter(inputs, index, 0, dim_size, "mean")
                mean_sq = scatter(inputs * inputs, index, 0, dim_size, "mean")
                out = mean_sq - mean * mean
                if aggr == "std":
                    out = torch.sqrt(out.clamp(min=1e-5))
            else:
                out = scatter(inputs, index, 0, dim_size, aggr)
            outs.append(out)
        return torch.stack(outs, dim=1) if len(outs) > 1 else outs[0]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"aggregators={self.aggregators})")


__all__ = ["EGConv"]
