"""``GeneralConv``: the configurable layer of "Design Space for Graph Neural Networks"
(You, Ying and Leskovec, NeurIPS 2020)."""
from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Identity, Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.dense.linear import Linear
from gfx.utils import is_torch_sparse_tensor, is_tracing, softmax, adj_t_to_edge_index

ATTENTION_TYPES = ("additive", "dot_product")


class GeneralConv(MessagePassing):
    """A general message passing layer from the GNN design space of "Design Space for
    Graph Neural Networks".

    .. math::
        \\mathbf{m}_{j \\to i}^{h} = \\mathbf{W}_{\\mathrm{msg}} \\mathbf{x}_j
        \\;[+\\, \\mathbf{W}_{\\mathrm{msg},i} \\mathbf{x}_i]
        \\;[+\\, \\mathbf{W}_{\\mathrm{edge}} \\mathbf{e}_{j,i}], \\qquad
        \\mathbf{x}'_i = \\frac{1}{H} \\sum_{h=1}^{H}
        \\mathrm{aggr}_{j \\in \\mathcal{N}(i)} \\alpha^h_{j,i}\\, \\mathbf{m}^h_{j \\to i}
        + \\mathbf{W}_{\\mathrm{self}} \\mathbf{x}_i

    where each linear map has its bias when ``bias=True``, the :math:`[\\cdot]` terms are
    present for ``directed_msg=False`` and ``in_edge_channels`` respectively, the message
    is split into :math:`H` heads of ``out_channels`` features, and the output is
    :math:`\\ell_2`-normalised when ``l2_normalize``.  Without ``attention``,
    :math:`\\alpha = 1`.  With it, :math:`\\alpha^h_{j,i} = \\mathrm{softmax}_j
    (\\mathrm{LeakyReLU}_{0.2}(s^h_{j,i}))` over the edges into :math:`i`, with the score
    :math:`s^h_{j,i} = \\mathbf{a}^{h\\top} \\mathbf{m}^h_{j \\to i}` (``"additive"``,
    parameter ``att_msg``) or :math:`s^h_{j,i} = \\mathbf{m}^{h\\top}_{i \\to j}
    \\mathbf{m}^h_{j \\to i} / \\sqrt{C}` (``"dot_product"``: the message computed with the
    endpoints swapped, same edge features).  :math:`\\mathbf{W}_{\\mathrm{self}}` is the
    identity when ``in_channels == out_channels`` (both ints) and ``skip_linear=False``.
    ``edge_attr`` is required when ``in_edge_channels`` is set, and ignored otherwise.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes
            for bipartite graphs; ``-1`` for lazy.
        out_channels (int): output features per node (and per head).
        in_edge_channels (int, optional): edge features; ``None`` for none.
            (default: ``None``)
        aggr (str, optional): the neighbourhood aggregation. (default: ``"add"``)
        skip_linear (bool, optional): always map the skip connection by a linear layer.
            (default: ``False``)
        directed_msg (bool, optional): messages depend on the source only; ``False``
            adds a map of the target (needs equal source and target sizes).
            (default: ``True``)
        heads (int, optional): number of message heads, averaged. (default: ``1``)
        attention (bool, optional): weight messages by attention. (default: ``False``)
        attention_type (str, optional): ``"additive"`` or ``"dot_product"``.
            (default: ``"additive"``)
        l2_normalize (bool, optional): :math:`\\ell_2`-normalise the output.
            (default: ``False``)
        bias (bool, optional): learn additive biases. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]`` or a sparse ``adj_t``, ``edge_attr`` ``[E, in_edge_channels]``
    -> ``[N_dst, out_channels]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: Optional[int],
                 in_edge_channels: Optional[int] = None, aggr: str = "add",
                 skip_linear: bool = False, directed_msg: bool = True, heads: int = 1,
                 attention: bool = False, attention_type: str = "additive",
                 l2_normalize: bool = False, bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", aggr)
        super().__init__(**kwargs)
        if not isinstance(out_channels, int) or out_channels < 1:
            raise ValueError(f"GeneralConv: 'out_channels' must be a positive int, got "
                             f"{out_channels!r}")
        if not isinstance(heads, int) or heads < 1:
            raise ValueError(f"GeneralConv: 'heads' must be a positive int, got {heads!r}")
        if attention and attention_type not in ATTENTION_TYPES:
            raise ValueError(f"GeneralConv: unknown attention_type {attention_type!r}; "
                             f"expected one of {ATTENTION_TYPES}")
        pair = (in_channels, in_channels) if isinstance(in_channels, int) else in_channels
        swaps = not directed_msg or (attention and attention_type == "dot_product")
        if swaps and pair[0] != pair[1]:
            reason = "directed_msg=False" if not directed_msg else "dot_product attention"
            raise ValueError(f"GeneralConv: {reason} maps source and target features with "
                             f"the same weights, so in_channels must be equal for both, "
                             f"got {in_channels}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.in_edge_channels = in_edge_channels
        self.skip_linear = skip_linear
        self.directed_msg = directed_msg
        self.heads = heads
        self.attention = attention
        self.attention_type = attention_type
        self.l2_normalize = l2_normalize
        self.negative_slope = 0.2

        width = out_channels * heads
        self.lin_msg = Linear(pair[0], width, bias=bias)
        if not directed_msg:
            self.lin_msg_i = Linear(pair[0], width, bias=bias)
        if skip_linear or in_channels != out_channels:
            self.lin_self = Linear(pair[1], out_channels, bias=bias)
        else:
            self.lin_self = Identity()
        if in_edge_channels is not None:
            self.lin_edge = Linear(in_edge_channels, width, bias=bias)
        if attention and attention_type == "additive":
            self.att_msg = Parameter(torch.empty(1, heads, out_channels))
        elif attention:
            self.register_buffer("scaler", torch.tensor(math.sqrt(out_channels)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin_msg.reset_parameters()
        if not self.directed_msg:
            self.lin_msg_i.reset_parameters()
        if isinstance(self.lin_self, Linear):
            self.lin_self.reset_parameters()
        if self.in_edge_channels is not None:
            self.lin_edge.reset_parameters()
        if self.attention and self.attention_type == "additive":
            inits.glorot(self.att_msg)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None,
                size: Optional[Tuple[int, int]] = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        if is_torch_sparse_tensor(edge_index):
            if edge_attr is not None:
                raise ValueError("GeneralConv: pass an edge_index (not a sparse adjacency) "
                                 "together with 'edge_attr', so that their orders agree")
            if size is None:
                size = (edge_index.shape[1], edge_index.shape[0])
            edge_index, _ = adj_t_to_edge_index(edge_index)
        if self.in_edge_channels is not None and edge_attr is None:
            raise ValueError(f"GeneralConv: built with in_edge_channels="
                             f"{self.in_edge_channels}, so 'edge_attr' is required")
        if not is_tracing(x[0]):
            self._check_inputs(x, edge_index, edge_attr)
        out = self.propagate(edge_index, x=x, edge_attr=edge_attr, size=size)
        out = out.view(-1, self.heads, self.out_channels).mean(dim=1)
        if x[1] is not None:
            out = out + self.lin_self(x[1])
        if self.l2_normalize:
            out = F.normalize(out, p=2.0, dim=-1)
        return out

    def _check_inputs(self, x, edge_index: Tensor, edge_attr: Optional[Tensor]) -> None:
        pair = (self.in_channels, self.in_channels) if isinstance(self.in_channels, int) \
            else self.in_channels
        for side, value, expected in (("source", x[0], pair[0]), ("target", x[1], pair[1])):
            if value is not None and expected > 0 and value.shape[-1] != expected:
                raise ValueError(f"GeneralConv: {side} features 'x' must have {expected} "
                                 f"features in their last dimension, got shape "
                                 f"{list(value.shape)}")
        if edge_attr is not None and self.in_edge_channels is not None:
            if edge_attr.dim() != 2 or edge_attr.shape != (edge_index.shape[1],
                                                           self.in_edge_channels):
                raise ValueError(f"GeneralConv: 'edge_attr' must have shape [num_edges="
                                 f"{edge_index.shape[1]}, in_edge_channels="
                                 f"{self.in_edge_channels}], got {list(edge_attr.shape)}")

    def _message(self, x_src: Tensor, x_dst: Tensor, edge_attr: Optional[Tensor]) -> Tensor:
        """The message ``src -> dst`` of every edge, ``[E, heads, out_channels]``."""
        msg = self.lin_msg(x_src)
        if not self.directed_msg:
            msg = msg + self.lin_msg_i(x_dst)
        if self.in_edge_channels is not None:
            msg = msg + self.lin_edge(edge_attr)
        return msg.view(-1, self.heads, self.out_channels)

    def message(self, x_i: Tensor, x_j: Tensor, edge_attr: Optional[Tensor],
                index: Tensor, size_i: Optional[int]) -> Tensor:
        msg = self._message(x_j, x_i, edge_attr)
        if self.attention:
            if self.attention_type == "dot_product":
                query = self._message(x_i, x_j, edge_attr)
                score = (query * msg).sum(dim=-1) / self.scaler
            else:
                score = (msg * self.att_msg).sum(dim=-1)
            score = F.leaky_relu(score, self.negative_slope)
            alpha = softmax(score, index, num_nodes=size_i)
            msg = msg * alpha.unsqueeze(-1)
        return msg.reshape(-1, self.heads * self.out_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


__all__ = ["GeneralConv"]
