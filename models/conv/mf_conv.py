"""``MFConv``: the molecular fingerprint convolution of Duvenaud et al. (NeurIPS 2015)."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import ModuleList

from gfx.message_passing import MessagePassing
from gfx.nn.dense.linear import Linear
from gfx.ops import gather, scatter
from gfx.structure import memo
from gfx.utils import is_torch_sparse_tensor, is_tracing, adj_t_to_edge_index


def _degree_buckets(edge_index: Tensor, num_targets: int, max_degree: int,
                    flow: str) -> Tuple[Tensor, ...]:
    target = edge_index[1] if flow == "source_to_target" else edge_index[0]
    deg = torch.bincount(target, minlength=num_targets)[:num_targets]
    deg = deg.clamp(max=max_degree)
    buckets = [torch.nonzero(deg == d).view(-1) for d in range(max_degree + 1)]
    return (*buckets, torch.cat(buckets))


def degree_buckets(edge_index: Tensor, num_targets: int, max_degree: int,
                   flow: str = "source_to_target") -> Tuple[Tensor, ...]:
    """Group the target nodes by in-degree, capped at ``max_degree``.

    Returns ``max_degree + 2`` index tensors: the targets of degree ``0``, ``1``, ...,
    ``max_degree`` (the last holding every degree at or above it), then all of them
    concatenated in that order.  Computed once per ``edge_index`` (structure cache).

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        num_targets (int): number of target nodes.
        max_degree (int): the cap.
        flow (str, optional): which row holds the targets. (default: ``"source_to_target"``)
    """
    return memo(edge_index, "degree_buckets", (num_targets, max_degree, flow),
                lambda: _degree_buckets(edge_index, num_targets, max_degree, flow))


# Graph structure: one node in a captured graph, computed through the structure cache.
torch.fx.wrap("degree_buckets")


class MFConv(MessagePassing):
    """The graph convolution of "Convolutional Networks on Graphs for Learning Molecular
    Fingerprints", with one pair of weights per node degree.

    .. math::
        \\mathbf{x}'_i = \\mathbf{W}^{(\\deg(i))}_1 \\mathbf{x}_i +
        \\mathbf{W}^{(\\deg(i))}_2 \\sum_{j \\in \\mathcal{N}(i)} \\mathbf{x}_j
        + \\mathbf{b}^{(\\deg(i))}

    where :math:`\\deg(i)` is the number of edges into :math:`i` (duplicates counted),
    capped at ``max_degree``; :math:`\\mathbf{W}_2, \\mathbf{b}` are ``lins_l[deg]`` and
    :math:`\\mathbf{W}_1` is ``lins_r[deg]``.  Nodes are grouped by degree (a structure
    computed once per graph), each group goes through its own weights, and the results
    are scattered back into place.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes
            for bipartite graphs; ``-1`` for lazy.
        out_channels (int): output features per node.
        max_degree (int, optional): the largest degree with its own weights.
            (default: ``10``)
        bias (bool, optional): learn additive biases (in ``lins_l``). (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])`` (the target part
    may be ``None``: no root term), ``edge_index`` ``[2, E]`` or a sparse ``adj_t``
    -> ``[N_dst, out_channels]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 max_degree: int = 10, bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if not isinstance(max_degree, int) or max_degree < 0:
            raise ValueError(f"MFConv: 'max_degree' must be a non-negative int, got "
                             f"{max_degree!r}")
        if isinstance(in_channels, int):
            in_channels = (in_channels, in_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.max_degree = max_degree
        self.lins_l = ModuleList([Linear(in_channels[0], out_channels, bias=bias)
                                  for _ in range(max_degree + 1)])
        self.lins_r = ModuleList([Linear(in_channels[1], out_channels, bias=False)
                                  for _ in range(max_degree + 1)])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in self.lins_l:
            lin.reset_parameters()
        for lin in self.lins_r:
            lin.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                size: Optional[Tuple[int, int]] = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        if is_torch_sparse_tensor(edge_index):
            if size is None:
                size = (edge_index.shape[1], edge_index.shape[0])
            edge_index, _ = adj_t_to_edge_index(edge_index)
        x_src, x_dst = x
        if not is_tracing(x_src):
            for side, value in (("source", x_src), ("target", x_dst)):
                expected = self.in_channels[0 if side == "source" else 1]
                if value is not None and expected > 0 and value.shape[-1] != expected:
                    raise ValueError(f"MFConv: {side} features 'x' must have {expected} "
                                     f"features in their last dimension, got shape "
                                     f"{list(value.shape)}")
        if size is not None:
            num_targets = size[1]
        elif x_dst is not None:
            num_targets = x_dst.shape[self.node_dim]
        else:
            num_targets = x_src.shape[self.node_dim]
        h = self.propagate(edge_index, x=x, size=size)
        groups = degree_buckets(edge_index, num_targets, self.max_degree, self.flow)
        parts = []
        for d in range(self.max_degree + 1):
            out = self.lins_l[d](gather(h, groups[d], self.node_dim))
            if x_dst is not None:
                out = out + self.lins_r[d](gather(x_dst, groups[d], self.node_dim))
            parts.append(out)
        return scatter(torch.cat(parts, dim=self.node_dim), groups[-1], self.node_dim,
                       num_targets, "sum")

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels[0]}, {self.out_channels})"


__all__ = ["MFConv"]
