"""``DiffGroupNorm``: batch normalisation per soft cluster, added back to the input."""
from __future__ import annotations

import torch
from torch import Tensor

from gfx.ops._checks import is_tracing


class DiffGroupNorm(torch.nn.Module):
    """Differentiable group normalisation (Zhou et al., "Towards Deeper Graph Neural
    Networks with Differentiable Group Normalization").

    Each row is softly assigned to :math:`G` clusters,

    .. math::
        \\mathbf{S} = \\mathrm{softmax}(\\mathbf{X}\\mathbf{W}), \\qquad
        \\mathbf{W} \\in \\mathbb{R}^{F \\times G},

    and each cluster's share of the features is batch-normalised on its own:

    .. math::
        \\mathbf{X}' = \\mathbf{X} + \\lambda \\sum_{g=1}^{G}
        \\mathrm{BatchNorm}_g(\\mathbf{S}[:, g] \\odot \\mathbf{X})

    The :math:`G` batch norms are one :class:`torch.nn.BatchNorm1d` over
    :math:`G \\cdot F` channels (``norm``); ``W`` is ``lin`` (no bias).

    Args:
        in_channels (int): features per row, :math:`F`.
        groups (int): the number of clusters :math:`G`.
        lamda (float, optional): the weight :math:`\\lambda` of the normalised part.
            (default: ``0.01``)
        eps (float, optional): added to the variance. (default: ``1e-5``)
        momentum (float, optional): weight of the current batch in the running
            statistics. (default: ``0.1``)
        affine (bool, optional): learn the batch norms' scale and shift.
            (default: ``True``)
        track_running_stats (bool, optional): keep running statistics and use them in
            evaluation. (default: ``True``)
        device (torch.device, optional): where to create the parameters.
            (default: ``None``)

    Shapes: ``[N, F]`` -> ``[N, F]``.
    """

    def __init__(self, in_channels: int, groups: int, lamda: float = 0.01, eps: float = 1e-5,
                 momentum: float = 0.1, affine: bool = True, track_running_stats: bool = True,
                 device=None):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("groups", groups)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"DiffGroupNorm: '{name}' must be a positive int, "
                                 f"got {value!r}")
        self.in_channels = in_channels
        self.groups = groups
        self.lamda = lamda
        self.lin = torch.nn.Linear(in_channels, groups, bias=False, device=device)
        self.norm = torch.nn.BatchNorm1d(groups * in_channels, eps, momentum, affine,
                                         track_running_stats, device=device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the assignment and the batch norms."""
        self.lin.reset_parameters()
        self.norm.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x`` (``[N, F]``)."""
        if not is_tracing(x) and (x.dim() != 2 or x.size(1) != self.in_channels):
            raise ValueError(f"DiffGroupNorm: expected 'x' of shape [N, {self.in_channels}] "
                             f"(in_channels={self.in_channels}), got {list(x.shape)}")
        s = torch.softmax(self.lin(x), dim=-1)                          # [N, G]
        shares = s.unsqueeze(-1) * x.unsqueeze(-2)                       # [N, G, F]
        normed = self.norm(shares.reshape(-1, self.groups * self.in_channels))
        return x + self.lamda * normed.view(-1, self.groups, self.in_channels).sum(dim=-2)

    @staticmethod
    def group_distance_ratio(x: Tensor, y: Tensor, eps: float = 1e-5) -> float:
        """The ratio of the mean distance between classes to the mean distance within
        classes (large: well separated classes).

        .. math::
            R = \\frac{\\frac{1}{(C-1)^2} \\sum_{i} \\frac{1}{|X_i||\\bar{X}_i|}
            \\sum_{\\mathbf{u} \\in X_i} \\sum_{\\mathbf{v} \\in \\bar{X}_i}
            \\lVert \\mathbf{u} - \\mathbf{v} \\rVert_2}
            {\\frac{1}{C} \\sum_i \\frac{1}{|X_i|^2} \\sum_{\\mathbf{u}, \\mathbf{v} \\in X_i}
            \\lVert \\mathbf{u} - \\mathbf{v} \\rVert_2 + \\epsilon}

        with :math:`X_i` the rows of class :math:`i`, :math:`\\bar{X}_i` all other rows
        and :math:`C = \\max(y) + 1`.  This is what the reference computes (its
        documentation prints a sum over class pairs :math:`i \\ne j` instead of class
        :math:`i` against all others; the two agree for two classes).  A class without
        rows, or without rows outside it, is left out of the sums (the reference divides
        by zero there).

        Args:
            x (Tensor): the rows, ``[N, F]``.
            y (Tensor): the class of each row, ``[N]``.
            eps (float, optional): added to the denominator. (default: ``1e-5``)
        """
        if x.dim() != 2 or y.dim() != 1 or y.numel() != x.size(0):
            raise ValueError(f"group_distance_ratio: expected 'x' [N, F] and 'y' [N], got "
                             f"{list(x.shape)} and {list(y.shape)}")
        num_classes = int(y.max()) + 1
        dist = torch.cdist(x, x)
        between = within = 0.0
        for i in range(num_classes):
            inside = y == i
            if not inside.any():
                continue
            within += float(dist[inside][:, inside].mean())
            if (~inside).any():
                between += float(dist[inside][:, ~inside].mean())
        between /= max(num_classes - 1, 1) ** 2
        within /= num_classes
        return between / (within + eps)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, groups={self.groups})"


__all__ = ["DiffGroupNorm"]
