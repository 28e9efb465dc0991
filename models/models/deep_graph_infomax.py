"""``DeepGraphInfomax``: mutual-information maximisation between patches and a summary
(Veličković et al., ICLR 2019)."""
from __future__ import annotations

import copy
from typing import Callable, Tuple

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.nn import inits
from gfx.nn.models._logistic_regression import probe_accuracy

EPS = 1e-15


class DeepGraphInfomax(torch.nn.Module):
    """The Deep Graph Infomax model of "Deep Graph Infomax".

    An encoder :math:`\\mathcal{E}` embeds the graph (patches :math:`\\mathbf{H}`) and a
    corrupted copy :math:`\\mathcal{C}(\\text{graph})` (patches
    :math:`\\tilde{\\mathbf{H}}`); a readout :math:`\\mathcal{R}` summarises the true
    patches, :math:`\\mathbf{s} = \\mathcal{R}(\\mathbf{H})`; a bilinear discriminator
    scores patch-summary pairs, :math:`D(\\mathbf{h}, \\mathbf{s}) =
    \\sigma(\\mathbf{h}^{\\top}\\mathbf{W}\\mathbf{s})`, and the loss is

    .. math::
        -\\frac{1}{N}\\sum_i \\log D(\\mathbf{h}_i, \\mathbf{s})
        -\\frac{1}{N}\\sum_i \\log\\left(1 - D(\\tilde{\\mathbf{h}}_i, \\mathbf{s})\\right)

    Call tree::

        forward(*args, **kwargs)
            pos_z = encoder(*args, **kwargs)
            corrupted = corruption(*args, **kwargs)   a tuple replaces args, then kwargs
            neg_z = encoder(*corrupted...)
            summary = summary(pos_z, *args, **kwargs)
        loss(pos_z, neg_z, summary) -> discriminate(z, summary)

    Args:
        hidden_channels (int): the size of the patches and of the summary.
        encoder (torch.nn.Module): the encoder :math:`\\mathcal{E}`.
        summary (callable): the readout :math:`\\mathcal{R}`, called as
            ``summary(z, *args, **kwargs)``.
        corruption (callable): the corruption :math:`\\mathcal{C}`, called with the
            forward arguments; returns the corrupted arguments (a tuple, or one value).
    """

    def __init__(self, hidden_channels: int, encoder: torch.nn.Module, summary: Callable,
                 corruption: Callable):
        super().__init__()
        if not isinstance(hidden_channels, int) or hidden_channels <= 0:
            raise ValueError(f"DeepGraphInfomax: 'hidden_channels' must be a positive int, "
                             f"got {hidden_channels!r}")
        for arg, value in (("encoder", encoder), ("summary", summary),
                           ("corruption", corruption)):
            if not callable(value):
                raise ValueError(f"DeepGraphInfomax: '{arg}' must be callable")
        self.hidden_channels = hidden_channels
        self.encoder = encoder
        self.summary = summary
        self.corruption = corruption
        self.weight = Parameter(torch.empty(hidden_channels, hidden_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset the encoder and summary (where they have parameters) and draw
        :math:`\\mathbf{W}` from :math:`U(\\pm 1/\\sqrt{d})`."""
        inits.reset(self.encoder)
        inits.reset(self.summary)
        inits.uniform(self.hidden_channels, self.weight)

    def forward(self, *args, **kwargs) -> Tuple[Tensor, Tensor, Tensor]:
        """``(pos_z, neg_z, summary)``: the patches of the input, the patches of its
        corruption and the summary of the input's patches."""
        pos_z = self.encoder(*args, **kwargs)
        corrupted = self.corruption(*args, **kwargs)
        corrupted = corrupted if isinstance(corrupted, tuple) else (corrupted, )
        cor_args = corrupted[:len(args)]
        cor_kwargs = copy.copy(kwargs)
        for key, value in zip(kwargs, corrupted[len(args):]):
            cor_kwargs[key] = value
        neg_z = self.encoder(*cor_args, **cor_kwargs)
        summary = self.summary(pos_z, *args, **kwargs)
        return pos_z, neg_z, summary

    def discriminate(self, z: Tensor, summary: Tensor, sigmoid: bool = True) -> Tensor:
        """:math:`\\mathbf{z}_i^{\\top}\\mathbf{W}\\mathbf{s}` for every patch (``[N]``
        for one summary vector, ``[N, B]`` for ``B`` summaries ``[B, d]``), through a
        sigmoid when ``sigmoid`` (default: ``True``)."""
        summary = summary.t() if summary.dim() > 1 else summary
        value = torch.matmul(z, torch.matmul(self.weight, summary))
        return torch.sigmoid(value) if sigmoid else value

    def loss(self, pos_z: Tensor, neg_z: Tensor, summary: Tensor) -> Tensor:
        """The mutual-information loss of the class docstring."""
        pos_loss = -torch.log(self.discriminate(pos_z, summary, sigmoid=True) + EPS).mean()
        neg_loss = -torch.log(1 - self.discriminate(neg_z, summary, sigmoid=True)
                              + EPS).mean()
        return pos_loss + neg_loss

    def test(self, train_z: Tensor, train_y: Tensor, test_z: Tensor, test_y: Tensor,
             solver: str = "lbfgs", multi_class: str = "auto", *args, **kwargs) -> float:
        """Test accuracy of an L2-regularised logistic regression trained on
        ``(train_z, train_y)`` (computed in torch; ``C`` and ``max_iter`` are honoured,
        other scikit-learn arguments are refused)."""
        return probe_accuracy("DeepGraphInfomax.test", train_z, train_y, test_z, test_y,
                              solver, multi_class, *args, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.hidden_channels})"


__all__ = ["DeepGraphInfomax"]
