"""``EquilibriumAggregation``: the aggregate is the minimiser of a learned energy."""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import Tensor

import gfx.ops
from gfx.ops.segment import ptr_to_index

from ._dense import check_two_dimensional, group_count
from .base import Aggregation, register_aggregation


class ResNetPotential(torch.nn.Module):
    """The potential :math:`F(\\mathbf{x}, \\mathbf{y})`: a residual MLP on
    :math:`[\\mathbf{x} \\Vert \\mathbf{y}]`, averaged per group and summed over groups.

    Hidden layer :math:`l` is :math:`\\mathbf{h}_l = \\tanh(\\mathrm{LN}(\\mathbf{W}_l
    \\mathbf{h}_{l-1})) + \\mathbf{R}_l \\mathbf{u}`, the last one
    :math:`\\mathbf{W}_L\\mathbf{h}_{L-1} + \\mathbf{R}_L \\mathbf{u}`, where
    :math:`\\mathbf{u} = [\\mathbf{x} \\Vert \\mathbf{y}]` is the input and
    :math:`\\mathbf{R}_l` are linear skip maps from it.

    Args:
        in_channels (int): the size of :math:`\\mathbf{u}`.
        out_channels (int): the size of the last layer.
        num_layers ([int]): the hidden sizes.
    """

    def __init__(self, in_channels: int, out_channels: int, num_layers: List[int]):
        super().__init__()
        sizes = [in_channels] + list(num_layers) + [out_channels]
        self.layers = torch.nn.ModuleList([
            torch.nn.Sequential(torch.nn.Linear(a, b), torch.nn.LayerNorm(b), torch.nn.Tanh())
            for a, b in zip(sizes[:-2], sizes[1:-1])])
        self.layers.append(torch.nn.Linear(sizes[-2], sizes[-1]))
        self.res_trans = torch.nn.ModuleList([
            torch.nn.Linear(in_channels, size) for size in list(num_layers) + [out_channels]])

    def reset_parameters(self) -> None:
        """Re-initialise every linear map and layer norm."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x: Tensor, y: Tensor, index: Tensor, dim_size: int) -> Tensor:
        """The scalar energy of the outputs ``y`` ``[dim_size, C]`` given the elements."""
        inp = torch.cat([x, gfx.ops.gather(y, index, 0)], dim=1)
        h = inp
        for layer, res in zip(self.layers, self.res_trans):
            h = layer(h) + res(inp)
        return gfx.ops.scatter(h, index, dim=0, dim_size=dim_size, reduce="mean").sum()


class MomentumOptimizer(torch.nn.Module):
    """Gradient descent with momentum and a learnable step size and momentum.

    .. math::
        \\mathbf{m} \\leftarrow \\sigma(\\mu)\\,\\mathbf{m} - \\mathrm{softplus}(\\eta)
        \\nabla_{\\mathbf{y}} E, \\qquad \\mathbf{y} \\leftarrow \\mathbf{y} + \\mathbf{m}

    Args:
        learning_rate (float, optional): the initial :math:`\\eta`. (default: ``0.1``)
        momentum (float, optional): the initial :math:`\\mu`. (default: ``0.9``)
        learnable (bool, optional): learn :math:`\\eta` and :math:`\\mu`. (default: ``True``)
    """

    def __init__(self, learning_rate: float = 0.1, momentum: float = 0.9,
                 learnable: bool = True):
        super().__init__()
        self._initial_lr = learning_rate
        self._initial_mom = momentum
        self._lr = torch.nn.Parameter(torch.tensor([learning_rate]), requires_grad=learnable)
        self._mom = torch.nn.Parameter(torch.tensor([momentum]), requires_grad=learnable)

    def reset_parameters(self) -> None:
        """Set :math:`\\eta` and :math:`\\mu` back to their initial values."""
        with torch.no_grad():
            self._lr.fill_(self._initial_lr)
            self._mom.fill_(self._initial_mom)

    def forward(self, x: Tensor, y: Tensor, index: Tensor, dim_size: int, energy,
                iterations: int = 5) -> Tensor:
        """Take ``iterations`` steps on ``energy(x, y, index, dim_size)`` from ``y``."""
        lr = torch.nn.functional.softplus(self._lr)
        mom = torch.sigmoid(self._mom)
        buffer = torch.zeros_like(y)
        for _ in range(iterations):
            value = energy(x, y, index, dim_size)
            grad = torch.autograd.grad(value, y, create_graph=True, retain_graph=True)[0]
            buffer = mom * buffer - lr * grad
            y = y + buffer
        return y


torch.fx.wrap("group_count")  # see NOTE [dense groups while tracing]


@register_aggregation("equilibrium")
class EquilibriumAggregation(Aggregation):
    """Equilibrium aggregation (Bartunov et al., "Equilibrium Aggregation: Encoding Sets
    via Optimization").

    .. math::
        \\mathbf{y}_g = \\operatorname*{arg\\,min}_{\\mathbf{y}} \\;
        \\frac{1}{|g|}\\sum_{i \\in g} F(\\mathbf{x}_i, \\mathbf{y}) +
        \\mathrm{softplus}(\\lambda) \\, R(\\mathbf{y})

    with a residual-MLP potential :math:`F` and :math:`R(\\mathbf{Y}) =
    \\mathrm{mean}_g \\lVert \\mathbf{y}_g \\rVert_2^2` over all groups.  The minimum is
    approximated by ``grad_iter`` steps of momentum gradient descent from
    :math:`\\mathbf{0}`, differentiated through (so the module trains end to end).
    An empty group is only pulled by the regulariser.  Works in the dtype of ``x`` (the
    reference always starts from float32 and fails for float64 input).

    The gradient steps call :func:`torch.autograd.grad` inside ``forward`` (with
    gradients enabled, also under :func:`torch.no_grad`).

    Args:
        in_channels (int): the size of each element.
        out_channels (int): the size of the result.
        num_layers ([int]): the hidden sizes of the potential's MLP.
        grad_iter (int, optional): the number of gradient steps. (default: ``5``)
        lamb (float, optional): the initial regularisation weight :math:`\\lambda`.
            (default: ``0.1``)
    """

    def __init__(self, in_channels: int, out_channels: int, num_layers: List[int],
                 grad_iter: int = 5, lamb: float = 0.1):
        super().__init__()
        if isinstance(grad_iter, bool) or not isinstance(grad_iter, int) or grad_iter < 0:
            raise ValueError(self._error(f"'grad_iter' must be a non-negative int, "
                                         f"got {grad_iter!r}"))
        if not isinstance(num_layers, (list, tuple)):
            raise TypeError(self._error(f"'num_layers' must be a list of hidden sizes, got "
                                        f"{type(num_layers).__name__}"))
        self.in_channels = in_channels
        self.output_dim = out_channels
        self.grad_iter = grad_iter
        self.initial_lamb = lamb
        self.potential = ResNetPotential(in_channels + out_channels, 1, num_layers)
        self.optimizer = MomentumOptimizer()
        self.lamb = torch.nn.Parameter(torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset :math:`\\lambda`, the optimiser's state and the potential."""
        with torch.no_grad():
            self.lamb.fill_(self.initial_lamb)
        self.optimizer.reset_parameters()
        self.potential.reset_parameters()

    def get_out_channels(self, in_channels: int) -> int:
        """``out_channels``."""
        return self.output_dim

    def energy(self, x: Tensor, y: Tensor, index: Tensor, dim_size: int) -> Tensor:
        """The objective: the potential plus the weighted regulariser."""
        reg = torch.nn.functional.softplus(self.lamb) * y.square().sum(dim=-1).mean()
        return self.potential(x, y, index, dim_size) + reg

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        check_two_dimensional(self, x, dim)
        if index is None:
            index = ptr_to_index(ptr, x.size(0))
            dim_size = ptr.numel() - 1
        elif dim_size is None:
            dim_size = group_count(index)
        with torch.enable_grad():
            y = x.new_zeros(dim_size, self.output_dim).requires_grad_()
            return self.optimizer(x, y, index, dim_size, self.energy, iterations=self.grad_iter)

    def extra_repr(self) -> str:
        return ""
