"""``GENConv``: the generalised graph convolution of DeeperGCN (Li et al., 2020)."""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.aggr import Aggregation, PowerMeanAggregation, SoftmaxAggregation
from gfx.nn.dense.linear import Linear
from gfx.nn.norm.message_norm import MessageNorm
from gfx.ops._checks import is_tracing

NORMS = ("batch", "layer", "instance", None)


def deeper_gcn_mlp(channels: List[int], norm: Optional[str], bias: bool) -> torch.nn.Sequential:
    """``Linear -> norm -> ReLU -> Dropout(0)`` blocks, the last block a bare ``Linear``.

    ``norm`` is ``"batch"`` (:class:`torch.nn.BatchNorm1d`), ``"layer"``
    (:class:`torch.nn.LayerNorm`), ``"instance"`` (:class:`torch.nn.InstanceNorm1d`
    without affine parameters; on ``[N, C]`` input torch normalises each node over its
    channels) or ``None``.  Module positions match the reference checkpoint layout
    (``mlp.0.weight``, ``mlp.1.running_mean``, ``mlp.4.weight``, ...).
    """
    modules: List[torch.nn.Module] = []
    for k in range(1, len(channels)):
        modules.append(Linear(channels[k - 1], channels[k], bias=bias))
        if k < len(channels) - 1:
            if norm == "batch":
                modules.append(torch.nn.BatchNorm1d(channels[k], affine=True))
            elif norm == "layer":
                modules.append(torch.nn.LayerNorm(channels[k], elementwise_affine=True))
            elif norm == "instance":
                modules.append(torch.nn.InstanceNorm1d(channels[k], affine=False))
            modules += [torch.nn.ReLU(), torch.nn.Dropout(0.0)]
    return torch.nn.Sequential(*modules)


class GENConv(MessagePassing):
    """The GENeralized Graph Convolution of "DeeperGCN: All You Need to Train Deeper GCNs".

    .. math::
        \\mathbf{x}'_i = \\mathrm{MLP}\\Big(\\mathbf{x}_i + \\mathrm{AGG}\\big(\\{
        \\mathrm{ReLU}(\\mathbf{x}_j + \\mathbf{e}_{j,i}) + \\epsilon :
        j \\in \\mathcal{N}(i)\\}\\big)\\Big)

    Source, target and edge features are first mapped to ``out_channels`` by linear
    layers ``lin_src``, ``lin_dst``, ``lin_edge`` where their size differs from it.
    With ``msg_norm`` the aggregate is replaced by
    :class:`~gfx.nn.MessageNorm` ``(x_i, AGG)`` before the sum, with :math:`\\mathbf{x}_i`
    the *untransformed* target features (source features after ``lin_src`` when there
    are no target features).  An aggregation whose output size differs from
    ``out_channels`` (e.g. a list of aggregators) is followed by ``lin_aggr_out``.
    The MLP has ``num_layers`` linear layers with hidden size
    ``expansion * out_channels``, each hidden one followed by ``norm``, ReLU and dropout.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes
            for bipartite graphs; ``-1`` for lazy.
        out_channels (int): output features per node.
        aggr (str or [str] or Aggregation, optional): ``"softmax"`` (learnable
            temperature with ``learn_t``), ``"softmax_sg"`` (softmax weights without
            gradient), ``"power"``/``"powermean"`` (learnable power with ``learn_p``), or
            any other aggregation. (default: ``"softmax"``)
        t (float, optional): initial inverse temperature of the softmax. (default: ``1.0``)
        learn_t (bool, optional): learn ``t``. (default: ``False``)
        p (float, optional): initial power of the power mean. (default: ``1.0``)
        learn_p (bool, optional): learn ``p``. (default: ``False``)
        msg_norm (bool, optional): apply message normalisation. (default: ``False``)
        learn_msg_scale (bool, optional): learn the scale of the message
            normalisation. (default: ``False``)
        norm (str, optional): normalisation inside the MLP: ``"batch"``, ``"layer"``,
            ``"instance"`` or ``None``. (default: ``"batch"``)
        num_layers (int, optional): linear layers in the MLP. (default: ``2``)
        expansion (int, optional): hidden size factor of the MLP. (default: ``2``)
        eps (float, optional): :math:`\\epsilon` added to every message.
            (default: ``1e-7``)
        bias (bool, optional): learn biases in the linear layers. (default: ``False``)
        edge_dim (int, optional): edge feature size; a call without ``edge_attr`` then
            passes plain neighbour features, as in the reference library.
            (default: ``None``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]``, ``edge_attr`` ``[E, edge_dim]`` -> ``[N_dst, out_channels]``.
    Without ``edge_dim``, an ``edge_attr`` of ``out_channels`` features is added as is.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 aggr: Union[str, List[str], Aggregation, None] = "softmax", t: float = 1.0,
                 learn_t: bool = False, p: float = 1.0, learn_p: bool = False,
                 msg_norm: bool = False, learn_msg_scale: bool = False,
                 norm: Optional[str] = "batch",
                 num_layers: int = 2, expansion: int = 2, eps: float = 1e-7,
                 bias: bool = False, edge_dim: Optional[int] = None, **kwargs):
        if norm not in NORMS:
            raise ValueError(f"GENConv: unknown norm {norm!r}; expected one of {NORMS}")
        if num_layers < 1:
            raise ValueError(f"GENConv: num_layers must be at least 1, got {num_layers}")
        module = self._resolve_aggr(aggr, t, learn_t, p, learn_p)
        if module is None:
            super().__init__(aggr=aggr, **kwargs)
        else:
            super().__init__(aggr=None, **kwargs)
            # Set after the base constructor: given an Aggregation instance, the base
            # also registers it as ``aggr``, duplicating ``t``/``p`` in the checkpoint.
            self.aggr_module = module
            self.aggr = "softmax" if isinstance(module, SoftmaxAggregation) else "powermean"
        self.in_channels = in_channels  # as given (str() and attribute as the reference)
        if isinstance(in_channels, int):
            in_channels = (in_channels, in_channels)
        self.out_channels = out_channels
        self.eps = eps
        self.edge_dim = edge_dim
        if in_channels[0] != out_channels:
            self.lin_src = Linear(in_channels[0], out_channels, bias=bias)
        if edge_dim is not None and edge_dim != out_channels:
            self.lin_edge = Linear(edge_dim, out_channels, bias=bias)
        aggr_out = self.aggr_module.get_out_channels(out_channels)
        if aggr_out != out_channels:
            self.lin_aggr_out = Linear(aggr_out, out_channels, bias=bias)
        if in_channels[1] != out_channels:
            self.lin_dst = Linear(in_channels[1], out_channels, bias=bias)
        channels = [out_channels] + [out_channels * expansion] * (num_layers - 1) + [out_channels]
        self.mlp = deeper_gcn_mlp(channels, norm, bias)
        if msg_norm:
            self.msg_norm = MessageNorm(learn_msg_scale)
        # Every submodule is initialised by its constructor; no second reset, so seeded
        # initialisation draws equal the reference's.

    @staticmethod
    def _resolve_aggr(aggr, t: float, learn_t: bool, p: float, learn_p: bool
                      ) -> Optional[Aggregation]:
        """The DeeperGCN aggregations built from ``t``/``p``; ``None`` for any other."""
        if aggr == "softmax":
            return SoftmaxAggregation(t=t, learn=learn_t)
        if aggr == "softmax_sg":
            if learn_t:
                raise ValueError("GENConv: aggr='softmax_sg' computes the softmax weights "
                                 "without gradient, so learn_t=True cannot learn t; use "
                                 "aggr='softmax'")
            return SoftmaxAggregation(t=t, learn=False, semi_grad=True)
        if aggr in ("power", "powermean"):
            return PowerMeanAggregation(p=p, learn=learn_p)
        return None

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for name in ("lin_src", "lin_edge", "lin_aggr_out", "lin_dst", "msg_norm"):
            if hasattr(self, name):
                getattr(self, name).reset_parameters()
        for module in self.mlp:
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None,
                size: Optional[Tuple[int, int]] = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        x_src, x_dst = x
        self._check_edge_attr(edge_attr)
        if hasattr(self, "lin_src"):
            x_src = self.lin_src(x_src)
        if edge_attr is not None and hasattr(self, "lin_edge"):
            edge_attr = self.lin_edge(edge_attr)
        out = self.propagate(edge_index, x=(x_src, x_dst), edge_attr=edge_attr, size=size)
        if hasattr(self, "lin_aggr_out"):
            out = self.lin_aggr_out(out)
        if hasattr(self, "msg_norm"):
            out = self.msg_norm(x_dst if x_dst is not None else x_src, out)
        if x_dst is not None:
            if hasattr(self, "lin_dst"):
                x_dst = self.lin_dst(x_dst)
            out = out + x_dst
        return self.mlp(out)

    def _check_edge_attr(self, edge_attr: Optional[Tensor]) -> None:
        if edge_attr is None or is_tracing(edge_attr):
            return
        expected = self.edge_dim if self.edge_dim is not None else self.out_channels
        if edge_attr.dim() != 2 or edge_attr.shape[-1] != expected:
            raise ValueError(f"GENConv: expected 'edge_attr' of shape [num_edges, {expected}] "
                             f"(edge_dim={self.edge_dim}), got {list(edge_attr.shape)}")

    def message(self, x_j: Tensor, edge_attr: Optional[Tensor]) -> Tensor:
        msg = x_j if edge_attr is None else x_j + edge_attr
        return F.relu(msg) + self.eps

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"aggr={self.aggr})")


__all__ = ["GENConv"]
