"""``DeepGCNLayer``: the residual / dense skip connections of the DeepGCN papers."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from gfx.ops._checks import is_tracing

BLOCKS = ("res+", "res", "dense", "plain")


class DeepGCNLayer(torch.nn.Module):
    """A convolution wrapped in the skip connection of "DeepGCNs: Can GCNs Go as Deep as
    CNNs?" and "All You Need to Train Deeper GCNs".

    With :math:`\\mathcal{C}` the convolution, :math:`\\mathcal{N}` the normalisation and
    :math:`\\sigma` the activation (each optional):

    * ``"res+"`` (pre-activation residual):
      :math:`\\mathbf{X}' = \\mathbf{X} + \\mathcal{C}(\\mathrm{Dropout}(\\sigma(
      \\mathcal{N}(\\mathbf{X}))))`;
    * ``"res"``: :math:`\\mathbf{X}' = \\mathrm{Dropout}(\\mathbf{X} + \\mathbf{H})`,
      with :math:`\\mathbf{H} = \\sigma(\\mathcal{N}(\\mathcal{C}(\\mathbf{X})))`;
    * ``"dense"``: :math:`\\mathbf{X}' = \\mathrm{Dropout}(\\mathbf{X} \\,\\Vert\\, \\mathbf{H})`;
    * ``"plain"``: :math:`\\mathbf{X}' = \\mathrm{Dropout}(\\mathbf{H})`.

    A missing ``conv``, ``norm`` or ``act`` (``None``) is skipped (the identity).

    Args:
        conv (torch.nn.Module, optional): the graph convolution, called as
            ``conv(x, *args, **kwargs)``. (default: ``None``)
        norm (torch.nn.Module, optional): the normalisation layer. (default: ``None``)
        act (torch.nn.Module, optional): the activation. (default: ``None``)
        block (str, optional): ``"res+"``, ``"res"``, ``"dense"`` or ``"plain"``.
            (default: ``"res+"``)
        dropout (float, optional): dropout probability. (default: ``0.0``)
        ckpt_grad (bool, optional): recompute the convolution in the backward pass
            instead of storing its activations (eager mode, when the input needs
            gradients; the values are unchanged). (default: ``False``)

    Shapes: ``x`` ``[N, C]`` -> ``[N, C]`` (``[N, 2C]`` for ``"dense"`` with a
    ``C -> C`` convolution).
    """

    def __init__(self, conv: Optional[torch.nn.Module] = None,
                 norm: Optional[torch.nn.Module] = None,
                 act: Optional[torch.nn.Module] = None, block: str = "res+",
                 dropout: float = 0.0, ckpt_grad: bool = False):
        super().__init__()
        block = block.lower() if isinstance(block, str) else block
        if block not in BLOCKS:
            raise ValueError(f"DeepGCNLayer: unknown block {block!r}; expected one of "
                             f"{', '.join(map(repr, BLOCKS))}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"DeepGCNLayer: 'dropout' must be in [0, 1], got {dropout}")
        self.conv = conv
        self.norm = norm
        self.act = act
        self.block = block
        self.dropout = dropout
        self.ckpt_grad = ckpt_grad

    def reset_parameters(self) -> None:
        for module in (self.conv, self.norm, self.act):
            if module is not None and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def _run_conv(self, h: Tensor, *args, **kwargs) -> Tensor:
        if self.conv is None:
            return h
        if self.ckpt_grad and not is_tracing(h) and h.requires_grad:
            return checkpoint(self.conv, h, *args, use_reentrant=False, **kwargs)
        return self.conv(h, *args, **kwargs)

    def forward(self, *args, **kwargs) -> Tensor:
        """``forward(x, *conv_args, **conv_kwargs)``: the extra arguments go to ``conv``."""
        if not args:
            raise TypeError("DeepGCNLayer: the node features must be the first positional "
                            "argument")
        x, args = args[0], args[1:]
        if self.block == "res+":
            h = x
            if self.norm is not None:
                h = self.norm(h)
            if self.act is not None:
                h = self.act(h)
            h = F.dropout(h, p=self.dropout, training=self.training)
            return x + self._run_conv(h, *args, **kwargs)

        h = self._run_conv(x, *args, **kwargs)
        if self.norm is not None:
            h = self.norm(h)
        if self.act is not None:
            h = self.act(h)
        if self.block == "res":
            h = x + h
        elif self.block == "dense":
            h = torch.cat([x, h], dim=-1)
        return F.dropout(h, p=self.dropout, training=self.training)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(block={self.block})"


__all__ = ["DeepGCNLayer"]
