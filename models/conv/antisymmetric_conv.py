"""``AntiSymmetricConv``: the anti-symmetric deep graph network layer of Gravina et al.
(ICLR 2023)."""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, Optional, Union

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.resolver import activation_resolver
from gfx.utils import is_tracing


def _refuse_captured_extras(x: Tensor, args: tuple, kwargs: dict) -> Tensor:
    """Run-time guard of a captured graph, traced without ``phi``'s extra inputs: returns
    ``x`` (so that the guard stays in the data flow) when there are none."""
    if len(args) or len(kwargs):
        raise TypeError("AntiSymmetricConv: this captured graph was traced with "
                        "(x, edge_index) only; capture it again with the extra arguments of "
                        "'phi' passed by name in the model that calls it")
    return x


# A graph input is one placeholder for all of *args: keep the guard as one node.
torch.fx.wrap("_refuse_captured_extras")


class AntiSymmetricConv(torch.nn.Module):
    """The anti-symmetric graph convolution of "Anti-Symmetric DGN: a stable architecture
    for Deep Graph Networks".

    A forward-Euler discretisation of a stable graph ODE, run ``num_iters`` times with
    shared weights:

    .. math::
        \\mathbf{x}^{(\\ell)}_i = \\mathbf{x}^{(\\ell-1)}_i + \\epsilon \\, \\sigma \\left(
        (\\mathbf{W} - \\mathbf{W}^{\\top} - \\gamma \\mathbf{I}) \\mathbf{x}^{(\\ell-1)}_i
        + \\Phi(\\mathbf{X}^{(\\ell-1)}, \\mathcal{N}_i) + \\mathbf{b} \\right)

    :math:`\\mathbf{W} - \\mathbf{W}^{\\top}` is anti-symmetric (purely imaginary
    eigenvalues); :math:`-\\gamma \\mathbf{I}` (buffer ``eye``) damps it.  :math:`\\Phi`
    is the neighbourhood aggregation ``phi``, by default ``GCNConv(in_channels,
    in_channels, bias=False)``.

    Args:
        in_channels (int): features per node (input and output).
        phi (MessagePassing, optional): the aggregation :math:`\\Phi`; any layer mapping
            ``in_channels`` to ``in_channels``. (default: ``None``, a bias-free GCNConv)
        num_iters (int, optional): number of Euler steps. (default: ``1``)
        epsilon (float, optional): step size :math:`\\epsilon`. (default: ``0.1``)
        gamma (float, optional): damping :math:`\\gamma`. (default: ``0.1``)
        act (str or Callable, optional): the non-linearity :math:`\\sigma`; ``None`` for
            the identity. (default: ``"tanh"``)
        act_kwargs (dict, optional): arguments of ``act`` when it is named.
            (default: ``None``)
        bias (bool, optional): learn the bias :math:`\\mathbf{b}`. (default: ``True``)

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` (and whatever further
    arguments ``phi`` takes, passed through) -> ``[N, in_channels]``.
    """

    def __init__(self, in_channels: int, phi: Optional[MessagePassing] = None,
                 num_iters: int = 1, epsilon: float = 0.1, gamma: float = 0.1,
                 act: Union[str, Callable, None] = "tanh",
                 act_kwargs: Optional[Dict[str, Any]] = None, bias: bool = True):
        super().__init__()
        if not isinstance(in_channels, int) or in_channels <= 0:
            raise ValueError(f"AntiSymmetricConv: 'in_channels' must be a positive int, got "
                             f"{in_channels!r}")
        if int(num_iters) < 1:
            raise ValueError(f"AntiSymmetricConv: 'num_iters' must be at least 1, got "
                             f"{num_iters!r}")
        self.in_channels = in_channels
        self.num_iters = int(num_iters)
        self.epsilon = epsilon
        self.gamma = gamma
        if phi is None:
            from gfx.nn.conv.gcn_conv import GCNConv
            phi = GCNConv(in_channels, in_channels, bias=False)
        self.W = Parameter(torch.empty(in_channels, in_channels))
        self.register_buffer("eye", torch.eye(in_channels))
        self.phi = phi
        self.act = activation_resolver(act, **(act_kwargs or {}))
        self.bias = Parameter(torch.empty(in_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        inits.kaiming_uniform(self.W, fan=self.in_channels, a=math.sqrt(5))
        inits.reset(self.phi)
        inits.zeros(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor, *args, **kwargs) -> Tensor:
        if not is_tracing(x) and (x.dim() != 2 or x.shape[-1] != self.in_channels):
            raise ValueError(f"AntiSymmetricConv: 'x' must have shape [num_nodes, "
                             f"{self.in_channels}], got {list(x.shape)}")
        if isinstance(args, torch.fx.Proxy) or isinstance(kwargs, torch.fx.Proxy):
            # Captured as the root module: fx gives *args/**kwargs one placeholder each,
            # which cannot be unpacked; trace (x, edge_index) and refuse extras at run time.
            x = _refuse_captured_extras(x, args, kwargs)
            args, kwargs = (), {}
        weight = self.W - self.W.t() - self.gamma * self.eye
        for _ in range(self.num_iters):
            h = self.phi(x, edge_index, *args, **kwargs)
            h = x @ weight.t() + h
            if self.bias is not None:
                h = h + self.bias
            if self.act is not None:
                h = self.act(h)
            x = x + self.epsilon * h
        return x

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, phi={self.phi}, "
                f"num_iters={self.num_iters}, epsilon={self.epsilon}, gamma={self.gamma})")


__all__ = ["AntiSymmetricConv"]
