"""``Linear``: a dense layer with lazy input size and named initialisers."""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.parameter import Parameter, UninitializedParameter

from gfx.nn import inits
from gfx.ops._checks import is_tracing

WEIGHT_INITIALIZERS = ("glorot", "uniform", "kaiming_uniform", None)
BIAS_INITIALIZERS = ("zeros", None)


class Linear(torch.nn.Module):
    """Applies :math:`\\mathbf{x}' = \\mathbf{x}\\mathbf{W}^{\\top} + \\mathbf{b}`.

    Unlike :class:`torch.nn.Linear`, ``in_channels=-1`` defers the input size to the
    first call (the weight materialises on that input's device and dtype), and the
    initialisers can be chosen by name.

    Args:
        in_channels (int): size of each input sample, or ``-1`` to infer it lazily.
        out_channels (int): size of each output sample.
        bias (bool, optional): learn an additive bias. (default: ``True``)
        weight_initializer (str, optional): ``"glorot"``, ``"uniform"``,
            ``"kaiming_uniform"`` or ``None`` (the :class:`torch.nn.Linear` default).
            (default: ``None``)
        bias_initializer (str, optional): ``"zeros"`` or ``None`` (the
            :class:`torch.nn.Linear` default). (default: ``None``)
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True,
                 weight_initializer: Optional[str] = None,
                 bias_initializer: Optional[str] = None):
        super().__init__()
        if weight_initializer not in WEIGHT_INITIALIZERS:
            raise ValueError(f"Linear: unknown weight_initializer '{weight_initializer}'; "
                             f"expected one of {WEIGHT_INITIALIZERS}")
        if bias_initializer not in BIAS_INITIALIZERS:
            raise ValueError(f"Linear: unknown bias_initializer '{bias_initializer}'; "
                             f"expected one of {BIAS_INITIALIZERS}")
        if in_channels < -1:
            raise ValueError(f"Linear: in_channels must be -1 or >= 0, got {in_channels}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.weight_initializer = weight_initializer
        self.bias_initializer = bias_initializer
        if in_channels >= 0:
            self.weight = Parameter(torch.empty(out_channels, in_channels))
        else:
            self.weight = UninitializedParameter()
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self._register_load_state_dict_pre_hook(Linear._load_lazy_hook, with_module=True)
        self.reset_parameters()

    @property
    def is_lazy(self) -> bool:
        return isinstance(self.weight, UninitializedParameter)

    def reset_parameters(self) -> None:
        if self.is_lazy:
            return
        fan_in = self.in_channels
        if self.weight_initializer == "glorot":
            inits.glorot(self.weight)
        elif self.weight_initializer == "uniform":
            inits.uniform(fan_in, self.weight)
        else:
            inits.kaiming_uniform(self.weight, fan=fan_in, a=math.sqrt(5))
        if self.bias is not None:
            if self.bias_initializer == "zeros":
                inits.zeros(self.bias)
            else:
                inits.uniform(fan_in, self.bias)

    def _materialize(self, in_channels: int, device, dtype) -> None:
        if not self.is_lazy:
            return
        self.in_channels = in_channels
        self.weight.materialize((self.out_channels, in_channels), device=device, dtype=dtype)
        if self.bias is not None:
            self.bias.data = self.bias.data.to(device=device, dtype=dtype)
        self.reset_parameters()

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        if not self.is_lazy:
            return super()._save_to_state_dict(destination, prefix, keep_vars)
        # An uninitialised weight is saved as is, so a lazy model's checkpoint has the
        # same keys as a materialised one and loads into either.
        destination[prefix + "weight"] = self.weight
        if self.bias is not None:
            destination[prefix + "bias"] = self.bias if keep_vars else self.bias.detach()

    @staticmethod
    def _load_lazy_hook(module: "Linear", state_dict, prefix, *args) -> None:
        weight = state_dict.get(prefix + "weight")
        if weight is None:
            return
        if module.is_lazy and not isinstance(weight, UninitializedParameter):
            module._materialize(weight.shape[-1], weight.device, weight.dtype)
        elif not module.is_lazy and isinstance(weight, UninitializedParameter):
            # A lazy checkpoint makes a built layer lazy again (the reference's behaviour):
            # its input size is taken from the next call.
            module.in_channels = -1
            module.weight = UninitializedParameter(device=module.weight.device,
                                                   dtype=module.weight.dtype)

    def forward(self, x: Tensor) -> Tensor:
        if self.is_lazy:
            self._materialize(x.shape[-1], x.device, x.dtype)
        elif not is_tracing(x) and x.shape[-1] != self.in_channels:
            raise ValueError(f"Linear: expected inputs with {self.in_channels} features in the "
                             f"last dimension, got shape {list(x.shape)}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, bias={self.bias is not None}"

__all__ = ["Linear"]
