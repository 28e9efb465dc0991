"""``LayerNorm``: layer normalisation per graph (or per node)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

import gfx.ops
from gfx.nn import inits
from gfx.nn.norm.instance_norm import check_features
from gfx.nn.pool.glob import check_batch, graph_count

MODES = ("graph", "node")


class LayerNorm(torch.nn.Module):
    """Layer normalisation (Ba et al., 2016) over each graph, or over each node.

    .. math::
        \\mathbf{x}'_i = \\frac{\\mathbf{x}_i - \\mathrm{E}[\\mathbf{x}]}
        {\\sqrt{\\mathrm{Var}[\\mathbf{x}] + \\epsilon}} \\odot \\gamma + \\beta

    In ``"graph"`` mode the mean and (biased) variance are single numbers per graph,
    taken over all nodes *and* channels of the graph of node :math:`i` (all nodes when
    ``batch`` is ``None``).  In ``"node"`` mode they are taken over the channels of each
    node alone (:func:`torch.nn.functional.layer_norm`).

    As in the reference library, ``"graph"`` mode with ``batch=None`` divides by
    :math:`\\sqrt{\\mathrm{Var}} + \\epsilon` instead (so it differs slightly from a batch
    vector of zeros when the variance is small).

    Args:
        in_channels (int): features per node, :math:`F`.
        eps (float, optional): added to the variance. (default: ``1e-5``)
        affine (bool, optional): learn :math:`\\gamma` (``weight``) and :math:`\\beta`
            (``bias``), one per channel. (default: ``True``)
        mode (str, optional): ``"graph"`` or ``"node"``. (default: ``"graph"``)
        device (torch.device, optional): where to create the parameters.
            (default: ``None``)

    Shapes: ``x`` ``[N, F]``, ``batch`` ``[N]`` -> ``[N, F]``.
    """

    def __init__(self, in_channels: int, eps: float = 1e-5, affine: bool = True,
                 mode: str = "graph", device: Optional[torch.device] = None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"LayerNorm: unknown mode {mode!r}; expected one of {MODES}")
        self.in_channels = in_channels
        self.eps = eps
        self.affine = affine
        self.mode = mode
        if affine:
            self.weight = Parameter(torch.empty(in_channels, device=device))
            self.bias = Parameter(torch.empty(in_channels, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """:math:`\\gamma = 1`, :math:`\\beta = 0`."""
        if self.affine:
            inits.ones(self.weight)
            inits.zeros(self.bias)

    def forward(self, x: Tensor, batch: Optional[Tensor] = None,
                batch_size: Optional[int] = None) -> Tensor:
        """Normalise ``x``; ``batch_size`` is the number of graphs (optional)."""
        check_features("LayerNorm", x, self.in_channels)
        check_batch("LayerNorm", x, batch, 0)
        if self.mode == "node":
            return F.layer_norm(x, (self.in_channels,), self.weight, self.bias, self.eps)
        if batch is None:
            # The reference library's batch=None form: divide by std + eps.
            centred = x - x.mean()
            out = centred / ((centred * centred).mean().sqrt() + self.eps)
        else:
            size = graph_count(batch, batch_size)
            # Every node has F channels, so the mean of the node means is the graph mean.
            mean = gfx.ops.scatter(x.mean(dim=-1), batch, 0, size, "mean")
            centred = x - gfx.ops.gather(mean, batch, 0).unsqueeze(-1)
            var = gfx.ops.scatter((centred * centred).mean(dim=-1), batch, 0, size, "mean")
            out = centred * gfx.ops.gather((var + self.eps).rsqrt(), batch, 0).unsqueeze(-1)
        if self.affine:
            out = out * self.weight + self.bias
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, affine={self.affine}, mode={self.mode})"


__all__ = ["LayerNorm"]
