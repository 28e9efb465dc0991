"""``SignedConv``: the signed graph convolution of Derr et al. (ICDM 2018)."""
from __future__ import annotations

from typing import Tuple, Union

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.dense.linear import Linear
from gfx.ops._checks import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index


class SignedConv(MessagePassing):
    """The signed graph convolutional operator of "Signed Graph Convolutional Network".

    A graph with positive and negative edges keeps two representations per node,
    "balanced" (pos) and "unbalanced" (neg).  The first layer
    (``first_aggr=True``) averages plain features over each edge sign:

    .. math::
        \\mathbf{x}_v^{(\\mathrm{pos})} = \\mathbf{\\Theta}^{(\\mathrm{pos})} \\left[
        \\frac{1}{|\\mathcal{N}^{+}(v)|} \\sum_{w \\in \\mathcal{N}^{+}(v)} \\mathbf{x}_w,
        \\mathbf{x}_v \\right], \\qquad
        \\mathbf{x}_v^{(\\mathrm{neg})} = \\mathbf{\\Theta}^{(\\mathrm{neg})} \\left[
        \\frac{1}{|\\mathcal{N}^{-}(v)|} \\sum_{w \\in \\mathcal{N}^{-}(v)} \\mathbf{x}_w,
        \\mathbf{x}_v \\right]

    Later layers (``first_aggr=False``) read ``x = [x_pos || x_neg]`` (the first
    ``in_channels`` columns are :math:`\\mathbf{X}^{(\\mathrm{pos})}`) and follow balance
    theory: a friend of a friend, or an enemy of an enemy, is a friend:

    .. math::
        \\mathbf{x}_v^{(\\mathrm{pos})} = \\mathbf{\\Theta}^{(\\mathrm{pos})} \\left[
        \\mathrm{mean}_{w \\in \\mathcal{N}^{+}(v)} \\mathbf{x}_w^{(\\mathrm{pos})},
        \\mathrm{mean}_{w \\in \\mathcal{N}^{-}(v)} \\mathbf{x}_w^{(\\mathrm{neg})},
        \\mathbf{x}_v^{(\\mathrm{pos})} \\right], \\qquad
        \\mathbf{x}_v^{(\\mathrm{neg})} = \\mathbf{\\Theta}^{(\\mathrm{neg})} \\left[
        \\mathrm{mean}_{w \\in \\mathcal{N}^{+}(v)} \\mathbf{x}_w^{(\\mathrm{neg})},
        \\mathrm{mean}_{w \\in \\mathcal{N}^{-}(v)} \\mathbf{x}_w^{(\\mathrm{pos})},
        \\mathbf{x}_v^{(\\mathrm{neg})} \\right]

    Each :math:`\\mathbf{\\Theta}` is split into a bias-free map of the aggregated part
    (``lin_pos_l``, ``lin_neg_l``) and a map of the node's own part with the bias
    (``lin_pos_r``, ``lin_neg_r``).  A node without neighbours of a sign aggregates 0.
    The output is ``[x_pos || x_neg]`` with ``2 * out_channels`` columns.

    Args:
        in_channels (int): features per node (per sign when ``first_aggr=False``).
        out_channels (int): output features per sign.
        first_aggr (bool): which of the two formulas to use.
        bias (bool, optional): learn additive biases. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` ``"mean"``).

    Shapes: ``x`` ``[N, in_channels]`` (``[N, 2 * in_channels]`` when not
    ``first_aggr``) or a bipartite ``(x_src, x_dst)`` pair, ``pos_edge_index`` and
    ``neg_edge_index`` ``[2, E+]`` / ``[2, E-]`` -> ``[N_dst, 2 * out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, first_aggr: bool,
                 bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", "mean")
        super().__init__(**kwargs)
        if in_channels <= 0:
            raise ValueError(f"SignedConv: 'in_channels' must be positive (the layer splits "
                             f"features by it), got {in_channels}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.first_aggr = first_aggr
        width = in_channels if first_aggr else 2 * in_channels
        self.lin_pos_l = Linear(width, out_channels, bias=False)
        self.lin_pos_r = Linear(in_channels, out_channels, bias=bias)
        self.lin_neg_l = Linear(width, out_channels, bias=False)
        self.lin_neg_r = Linear(in_channels, out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in (self.lin_pos_l, self.lin_pos_r, self.lin_neg_l, self.lin_neg_r):
            lin.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], pos_edge_index: Tensor,
                neg_edge_index: Tensor) -> Tensor:
        if is_torch_sparse_tensor(pos_edge_index):
            pos_edge_index, _ = adj_t_to_edge_index(pos_edge_index)
        if is_torch_sparse_tensor(neg_edge_index):
            neg_edge_index, _ = adj_t_to_edge_index(neg_edge_index)
        src, dst = (x, x) if isinstance(x, Tensor) else tuple(x)
        if dst is None:
            raise ValueError("SignedConv: the target node features of 'x' are needed "
                             "(the root term); got (x_src, None)")
        expected = self.in_channels if self.first_aggr else 2 * self.in_channels
        for side, value in (("source", src), ("target", dst)):
            if not is_tracing(value) and value.shape[-1] != expected:
                raise ValueError(
                    f"SignedConv: the {side} node features 'x' must have {expected} "
                    f"channels (in_channels={self.in_channels}, first_aggr="
                    f"{self.first_aggr}), got shape {list(value.shape)}")
        size = (src.shape[0], dst.shape[0])

        if self.first_aggr:
            pos = self.propagate(pos_edge_index, x=(src, dst), size=size)
            neg = self.propagate(neg_edge_index, x=(src, dst), size=size)
            out_pos = self.lin_pos_l(pos) + self.lin_pos_r(dst)
            out_neg = self.lin_neg_l(neg) + self.lin_neg_r(dst)
            return torch.cat([out_pos, out_neg], dim=-1)

        c = self.in_channels
        src_pos, src_neg = src[..., :c], src[..., c:]
        dst_pos, dst_neg = dst[..., :c], dst[..., c:]
        pos_pos = self.propagate(pos_edge_index, x=(src_pos, dst_pos), size=size)
        neg_neg = self.propagate(neg_edge_index, x=(src_neg, dst_neg), size=size)
        pos_neg = self.propagate(pos_edge_index, x=(src_neg, dst_neg), size=size)
        neg_pos = self.propagate(neg_edge_index, x=(src_pos, dst_pos), size=size)
        out_pos = self.lin_pos_l(torch.cat([pos_pos, neg_neg], dim=-1)) + self.lin_pos_r(dst_pos)
        out_neg = self.lin_neg_l(torch.cat([pos_neg, neg_pos], dim=-1)) + self.lin_neg_r(dst_neg)
        return torch.cat([out_pos, out_neg], dim=-1)

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"first_aggr={self.first_aggr})")


__all__ = ["SignedConv"]
