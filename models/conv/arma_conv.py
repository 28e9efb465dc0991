"""``ARMAConv``: the ARMA filter convolution of Bianchi et al. (TPAMI 2021)."""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter, ReLU
from torch.nn.parameter import UninitializedParameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gcn_conv import gcn_norm
from gfx.utils import is_torch_sparse_tensor, is_tracing, adj_t_to_edge_index

# gcn_norm is graph structure: one node in a captured graph (see gcn_conv.py).
torch.fx.wrap("gcn_norm")


class ARMAConv(MessagePassing):
    """The ARMA graph convolution of "Graph Neural Networks with Convolutional ARMA Filters".

    .. math::
        \\mathbf{X}' = \\frac{1}{K} \\sum_{k=1}^{K} \\mathbf{X}_k^{(T)}, \\qquad
        \\mathbf{X}_k^{(t+1)} = \\sigma\\left(\\hat{\\mathbf{L}} \\mathbf{X}_k^{(t)}
        \\mathbf{W}_k^{(t)} + \\mathrm{dropout}(\\mathbf{X}^{(0)}) \\mathbf{V}_k^{(t)}
        + \\mathbf{b}_k^{(t)}\\right)

    with :math:`\\mathbf{X}_k^{(0)} = \\mathbf{X}`, :math:`\\mathbf{W}_k^{(0)}` the
    ``init_weight`` of stack :math:`k` (``in -> out``), :math:`\\mathbf{W}_k^{(t)}` for
    :math:`t > 0` from ``weight`` (``out -> out``), :math:`\\mathbf{V}_k^{(t)}` from
    ``root_weight`` and :math:`\\hat{\\mathbf{L}} = \\mathbf{D}^{-1/2} \\mathbf{A}
    \\mathbf{D}^{-1/2}` (no self-loops added; :math:`A_{ij}` is the weight of
    :math:`j \\to i`, :math:`D_{ii} = \\sum_j A_{ij}`).  With ``shared_weights`` the
    layers of a stack share one :math:`\\mathbf{W}` (:math:`t \\ge 1`), one
    :math:`\\mathbf{V}` and one :math:`\\mathbf{b}`.

    Args:
        in_channels (int): input features per node, or ``-1`` (lazy).
        out_channels (int): output features per node.
        num_stacks (int, optional): number of parallel stacks :math:`K`. (default: ``1``)
        num_layers (int, optional): number of layers :math:`T`. (default: ``1``)
        shared_weights (bool, optional): share parameters across the layers of a stack.
            (default: ``False``)
        act (callable, optional): activation :math:`\\sigma`; ``None`` for none.
            (default: ``torch.nn.ReLU()``)
        dropout (float, optional): dropout probability on the skip connection
            :math:`\\mathbf{X}^{(0)}` (training only). (default: ``0.0``)
        bias (bool, optional): learn additive biases. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a sparse ``adj_t``,
    ``edge_weight`` ``[E]`` -> ``[N, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, num_stacks: int = 1,
                 num_layers: int = 1, shared_weights: bool = False,
                 act: Optional[Callable] = ReLU(), dropout: float = 0.0, bias: bool = True,
                 **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        for name, value in (("num_stacks", num_stacks), ("num_layers", num_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"ARMAConv: '{name}' must be a positive int, got {value!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"ARMAConv: 'dropout' must be in [0, 1], got {dropout}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_stacks = num_stacks
        self.num_layers = num_layers
        self.shared_weights = shared_weights
        self.act = act
        self.dropout = dropout
        K, T, C = num_stacks, num_layers, out_channels
        T_root = 1 if shared_weights else T
        T_hidden = 1 if shared_weights else max(1, T - 1)
        self.weight = Parameter(torch.empty(T_hidden, K, C, C))
        if in_channels > 0:
            self.init_weight = Parameter(torch.empty(K, in_channels, C))
            self.root_weight = Parameter(torch.empty(T_root, K, in_channels, C))
        else:
            self.init_weight = UninitializedParameter()
            self.root_weight = UninitializedParameter()
        self._num_root = T_root
        self.bias = Parameter(torch.empty(T_root, K, 1, C)) if bias else None
        self._register_load_state_dict_pre_hook(ARMAConv._load_lazy_hook, with_module=True)
        self.reset_parameters()

    @property
    def is_lazy(self) -> bool:
        return isinstance(self.init_weight, UninitializedParameter)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.glorot(self.weight)
        if not self.is_lazy:
            inits.glorot(self.init_weight)
            inits.glorot(self.root_weight)
        if self.bias is not None:
            inits.zeros(self.bias)

    def _materialize(self, in_channels: int, device, dtype) -> None:
        K, C = self.num_stacks, self.out_channels
        self.in_channels = in_channels
        self.init_weight.materialize((K, in_channels, C), device=device, dtype=dtype)
        self.root_weight.materialize((self._num_root, K, in_channels, C), device=device,
                                     dtype=dtype)
        inits.glorot(self.init_weight)
        inits.glorot(self.root_weight)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        if not self.is_lazy:
            return super()._save_to_state_dict(destination, prefix, keep_vars)
        # Unmaterialised weights are saved as they are, so a lazy layer's checkpoint has
        # the same keys as a materialised one (as gfx.nn.Linear does).
        for name, param in self._parameters.items():
            if param is not None:
                keep = keep_vars or isinstance(param, UninitializedParameter)
                destination[prefix + name] = param if keep else param.detach()

    @staticmethod
    def _load_lazy_hook(module: "ARMAConv", state_dict, prefix, *args) -> None:
        weight = state_dict.get(prefix + "init_weight")
        if module.is_lazy and weight is not None and \
                not isinstance(weight, UninitializedParameter):
            module._materialize(weight.shape[-2], weight.device, weight.dtype)

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if isinstance(x, (tuple, list)):
            raise ValueError("ARMAConv does not support bipartite (source, target) inputs")
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_weight = values if edge_weight is None else edge_weight
        if not is_tracing(x):
            if self.is_lazy:
                self._materialize(x.shape[-1], x.device, x.dtype)
            if x.shape[-1] != self.in_channels:
                raise ValueError(f"ARMAConv: 'x' must have in_channels={self.in_channels} "
                                 f"features in its last dimension, got shape {list(x.shape)}")
            if edge_weight is not None and edge_weight.shape != (edge_index.shape[-1],):
                raise ValueError(f"ARMAConv: 'edge_weight' must have shape [num_edges="
                                 f"{edge_index.shape[-1]}], got {list(edge_weight.shape)}")
        edge_index, edge_weight = gcn_norm(edge_index, edge_weight, x.shape[self.node_dim],
                                           False, False, self.flow, x.dtype)
        x = x.unsqueeze(-3)  # [1, N, in]: broadcasts over the K stacks
        out = x
        for t in range(self.num_layers):
            if t == 0:
                out = out @ self.init_weight
            else:
                out = out @ self.weight[0 if self.shared_weights else t - 1]
            out = self.propagate(edge_index, x=out, edge_weight=edge_weight)
            t_root = 0 if self.shared_weights else t
            root = F.dropout(x, p=self.dropout, training=self.training)
            out = out + root @ self.root_weight[t_root]
            if self.bias is not None:
                out = out + self.bias[t_root]
            if self.act is not None:
                out = self.act(out)
        return out.mean(dim=-3)

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"num_stacks={self.num_stacks}, num_layers={self.num_layers})")


__all__ = ["ARMAConv"]
