"""``DenseGINConv``: the graph isomorphism convolution on dense adjacency matrices."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.nn import inits
from gfx.nn.dense.dense_gcn_conv import dense_inputs


class DenseGINConv(torch.nn.Module):
    r"""The convolution of :class:`gfx.nn.GINConv` for dense adjacency tensors.

    .. math::
        \mathbf{X}' = h_{\mathbf{\Theta}} \left( \mathbf{A} \mathbf{X} +
        (1 + \epsilon) \mathbf{X} \right)

    per graph of the batch; without ``add_loop`` the :math:`(1 + \epsilon) \mathbf{X}`
    term is left out.  Rows of nodes outside ``mask`` are zero in the output.
    :math:`\epsilon` is a buffer named ``eps`` (a parameter when ``train_eps``).

    Args:
        nn (torch.nn.Module): :math:`h_{\mathbf{\Theta}}`, applied to ``[B, N, F]``.
        eps (float, optional): the (initial) :math:`\epsilon`. (default: ``0.``)
        train_eps (bool, optional): learn :math:`\epsilon`. (default: ``False``)

    Shapes: ``x`` ``[B, N, F]``, ``adj`` ``[B, N, N]``, ``mask`` ``[B, N]`` ->
    ``[B, N, F']``.
    """

    def __init__(self, nn: torch.nn.Module, eps: float = 0.0, train_eps: bool = False):
        super().__init__()
        if not callable(nn):
            raise TypeError(f"'nn' must be a module, got {type(nn).__name__}")
        self.nn = nn
        self.initial_eps = eps
        if train_eps:
            self.eps = Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset ``nn`` and set :math:`\\epsilon` back to its initial value."""
        inits.reset(self.nn)
        self.eps.data.fill_(self.initial_eps)

    def forward(self, x: Tensor, adj: Tensor, mask: Optional[Tensor] = None,
                add_loop: bool = True) -> Tensor:
        """Convolve ``x`` over ``adj``; see the class docstring.

        Args:
            x (Tensor): node features ``[B, N, F]``.
            adj (Tensor): adjacency ``[B, N, N]``.
            mask (BoolTensor, optional): valid nodes ``[B, N]``. (default: ``None``)
            add_loop (bool, optional): add :math:`(1 + \\epsilon) \\mathbf{X}`.
                (default: ``True``)
        """
        x, adj, mask = dense_inputs(x, adj, mask)
        out = torch.matmul(adj, x)
        if add_loop:
            out = (1 + self.eps) * x + out
        out = self.nn(out)
        if mask is not None:
            out = out * mask
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(nn={self.nn})"


__all__ = ["DenseGINConv"]
