"""``GMMConv``: the Gaussian mixture model convolution of MoNet (Monti et al., CVPR 2017)."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Parameter
from torch.nn.parameter import UninitializedParameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gat_conv import check_edge_attr
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear
from gfx.utils import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor

EPS = 1e-15


class GMMConv(MessagePassing):
    """The Gaussian mixture model convolutional operator of "Geometric Deep Learning on
    Graphs and Manifolds using Mixture Model CNNs".

    .. math::
        \\mathbf{x}'_i = \\bigoplus_{j \\in \\mathcal{N}(i)} \\sum_{k=1}^K
        \\mathbf{w}_k(\\mathbf{e}_{i,j}) \\odot \\mathbf{\\Theta}_k \\mathbf{x}_j
        + \\mathbf{\\Theta}_{\\mathrm{root}} \\mathbf{x}_i + \\mathbf{b},
        \\qquad
        \\mathbf{w}_k(\\mathbf{e}) = \\exp \\left( -\\frac{1}{2} \\sum_{d}
        \\frac{(e_d - \\mu_{k,d})^2}{\\epsilon + \\sigma_{k,d}^2} \\right)

    with trainable means :math:`\\mu_k` and diagonal scales :math:`\\sigma_k`
    (:math:`\\epsilon = 10^{-15}`) and :math:`\\bigoplus` the aggregation (a mean by
    default).  Like the reference, the kernels are summed, not averaged (the paper's
    :math:`1/K` is absorbed by :math:`\\mathbf{\\Theta}_k`).  With ``separate_gaussians``
    every pair of input and output channel has its own mixture:
    :math:`x'_{i,m} = \\bigoplus_j \\sum_{f,k} w_{f,m,k}(\\mathbf{e}_{i,j})
    \\Theta_{f,m,k} x_{j,f}`.  ``g`` holds :math:`\\mathbf{\\Theta}` as
    ``[in, out * K]`` (column ``k * out + m`` without, ``m * K + k`` with separate
    Gaussians).

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes;
            ``-1`` for lazy (sized by the first call).
        out_channels (int): output features.
        dim (int): pseudo-coordinate dimensionality.
        kernel_size (int): number of Gaussian kernels :math:`K`.
        separate_gaussians (bool, optional): one mixture per input-output channel pair.
            (default: ``False``)
        aggr (str, optional): the aggregation (``"add"``, ``"mean"``, ``"max"``).
            (default: ``"mean"``)
        root_weight (bool, optional): add :math:`\\mathbf{\\Theta}_{\\mathrm{root}}
            \\mathbf{x}_i`. (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]``, ``edge_attr`` ``[E, dim]`` -> ``[N_dst, out]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 dim: int, kernel_size: int, separate_gaussians: bool = False,
                 aggr: str = "mean", root_weight: bool = True, bias: bool = True, **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        pair = (in_channels, in_channels) if isinstance(in_channels, int) else tuple(in_channels)
        if len(pair) != 2 or any(c == 0 or c < -1 for c in pair):
            raise ValueError(f"GMMConv: 'in_channels' must be positive or -1 (lazy), got "
                             f"{in_channels}")
        for name, value in (("dim", dim), ("kernel_size", kernel_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GMMConv: '{name}' must be a positive int, got {value!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.dim = dim
        self.kernel_size = kernel_size
        self.separate_gaussians = separate_gaussians
        self.root_weight = root_weight
        self.rel_in_channels = pair[0]
        self._in_pair = pair
        lazy = pair[0] == -1
        self.g = (UninitializedParameter() if lazy
                  else Parameter(torch.empty(pair[0], out_channels * kernel_size)))
        if separate_gaussians:  # [in, out, K, dim]: sized with the input when lazy
            self.mu = (UninitializedParameter() if lazy
                       else Parameter(torch.empty(pair[0], out_channels, kernel_size, dim)))
            self.sigma = (UninitializedParameter() if lazy
                          else Parameter(torch.empty(pair[0], out_channels, kernel_size, dim)))
        else:
            self.mu = Parameter(torch.empty(kernel_size, dim))
            self.sigma = Parameter(torch.empty(kernel_size, dim))
        self._register_load_state_dict_pre_hook(GMMConv._load_lazy_hook, with_module=True)
        self.root = (Linear(pair[1], out_channels, bias=False, weight_initializer="glorot")
                     if root_weight else None)
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for param in (self.g, self.mu, self.sigma):
            if not isinstance(param, UninitializedParameter):
                inits.glorot(param)
        if self.root is not None:
            self.root.reset_parameters()
        inits.zeros(self.bias)

    @property
    def is_lazy(self) -> bool:
        return isinstance(self.g, UninitializedParameter)

    def _materialize(self, in_channels: int, device, dtype) -> None:
        M, K, D = self.out_channels, self.kernel_size, self.dim
        self.g.materialize((in_channels, M * K), device=device, dtype=dtype)
        inits.glorot(self.g)
        if self.separate_gaussians:
            for param in (self.mu, self.sigma):
                param.materialize((in_channels, M, K, D), device=device, dtype=dtype)
                inits.glorot(param)
        self.rel_in_channels = in_channels
        self._in_pair = (in_channels, self._in_pair[1])

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        if not self.is_lazy:
            return super()._save_to_state_dict(destination, prefix, keep_vars)
        # Unmaterialised parameters are saved as they are, so a lazy layer's checkpoint
        # has the same keys as a materialised one (as gfx.nn.Linear does).
        for name, param in self._parameters.items():
            if param is not None:
                keep = keep_vars or isinstance(param, UninitializedParameter)
                destination[prefix + name] = param if keep else param.detach()

    @staticmethod
    def _load_lazy_hook(module: "GMMConv", state_dict, prefix, *args) -> None:
        g = state_dict.get(prefix + "g")
        if module.is_lazy and g is not None and not isinstance(g, UninitializedParameter):
            module._materialize(g.shape[0], g.device, g.dtype)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None, size=None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            raise ValueError("GMMConv: 'edge_index' must be a [2, E] tensor; the kernel "
                             "weights come from per-edge pseudo-coordinates")
        if edge_attr is None:
            raise ValueError(f"GMMConv: 'edge_attr' (pseudo-coordinates [E, {self.dim}]) "
                             f"is required")
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        if self.is_lazy:
            if is_tracing(pair[0]):
                raise ValueError("GMMConv: in_channels=-1 is resolved by the first call; "
                                 "run the model once before capturing it")
            self._materialize(pair[0].shape[-1], pair[0].device, pair[0].dtype)
        check_node_channels("GMMConv", pair, self._in_pair)
        check_edge_attr("GMMConv", edge_attr, edge_index, self.dim)
        edge_attr = edge_attr.reshape(-1, self.dim)
        if self.separate_gaussians:
            out = self.propagate(edge_index, x=pair, edge_attr=edge_attr, size=size)
        else:
            # Theta_k x_j for all k, once per source node: [N_src, K * out]
            out = self.propagate(edge_index, x=(pair[0] @ self.g, pair[1]),
                                 edge_attr=edge_attr, size=size)
        if pair[1] is not None and self.root is not None:
            out = out + self.root(pair[1])
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        F, M, K, D = self.rel_in_channels, self.out_channels, self.kernel_size, self.dim
        if not self.separate_gaussians:
            diff = edge_attr.view(-1, 1, D) - self.mu.view(1, K, D)
            weight = (-0.5 * diff.pow(2) / (EPS + self.sigma.view(1, K, D).pow(2))).sum(-1)
            return (x_j.view(-1, K, M) * weight.exp().view(-1, K, 1)).sum(dim=-2)
        diff = edge_attr.view(-1, 1, 1, 1, D) - self.mu.view(1, F, M, K, D)
        weight = (-0.5 * diff.pow(2) / (EPS + self.sigma.view(1, F, M, K, D).pow(2))).sum(-1)
        kernel = (weight.exp() * self.g.view(1, F, M, K)).sum(dim=-1)  # [E, F, M]
        return (x_j.view(-1, F, 1) * kernel).sum(dim=-2)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"dim={self.dim})")


__all__ = ["GMMConv"]
