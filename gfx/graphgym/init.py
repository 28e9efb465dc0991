"""Weight initialisation of GraphGym models."""
from __future__ import annotations

import torch


def init_weights(m: torch.nn.Module) -> None:
    """Initialise one module (use as ``model.apply(init_weights)``).

    Batch norms get weight 1 and bias 0; :class:`torch.nn.Linear` layers get Glorot
    (Xavier) uniform weights scaled for ReLU, :math:`\\mathcal{U}(-a, a)` with
    :math:`a = \\sqrt{2} \\sqrt{6 / (f_{in} + f_{out})}`, and zero bias.  Other modules
    (the gfx layers) keep their own initialisation.

    Args:
        m (nn.Module): the module.
    """
    if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
        torch.nn.init.ones_(m.weight)
        torch.nn.init.zeros_(m.bias)
    elif isinstance(m, torch.nn.Linear):
        torch.nn.init.xavier_uniform_(m.weight, gain=torch.nn.init.calculate_gain("relu"))
        if m.bias is not None:
            torch.nn.init.zeros_(m.bias)
