"""``HeteroLayerNorm``: layer normalisation of each row with per-type affine parameters."""
from __future__ import annotations

from typing import List, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor

import gfx.ops
from gfx.ops._checks import is_tracing

from .hetero_batch_norm import check_type_vec


class HeteroLayerNorm(torch.nn.Module):
    """Layer normalisation (Ba et al., 2016) of heterogeneous rows: every row is
    normalised over its channels, then scaled and shifted by its type's parameters.

    .. math::
        \\mathbf{x}'_i = \\frac{\\mathbf{x}_i - \\mathrm{E}[\\mathbf{x}_i]}
        {\\sqrt{\\mathrm{Var}[\\mathbf{x}_i] + \\epsilon}} \\odot \\gamma_{t_i} +
        \\beta_{t_i}

    with the mean and biased variance of row :math:`i` over its channels.  The types
    come as a vector ``type_vec`` or, for rows sorted by type, as ``type_ptr``
    (``type_ptr[t]:type_ptr[t+1]`` are the rows of type :math:`t`).

    Args:
        in_channels (int): features per row.
        num_types (int): the number of types.
        eps (float, optional): added to the variance. (default: ``1e-5``)
        affine (bool, optional): learn per-type :math:`\\gamma` and :math:`\\beta`.
            (default: ``True``)
        mode (str, optional): the normalisation granularity; only ``"node"`` (each row
            on its own) is defined. (default: ``"node"``)
        device (torch.device, optional): where to create the parameters.
            (default: ``None``)

    Shapes: ``x`` ``[N, F]`` -> ``[N, F]``.
    """

    def __init__(self, in_channels: int, num_types: int, eps: float = 1e-5,
                 affine: bool = True, mode: str = "node",
                 device: Optional[torch.device] = None):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("num_types", num_types)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"HeteroLayerNorm: '{name}' must be a positive int, "
                                 f"got {value!r}")
        if mode != "node":
            raise ValueError(f"HeteroLayerNorm: 'mode' must be 'node', got {mode!r}")
        self.in_channels = in_channels
        self.num_types = num_types
        self.eps = eps
        self.affine = affine
        self.mode = mode
        if affine:
            self.weight = torch.nn.Parameter(torch.empty(num_types, in_channels, device=device))
            self.bias = torch.nn.Parameter(torch.empty(num_types, in_channels, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """:math:`\\gamma = 1`, :math:`\\beta = 0`."""
        if self.affine:
            torch.nn.init.ones_(self.weight)
            torch.nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, type_vec: Optional[Tensor] = None,
                type_ptr: Optional[Union[Tensor, List[int]]] = None) -> Tensor:
        """Normalise ``x``; give the types as ``type_vec`` ``[N]`` or ``type_ptr``
        ``[num_types + 1]``."""
        if not is_tracing(x) and (x.dim() != 2 or x.size(1) != self.in_channels):
            raise ValueError(f"HeteroLayerNorm: expected 'x' of shape [N, "
                             f"{self.in_channels}] (in_channels={self.in_channels}), got "
                             f"{list(x.shape)}")
        out = F.layer_norm(x, (self.in_channels,), eps=self.eps)
        if not self.affine:
            return out
        if type_vec is None:
            if type_ptr is None:
                raise ValueError("HeteroLayerNorm: give the row types as 'type_vec' or "
                                 "'type_ptr'")
            type_vec = self._ptr_to_types(x, type_ptr)
        check_type_vec("HeteroLayerNorm", x, type_vec, self.num_types)
        return out * gfx.ops.gather(self.weight, type_vec, 0) \
            + gfx.ops.gather(self.bias, type_vec, 0)

    def _ptr_to_types(self, x: Tensor, type_ptr) -> Tensor:
        ptr = torch.as_tensor(type_ptr, dtype=torch.long, device=x.device)
        if not is_tracing(x) and (ptr.dim() != 1 or ptr.numel() != self.num_types + 1
                                  or int(ptr[0]) != 0 or int(ptr[-1]) != x.size(0)
                                  or bool((ptr[1:] < ptr[:-1]).any())):
            raise ValueError(f"HeteroLayerNorm: 'type_ptr' must be {self.num_types + 1} "
                             f"non-decreasing offsets from 0 to {x.size(0)}, got "
                             f"{ptr.tolist()}")
        counts = ptr[1:] - ptr[:-1]
        return torch.repeat_interleave(torch.arange(self.num_types, device=x.device), counts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, num_types={self.num_types})"


__all__ = ["HeteroLayerNorm"]
