"""``MLP``: a stack of linear layers with activation, normalisation and dropout.

Also holds the two name resolvers the full models share: :func:`activation_resolver`
(``"relu"`` -> :class:`torch.nn.ReLU`, ...) and :func:`normalization_resolver`
(``"batch_norm"`` -> a batch normalisation layer, ...).
"""
from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable, Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.dense.linear import Linear
from gfx.nn.resolver import activation_resolver, normalization_resolver
from gfx.ops._checks import is_tracing


def takes_batch(module: Optional[Callable]) -> bool:
    """Whether ``module(x, batch, batch_size)`` is its calling convention (graph-wise norms)."""
    if module is None:
        return False
    try:
        params = inspect.signature(module.forward if isinstance(module, torch.nn.Module)
                                   else module).parameters
    except (TypeError, ValueError):
        return False
    return "batch" in params


class MLP(torch.nn.Module):
    """A multi-layer perceptron.

    Layer :math:`\\ell` computes

    .. math::
        \\mathbf{h}^{(\\ell)} = \\mathrm{Dropout}_{p_\\ell}\\left(\\sigma\\left(
        \\mathrm{Norm}\\left(\\mathbf{h}^{(\\ell-1)} \\mathbf{W}_\\ell^{\\top} +
        \\mathbf{b}_\\ell\\right)\\right)\\right)

    (:math:`\\sigma` before the normalisation with ``act_first=True``); with
    ``plain_last=True`` the last layer is only the linear map followed by its dropout.

    Build it from a channel list, ``MLP([16, 32, 64, 128])`` (three layers), or from
    sizes, ``MLP(in_channels=16, hidden_channels=32, out_channels=128, num_layers=3)``.

    Args:
        channel_list (list of int or int, optional): input, hidden and output sizes;
            ``len(channel_list) - 1`` layers. An int is taken as ``in_channels``.
            (default: ``None``)
        in_channels (int, optional): input features (``-1`` for lazy); overrides
            ``channel_list``. (default: ``None``)
        hidden_channels (int, optional): hidden features. (default: ``None``)
        out_channels (int, optional): output features. (default: ``None``)
        num_layers (int, optional): number of layers. (default: ``None``)
        dropout (float or list of float, optional): dropout probability after each layer,
            or one per layer. A float is not applied after a plain last layer.
            (default: ``0.0``)
        act (str or Callable, optional): activation, see :func:`activation_resolver`.
            (default: ``"relu"``)
        act_first (bool, optional): activation before normalisation. (default: ``False``)
        act_kwargs (dict, optional): arguments of the activation. (default: ``None``)
        norm (str or Callable, optional): normalisation, see
            :func:`normalization_resolver`. (default: ``"batch_norm"``)
        norm_kwargs (dict, optional): arguments of the normalisation. (default: ``None``)
        plain_last (bool, optional): no activation, normalisation or hidden dropout after
            the last layer. (default: ``True``)
        bias (bool or list of bool, optional): learn additive biases, or one flag per
            layer. (default: ``True``)
        **kwargs: the deprecated spellings ``relu_first`` (``act_first``), ``batch_norm``
            (bool: ``norm="batch_norm"`` or ``None``) and ``batch_norm_kwargs``
            (``norm_kwargs``).

    Shapes: ``x`` ``[*, in_channels]`` -> ``[*, out_channels]``; ``batch`` ``[N]`` is
    passed to graph-wise normalisations.
    """

    def __init__(self, channel_list: Union[List[int], int, None] = None, *,
                 in_channels: Optional[int] = None, hidden_channels: Optional[int] = None,
                 out_channels: Optional[int] = None, num_layers: Optional[int] = None,
                 dropout: Union[float, List[float]] = 0.0,
                 act: Union[str, Callable, None] = "relu", act_first: bool = False,
                 act_kwargs: Optional[Dict[str, Any]] = None,
                 norm: Union[str, Callable, None] = "batch_norm",
                 norm_kwargs: Optional[Dict[str, Any]] = None, plain_last: bool = True,
                 bias: Union[bool, List[bool]] = True, **kwargs):
        super().__init__()
        act_first = kwargs.pop("relu_first", act_first)
        if "batch_norm" in kwargs:
            norm = "batch_norm" if kwargs.pop("batch_norm") else None
        norm_kwargs = kwargs.pop("batch_norm_kwargs", norm_kwargs)
        if kwargs:  # the reference accepts and ignores them; gfx says so
            warnings.warn(f"MLP: ignoring unknown arguments {sorted(kwargs)} (accepted for "
                          f"compatibility; they have no effect)", stacklevel=2)

        channel_list = self._channel_list(channel_list, in_channels, hidden_channels,
                                          out_channels, num_layers)
        layers = len(channel_list) - 1
        self.channel_list = channel_list
        self.act = activation_resolver(act, **(act_kwargs or {}))
        self.act_first = act_first
        self.plain_last = plain_last

        if isinstance(dropout, (int, float)):
            dropout = [float(dropout)] * layers
            if plain_last:
                dropout[-1] = 0.0
        if len(dropout) != layers:
            raise ValueError(f"MLP: got {len(dropout)} dropout values for {layers} layers")
        self.dropout = list(dropout)
        if isinstance(bias, bool):
            bias = [bias] * layers
        if len(bias) != layers:
            raise ValueError(f"MLP: got {len(bias)} bias flags for {layers} layers")

        self.lins = torch.nn.ModuleList(
            Linear(cin, cout, bias=b)
            for cin, cout, b in zip(channel_list[:-1], channel_list[1:], bias))
        normed = channel_list[1:-1] if plain_last else channel_list[1:]
        self.norms = torch.nn.ModuleList(
            normalization_resolver(norm, c, **(norm_kwargs or {})) or torch.nn.Identity()
            for c in normed)
        self.supports_norm_batch = takes_batch(self.norms[0]) if len(self.norms) else False
        self.reset_parameters()

    @staticmethod
    def _channel_list(channel_list, in_channels, hidden_channels, out_channels,
                      num_layers) -> List[int]:
        if isinstance(channel_list, int):
            in_channels = channel_list
        if in_channels is not None:
            if num_layers is None:
                raise ValueError("MLP: 'num_layers' must be given together with "
                                 "'in_channels'")
            if num_layers < 1:
                raise ValueError(f"MLP: 'num_layers' must be at least 1, got {num_layers}")
            if num_layers > 1 and hidden_channels is None:
                raise ValueError(f"MLP: 'hidden_channels' must be given for "
                                 f"num_layers={num_layers}")
            if out_channels is None:
                raise ValueError("MLP: 'out_channels' must be given together with "
                                 "'in_channels'")
            return [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        if not isinstance(channel_list, (list, tuple)) or len(channel_list) < 2:
            raise ValueError(f"MLP: 'channel_list' must list at least the input and output "
                             f"sizes, got {channel_list!r}")
        return list(channel_list)

    @property
    def in_channels(self) -> int:
        """Input features (``-1`` while lazy)."""
        return self.channel_list[0]

    @property
    def out_channels(self) -> int:
        return self.channel_list[-1]

    @property
    def num_layers(self) -> int:
        return len(self.channel_list) - 1

    def reset_parameters(self) -> None:
        for lin in self.lins:
            lin.reset_parameters()
        for norm in self.norms:
            if hasattr(norm, "reset_parameters"):
                norm.reset_parameters()
        if hasattr(self.act, "reset_parameters"):
            self.act.reset_parameters()

    def forward(self, x: Tensor, batch: Optional[Tensor] = None,
                batch_size: Optional[int] = None, return_emb: Optional[bool] = None):
        """Apply the layers; with ``return_emb=True`` also return the last hidden embedding.

        Args:
            x (Tensor): ``[*, in_channels]`` input features.
            batch (Tensor, optional): graph id of each row, for graph-wise
                normalisations. (default: ``None``)
            batch_size (int, optional): number of graphs in ``batch``. (default: ``None``)
            return_emb (bool, optional): return ``(out, embedding)``, the embedding being
                the input of a plain last layer (else the output). (default: ``None``)
        """
        first = self.lins[0]
        if not is_tracing(x) and not first.is_lazy and x.shape[-1] != first.in_channels:
            raise ValueError(f"MLP: 'x' must have {first.in_channels} features in the last "
                             f"dimension, got shape {list(x.shape)}")
        emb = x
        for i, norm in enumerate(self.norms):
            x = self.lins[i](x)
            if self.act is not None and self.act_first:
                x = self.act(x)
            x = norm(x, batch, batch_size) if self.supports_norm_batch else norm(x)
            if self.act is not None and not self.act_first:
                x = self.act(x)
            x = F.dropout(x, p=self.dropout[i], training=self.training)
            emb = x
        if self.plain_last:
            x = self.lins[-1](x)
            x = F.dropout(x, p=self.dropout[-1], training=self.training)
        if return_emb is True:
            return x, emb
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.channel_list)[1:-1]})"


__all__ = ["MLP"]
