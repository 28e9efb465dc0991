"""``Linear`` (a dense layer with lazy input size and named initialisers), and
``HeteroLinear`` / ``HeteroDictLinear`` (one linear map per type)."""
from __future__ import annotations

import math
from typing import Any, Dict, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.parameter import Parameter, UninitializedParameter

from gfx.nn import inits
from gfx.ops import gather, scatter
from gfx.ops._checks import is_tracing

WEIGHT_INITIALIZERS = ("glorot", "uniform", "kaiming_uniform", None)
BIAS_INITIALIZERS = ("zeros", None)


def initialise(weight: Tensor, bias: Optional[Tensor], fan_in: int,
               weight_initializer: Optional[str], bias_initializer: Optional[str]) -> None:
    """Draw ``weight`` and ``bias`` with the named initialisers (the reference's draws)."""
    if weight_initializer == "glorot":
        inits.glorot(weight)
    elif weight_initializer == "uniform":
        inits.uniform(fan_in, weight)
    else:
        inits.kaiming_uniform(weight, fan=fan_in, a=math.sqrt(5))
    if bias is not None:
        if bias_initializer == "zeros":
            inits.zeros(bias)
        else:
            inits.uniform(fan_in, bias)


class _LazyWeight(torch.nn.Module):
    """What Linear and HeteroLinear share: a ``weight`` that may be uninitialised (lazy
    ``in_channels=-1``), materialised on first use or on loading a built checkpoint, and
    saved as is while lazy so that lazy and built checkpoints have the same keys."""

    def _weight_shape(self, in_channels: int) -> tuple:
        raise NotImplementedError

    @property
    def is_lazy(self) -> bool:
        return isinstance(self.weight, UninitializedParameter)

    def reset_parameters(self) -> None:
        if not self.is_lazy:
            initialise(self.weight, self.bias, self.in_channels, self.weight_initializer,
                       self.bias_initializer)

    def _materialize(self, in_channels: int, device, dtype) -> None:
        if not self.is_lazy:
            return
        self.in_channels = in_channels
        self.weight.materialize(self._weight_shape(in_channels), device=device, dtype=dtype)
        if self.bias is not None:
            self.bias.data = self.bias.data.to(device=device, dtype=dtype)
        self.reset_parameters()

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        if not self.is_lazy:
            return super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "weight"] = self.weight
        if self.bias is not None:
            destination[prefix + "bias"] = self.bias if keep_vars else self.bias.detach()


class Linear(_LazyWeight):
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

    def _weight_shape(self, in_channels: int) -> tuple:
        return (self.out_channels, in_channels)

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

LINEAR_KWARGS = ("bias", "weight_initializer", "bias_initializer")


def _linear_kwargs(owner: str, kwargs: Dict[str, Any]) -> Dict[str, Any]:
    unknown = sorted(set(kwargs) - set(LINEAR_KWARGS))
    if unknown:
        raise TypeError(f"{owner}: unexpected arguments {unknown}; the extra arguments are "
                        f"those of Linear: {', '.join(LINEAR_KWARGS)}")
    return kwargs


class HeteroLinear(_LazyWeight):
    """A separate linear map for each type: row :math:`i` of type :math:`\\kappa_i` gives

    .. math::
        \\mathbf{x}'_i = \\mathbf{x}_i \\mathbf{W}_{\\kappa_i} + \\mathbf{b}_{\\kappa_i}.

    ``weight`` is ``[num_types, in_channels, out_channels]`` and ``bias``
    ``[num_types, out_channels]`` (the reference layout).  Rows are grouped by type with
    one sort, each group is one matrix product, and the rows go back in their order.

    Args:
        in_channels (int): input features, or ``-1`` to infer them on the first call.
        out_channels (int): output features.
        num_types (int): number of types.
        is_sorted (bool, optional): promise that ``type_vec`` is sorted, which skips the
            sort (checked in eager mode). (default: ``False``)
        **kwargs: ``bias``, ``weight_initializer`` and ``bias_initializer`` as for
            :class:`gfx.nn.Linear` (default: ``True``, ``None``, ``None``).

    Shapes: ``x`` ``[*, in_channels]``, ``type_vec`` ``[*]`` (integers in
    ``0..num_types-1``) -> ``[*, out_channels]``.
    """

    def __init__(self, in_channels: int, out_channels: int, num_types: int,
                 is_sorted: bool = False, **kwargs):
        super().__init__()
        kwargs = _linear_kwargs("HeteroLinear", kwargs)
        if num_types < 1:
            raise ValueError(f"HeteroLinear: 'num_types' must be at least 1, got {num_types}")
        if in_channels < -1:
            raise ValueError(f"HeteroLinear: 'in_channels' must be -1 or >= 0, got "
                             f"{in_channels}")
        self.weight_initializer = kwargs.get("weight_initializer")
        self.bias_initializer = kwargs.get("bias_initializer")
        if self.weight_initializer not in WEIGHT_INITIALIZERS:
            raise ValueError(f"HeteroLinear: unknown weight_initializer "
                             f"'{self.weight_initializer}'; expected one of "
                             f"{WEIGHT_INITIALIZERS}")
        if self.bias_initializer not in BIAS_INITIALIZERS:
            raise ValueError(f"HeteroLinear: unknown bias_initializer "
                             f"'{self.bias_initializer}'; expected one of {BIAS_INITIALIZERS}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_types = num_types
        self.is_sorted = is_sorted
        if in_channels >= 0:
            self.weight = Parameter(torch.empty(num_types, in_channels, out_channels))
        else:
            self.weight = UninitializedParameter()
        if kwargs.get("bias", True):
            self.bias = Parameter(torch.empty(num_types, out_channels))
        else:
            self.register_parameter("bias", None)
        self._register_load_state_dict_pre_hook(HeteroLinear._load_lazy_hook,
                                                with_module=True)
        self.reset_parameters()

    def _weight_shape(self, in_channels: int) -> tuple:
        return (self.num_types, in_channels, self.out_channels)

    @staticmethod
    def _load_lazy_hook(module: "HeteroLinear", state_dict, prefix, *args) -> None:
        weight = state_dict.get(prefix + "weight")
        if module.is_lazy and weight is not None and \
                not isinstance(weight, UninitializedParameter):
            module._materialize(weight.shape[1], weight.device, weight.dtype)

    def _check(self, x: Tensor, type_vec: Tensor) -> None:
        if x.shape[-1] != self.in_channels:
            raise ValueError(f"HeteroLinear: 'x' must have in_channels={self.in_channels} "
                             f"features in the last dimension, got shape {list(x.shape)}")
        if type_vec.dtype.is_floating_point or type_vec.dtype.is_complex or \
                type_vec.dtype == torch.bool:
            raise TypeError(f"HeteroLinear: 'type_vec' must hold integers, got "
                            f"{type_vec.dtype}")
        if type_vec.shape != x.shape[:-1]:
            raise ValueError(f"HeteroLinear: 'type_vec' must have shape {list(x.shape[:-1])} "
                             f"(one type per row of 'x'), got {list(type_vec.shape)}")
        if type_vec.numel() == 0:
            return
        lo, hi = int(type_vec.min()), int(type_vec.max())
        if lo < 0 or hi >= self.num_types:
            raise IndexError(f"HeteroLinear: 'type_vec' contains type {lo if lo < 0 else hi}, "
                             f"but num_types={self.num_types} (valid 0..{self.num_types - 1})")
        if self.is_sorted and bool((type_vec.reshape(-1).diff() < 0).any()):
            raise ValueError("HeteroLinear: is_sorted=True but 'type_vec' is not sorted")

    def forward(self, x: Tensor, type_vec: Tensor) -> Tensor:
        if self.is_lazy:
            self._materialize(x.shape[-1], x.device, x.dtype)
        if not is_tracing(x, type_vec):
            self._check(x, type_vec)
        flat = x.reshape(-1, x.shape[-1])
        types = type_vec.reshape(-1)
        if not self.is_sorted:
            types, perm = torch.sort(types, stable=True)
            flat = gather(flat, perm, 0)
        # Row ranges of each type in the sorted order: [ptr[t], ptr[t + 1]).
        ptr = torch.searchsorted(types, torch.arange(self.num_types + 1, device=types.device,
                                                     dtype=types.dtype))
        parts = []
        for t in range(self.num_types):
            part = flat[ptr[t]:ptr[t + 1]] @ self.weight[t]
            parts.append(part if self.bias is None else part + self.bias[t])
        out = torch.cat(parts, dim=0)
        if not self.is_sorted:  # each row back to where it came from
            out = scatter(out, perm, 0, flat.shape[0], "sum")
        return out.reshape(x.shape[:-1] + (self.out_channels,))

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, num_types={self.num_types}, "
                f"bias={self.bias is not None}")


class HeteroDictLinear(torch.nn.Module):
    """A separate :class:`gfx.nn.Linear` for each key of a feature dictionary:

    .. math::
        \\mathbf{X}'_\\kappa = \\mathbf{X}_\\kappa \\mathbf{W}_\\kappa^{\\top}
        + \\mathbf{b}_\\kappa.

    The maps are ``lins[key]`` (parameters ``lins.<key>.weight`` / ``lins.<key>.bias``).
    Keys of the input that have no map are left out of the output, as are maps whose key
    the input lacks.

    Args:
        in_channels (int or dict): input features (``-1`` for lazy), the same for every
            type, or one size per type (which then also gives the types).
        out_channels (int): output features.
        types (list, optional): the types; required when ``in_channels`` is an int.
            (default: ``None``)
        **kwargs: ``bias``, ``weight_initializer`` and ``bias_initializer`` as for
            :class:`gfx.nn.Linear`.

    Shapes: ``x_dict`` ``{key: [*, in_channels[key]]}`` -> ``{key: [*, out_channels]}``.
    """

    def __init__(self, in_channels: Union[int, Dict[Any, int]], out_channels: int,
                 types: Optional[Any] = None, **kwargs):
        super().__init__()
        kwargs = _linear_kwargs("HeteroDictLinear", kwargs)
        if isinstance(in_channels, dict):
            if types is not None and set(types) != set(in_channels):
                raise ValueError(f"HeteroDictLinear: 'types' {list(types)} do not match the "
                                 f"keys of 'in_channels' {list(in_channels)}")
            types = list(in_channels)
        else:
            if types is None:
                raise ValueError("HeteroDictLinear: 'types' must be given when "
                                 "'in_channels' is an int")
            types = list(types)
            in_channels = {key: in_channels for key in types}
        for key in types:
            if not isinstance(key, str) or not key or "." in key:
                raise ValueError(f"HeteroDictLinear: type {key!r} must be a non-empty string "
                                 f"without '.' (it names the submodule lins.<type>)")
        self.in_channels = dict(in_channels)
        self.out_channels = out_channels
        self.types = types
        self.kwargs = kwargs
        self.lins = torch.nn.ModuleDict(
            {key: Linear(cin, out_channels, **kwargs) for key, cin in in_channels.items()})
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in self.lins.values():
            lin.reset_parameters()

    def forward(self, x_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
        if is_tracing(x_dict):  # a traced dict: every type is expected
            return {key: lin(x_dict[key]) for key, lin in self.lins.items()}
        out = {}
        for key, x in x_dict.items():
            if key in self.lins:
                lin = self.lins[key]
                if not is_tracing(x) and not lin.is_lazy and x.shape[-1] != lin.in_channels:
                    raise ValueError(f"HeteroDictLinear: x_dict[{key!r}] must have "
                                     f"{lin.in_channels} features in the last dimension, "
                                     f"got shape {list(x.shape)}")
                out[key] = lin(x)
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"bias={self.kwargs.get('bias', True)})")


__all__ = ["HeteroDictLinear", "HeteroLinear", "Linear"]
