"""Resolvers: turn a name, class or instance into an activation, a normalisation layer or
an aggregation (``activation_resolver``, ``normalization_resolver``,
``aggregation_resolver``)."""
from __future__ import annotations

import copy
from typing import Callable, Dict, Optional, Union

import torch

from gfx.nn.aggr.resolver import aggregation_resolver


def _normalise_name(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _activation_classes() -> Dict[str, type]:
    """Activation modules of :mod:`torch.nn`, keyed by their normalised class names."""
    import torch.nn.modules.activation as acts
    table = {}
    for name, cls in vars(acts).items():
        if isinstance(cls, type) and issubclass(cls, torch.nn.Module) and \
                cls is not torch.nn.Module and cls.__module__ == acts.__name__ and \
                name != "MultiheadAttention":
            table[_normalise_name(name)] = cls
    table["swish"] = torch.nn.SiLU  # another name for x * sigmoid(x)
    return table


def activation_resolver(query: Union[str, Callable, type, None] = "relu",
                        **kwargs) -> Optional[Callable]:
    """Resolve ``query`` to an activation.

    * ``None`` stays ``None`` (no activation);
    * a string names an activation module of :mod:`torch.nn`, case-insensitively and
      ignoring ``_`` (``"relu"``, ``"leaky_relu"``, ``"LeakyReLU"``, ``"elu"``, ``"gelu"``,
      ``"tanh"``, ``"sigmoid"``, ``"prelu"``, ``"silu"``/``"swish"``, ...), built with
      ``**kwargs``;
    * a :class:`torch.nn.Module` subclass is built with ``**kwargs``;
    * any other callable (a module instance, ``torch.tanh``, ...) is returned as is.

    Args:
        query (str or type or Callable, optional): what to resolve. (default: ``"relu"``)
        **kwargs: constructor arguments (e.g. ``negative_slope`` for ``"leaky_relu"``).
    """
    if query is None:
        return None
    if isinstance(query, str):
        table = _activation_classes()
        cls = table.get(_normalise_name(query))
        if cls is None:
            raise ValueError(f"activation_resolver: unknown activation {query!r}; valid names "
                             f"(case-insensitive, '_' ignored): {', '.join(sorted(table))}")
        return cls(**kwargs)
    if isinstance(query, type) and issubclass(query, torch.nn.Module):
        return query(**kwargs)
    if callable(query):
        if kwargs:
            raise TypeError(f"activation_resolver: got the callable {query!r} together with "
                            f"arguments {sorted(kwargs)}; pass arguments only with a name "
                            f"or a class")
        return query
    raise TypeError(f"activation_resolver: expected a name, a module class or a callable, "
                    f"got {type(query).__name__}")


def _normalization_classes() -> Dict[str, type]:
    """Normalisation layers by normalised name: gfx's own, else the torch fallbacks."""
    import gfx.nn.norm as norms
    table: Dict[str, type] = {"batchnorm": torch.nn.BatchNorm1d, "layernorm": torch.nn.LayerNorm}
    for name in getattr(norms, "__all__", ()):
        cls = getattr(norms, name)
        if isinstance(cls, type) and issubclass(cls, torch.nn.Module):
            table[_normalise_name(name)] = cls
    return table


def normalization_resolver(query: Union[str, type, torch.nn.Module, None], channels: int,
                           **kwargs) -> Optional[torch.nn.Module]:
    """Resolve ``query`` to a normalisation layer over ``channels`` features.

    * ``None`` stays ``None``;
    * a string names a normalisation layer case-insensitively, ignoring ``_``
      (``"batch_norm"``, ``"layer_norm"``, ``"instance_norm"``, ``"graph_norm"``, ... or
      the class names): gfx's layers of :mod:`gfx.nn.norm` (whose state_dict layout
      matches the reference library), and :class:`torch.nn.BatchNorm1d` /
      :class:`torch.nn.LayerNorm` for ``"batch_norm"`` / ``"layer_norm"`` where gfx has
      none; built as ``cls(channels, **kwargs)``;
    * a :class:`torch.nn.Module` subclass is built as ``cls(channels, **kwargs)``;
    * a module instance is deep-copied, so that every layer gets its own parameters.

    Args:
        query (str or type or torch.nn.Module, optional): what to resolve.
        channels (int): features per node of the normalised input.
        **kwargs: further constructor arguments.
    """
    if query is None:
        return None
    if isinstance(query, torch.nn.Module):
        if kwargs:
            raise TypeError(f"normalization_resolver: got the module {query!r} together with "
                            f"arguments {sorted(kwargs)}; pass arguments only with a name or "
                            f"a class")
        return copy.deepcopy(query)
    if isinstance(query, str):
        table = _normalization_classes()
        cls = table.get(_normalise_name(query))
        if cls is None:
            raise ValueError(f"normalization_resolver: unknown normalization {query!r}; valid "
                             f"names (case-insensitive, '_' ignored): {', '.join(sorted(table))}")
        return cls(channels, **kwargs)
    if isinstance(query, type) and issubclass(query, torch.nn.Module):
        return query(channels, **kwargs)
    raise TypeError(f"normalization_resolver: expected a name, a module class or a module, "
                    f"got {type(query).__name__}")


__all__ = ["activation_resolver", "aggregation_resolver", "normalization_resolver"]
