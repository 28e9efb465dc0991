"""GraphGym's configurable message passing layers (``generalconv`` and friends).

Their design options come from ``cfg.gnn`` when the layer is built:

* ``agg``: the neighbourhood aggregation (``add``, ``mean``, ``max``, ...);
* ``normalize_adj``: weight messages by :math:`1/\\sqrt{\\hat d_j \\hat d_i}` (GCN
  normalisation; :class:`GeneralConvLayer` also adds self-loops);
* ``self_msg``: how a node's own features enter: ``none``, ``add``
  (:math:`+\\mathbf{W}\\mathbf{x}_i`, the shared weight) or ``concat``
  (:math:`+\\mathbf{W}_{\\text{self}}\\mathbf{x}_i`, a separate weight);
* ``msg_direction`` (edge layer): messages from the source only (``single``) or from
  both endpoints (``both``).
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.nn.dense.linear import Linear
from gfx.graphgym.config import cfg
from gfx.utils.loops import add_remaining_self_loops

SELF_MSGS = ("none", "add", "concat")
MSG_DIRECTIONS = ("single", "both")


def _check_choice(option: str, value: str, choices: Tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"cfg.gnn.{option} must be one of {choices}, got '{value}'")
    return value


class GeneralConvLayer(MessagePassing):
    """The general GNN layer of GraphGym.

    .. math::
        \\mathbf{x}'_i = \\square_{j \\in \\mathcal{N}(i)} w_{ji} \\,
        \\mathbf{W}\\mathbf{x}_j + \\mathbf{b} + s(\\mathbf{x}_i)

    with :math:`\\square` = ``cfg.gnn.agg``, :math:`w_{ji}` the GCN normalisation when
    ``cfg.gnn.normalize_adj`` (else ``edge_weight``, else 1), and :math:`s` the self
    message of ``cfg.gnn.self_msg`` (``none``: 0, ``add``: :math:`\\mathbf{W}
    \\mathbf{x}_i`, ``concat``: :math:`\\mathbf{W}_{\\text{self}}\\mathbf{x}_i`).  Edge
    features, when given, are added to the transformed source features.

    Args:
        in_channels (int): input width.
        out_channels (int): output width.
        improved (bool, optional): self-loops of weight 2 in the normalisation.
            (default: ``False``)
        bias (bool, optional): learn :math:`\\mathbf{b}`. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` defaults to
            ``cfg.gnn.agg``).
    """

    def __init__(self, in_channels: int, out_channels: int, improved: bool = False,
                 bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", cfg.gnn.agg)
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.improved = improved
        self.normalize = cfg.gnn.normalize_adj
        self.self_msg = _check_choice("self_msg", cfg.gnn.self_msg, SELF_MSGS)
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        if self.self_msg == "concat":
            self.lin_self = Linear(in_channels, out_channels, bias=False,
                                   weight_initializer="glorot")
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        if self.self_msg == "concat":
            self.lin_self.reset_parameters()
        if self.bias is not None:
            inits.zeros(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                edge_feature: Optional[Tensor] = None) -> Tensor:
        x_self = self.lin_self(x) if self.self_msg == "concat" else None
        x = self.lin(x)
        if self.normalize:
            num_nodes = x.shape[-2]
            if edge_feature is not None:  # new self-loops get zero edge features
                _, edge_feature = add_remaining_self_loops(edge_index, edge_feature, 0.0,
                                                           num_nodes)
            edge_index, edge_weight = gcn_norm(edge_index, edge_weight, num_nodes,
                                               self.improved, True, self.flow, x.dtype)
        out = self.propagate(edge_index, x=x, norm=edge_weight, edge_feature=edge_feature)
        if self.self_msg == "add":
            out = out + x
        elif self.self_msg == "concat":
            out = out + x_self
        return out

    def message(self, x_j: Tensor, norm: Optional[Tensor],
                edge_feature: Optional[Tensor]) -> Tensor:
        if edge_feature is not None:
            x_j = x_j + edge_feature
        return x_j if norm is None else norm.view(-1, 1) * x_j

    def update(self, aggr_out: Tensor) -> Tensor:
        return aggr_out if self.bias is None else aggr_out + self.bias

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"


class GeneralEdgeConvLayer(MessagePassing):
    """The general GNN layer of GraphGym with edge features in the message.

    .. math::
        \\mathbf{x}'_i = \\square_{j \\in \\mathcal{N}(i)} w_{ji} \\,
        \\mathbf{W}_{\\text{msg}} [\\mathbf{x}_i \\,\\|\\, ] \\mathbf{x}_j \\,\\|\\,
        \\mathbf{e}_{ji} + \\mathbf{b} + s(\\mathbf{x}_i)

    where :math:`\\mathbf{x}_i` enters the message only for ``cfg.gnn.msg_direction:
    both``; :math:`w_{ji}` is the GCN normalisation without self-loops when
    ``cfg.gnn.normalize_adj`` (edge features exist only for real edges), and :math:`s`
    the self message (``add`` needs ``in_channels == out_channels``).

    Args:
        in_channels (int): input width.
        out_channels (int): output width.
        edge_dim (int): edge feature width.
        bias (bool, optional): learn a bias added after aggregation. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (``aggr`` defaults to
            ``cfg.gnn.agg``).
    """

    def __init__(self, in_channels: int, out_channels: int, edge_dim: int,
                 bias: bool = True, **kwargs):
        kwargs.setdefault("aggr", cfg.gnn.agg)
        super().__init__(**kwargs)
        if edge_dim < 0:
            raise ValueError(f"GeneralEdgeConvLayer: edge_dim must be >= 0, got {edge_dim}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.edge_dim = edge_dim
        self.normalize = cfg.gnn.normalize_adj
        self.msg_direction = _check_choice("msg_direction", cfg.gnn.msg_direction,
                                           MSG_DIRECTIONS)
        self.self_msg = _check_choice("self_msg", cfg.gnn.self_msg, SELF_MSGS)
        if self.self_msg == "add" and in_channels != out_channels:
            raise ValueError(f"GeneralEdgeConvLayer: self_msg 'add' needs in_channels == "
                             f"out_channels, got {in_channels} and {out_channels}")
        width = in_channels * (2 if self.msg_direction == "both" else 1) + edge_dim
        self.lin_msg = Linear(width, out_channels, bias=False, weight_initializer="glorot")
        if self.self_msg == "concat":
            self.lin_self = Linear(in_channels, out_channels, bias=False,
                                   weight_initializer="glorot")
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin_msg.reset_parameters()
        if self.self_msg == "concat":
            self.lin_self.reset_parameters()
        if self.bias is not None:
            inits.zeros(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                edge_feature: Optional[Tensor] = None) -> Tensor:
        if edge_feature is None:
            raise ValueError("GeneralEdgeConvLayer needs edge features ('edge_feature', "
                             "batch.edge_attr)")
        if self.normalize:
            edge_index, edge_weight = gcn_norm(edge_index, edge_weight, x.shape[-2], False,
                                               False, self.flow, x.dtype)
        out = self.propagate(edge_index, x=x, norm=edge_weight, edge_feature=edge_feature)
        if self.self_msg == "add":
            out = out + x
        elif self.self_msg == "concat":
            out = out + self.lin_self(x)
        return out

    def message(self, x_i: Tensor, x_j: Tensor, norm: Optional[Tensor],
                edge_feature: Tensor) -> Tensor:
        parts = [x_i, x_j, edge_feature] if self.msg_direction == "both" \
            else [x_j, edge_feature]
        msg = self.lin_msg(torch.cat(parts, dim=-1))
        return msg if norm is None else norm.view(-1, 1) * msg

    def update(self, aggr_out: Tensor) -> Tensor:
        return aggr_out if self.bias is None else aggr_out + self.bias

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"edge_dim={self.edge_dim})")
