"""``MessageNorm``: rescale aggregated messages to the norm of the node features."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from gfx.ops._checks import is_tracing


class MessageNorm(torch.nn.Module):
    """Message normalisation of "DeeperGCN: All You Need to Train Deeper GCNs".

    .. math::
        \\mathbf{x}_i' = s \\cdot \\lVert \\mathbf{x}_i \\rVert_p \\cdot
        \\frac{\\mathbf{m}_i}{\\lVert \\mathbf{m}_i \\rVert_p}

    where :math:`\\mathbf{m}_i` is the aggregated message of node :math:`i` and
    :math:`s` a scale (learnable or fixed at 1).  A zero message stays 0 (the norm in
    the denominator is clamped at :math:`10^{-12}`).  The caller adds the result to
    :math:`\\mathbf{x}_i` and applies its MLP.

    Args:
        learn_scale (bool, optional): learn :math:`s` (the parameter ``scale`` exists
            either way and receives no gradient when fixed). (default: ``False``)
        device (torch.device, optional): where to create the parameter.
            (default: ``None``)

    Shapes: ``x`` ``[N, F_x]``, ``msg`` ``[N, F]`` -> ``[N, F]``.
    """

    def __init__(self, learn_scale: bool = False, device: Optional[torch.device] = None):
        super().__init__()
        self.learn_scale = learn_scale
        self.scale = Parameter(torch.empty(1, device=device), requires_grad=learn_scale)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set the scale back to 1."""
        with torch.no_grad():
            self.scale.fill_(1.0)

    def forward(self, x: Tensor, msg: Tensor, p: float = 2.0) -> Tensor:
        """Rescale ``msg`` (row by row) to the :math:`\\ell_p` norm of ``x`` times ``scale``."""
        if not is_tracing(x, msg) and x.shape[:-1] != msg.shape[:-1]:
            raise ValueError(f"MessageNorm: 'x' {list(x.shape)} and 'msg' {list(msg.shape)} "
                             f"must have the same number of rows")
        msg = F.normalize(msg, p=p, dim=-1)
        return msg * x.norm(p=p, dim=-1, keepdim=True) * self.scale

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learn_scale={self.learn_scale})"


__all__ = ["MessageNorm"]
