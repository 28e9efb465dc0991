"""``MaskLabel``: label embeddings merged into node features (Shi et al., IJCAI 2021)."""
from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import Embedding

from gfx.utils import is_tracing


class MaskLabel(torch.nn.Module):
    """The label embedding and masking layer of "Masked Label Prediction: Unified Message
    Passing Model for Semi-Supervised Classification".

    For the nodes in ``mask`` the embedding of their label is merged into their features:

    .. math::
        \\mathbf{x}'_i = \\mathbf{x}_i + \\mathbf{E}_{y_i} \\ (\\texttt{"add"}), \\qquad
        \\mathbf{x}'_i = [\\mathbf{x}_i, \\mathbf{E}_{y_i}] \\ (\\texttt{"concat"})

    (zeros instead of :math:`\\mathbf{E}_{y_i}` for the other nodes).

    Args:
        num_classes (int): the number of classes.
        out_channels (int): the label embedding size (equal to the feature size for
            ``"add"``).
        method (str, optional): ``"add"`` or ``"concat"``. (default: ``"add"``)
    """

    def __init__(self, num_classes: int, out_channels: int, method: str = "add"):
        super().__init__()
        if method not in ("add", "concat"):
            raise ValueError(f"MaskLabel: 'method' must be 'add' or 'concat', got {method!r}")
        self.method = method
        self.emb = Embedding(num_classes, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Standard-normal label embeddings."""
        self.emb.reset_parameters()

    def forward(self, x: Tensor, y: Tensor, mask: Tensor) -> Tensor:
        """Merge the label embeddings of the nodes in ``mask`` (boolean ``[N]`` or an
        index) into ``x`` (``[N, F]``); ``y`` holds the ``[N]`` class ids."""
        if not is_tracing(x, y) and (y.dim() != 1 or y.size(0) != x.size(0)):
            raise ValueError(f"MaskLabel: 'y' must hold one class id per node ([{x.size(0)}]),"
                             f" got {list(y.shape)}")
        # Written without in-place indexing so that gfx.capture can trace it.
        selected = torch.zeros_like(y, dtype=x.dtype).index_put(
            (mask, ), torch.ones((), dtype=x.dtype, device=x.device))
        labels = torch.where(selected > 0, y, torch.zeros_like(y))  # others may be invalid
        label_emb = selected.unsqueeze(-1) * self.emb(labels).to(x.dtype)
        if self.method == "concat":
            return torch.cat([x, label_emb], dim=-1)
        if not is_tracing(x) and x.size(-1) != self.emb.weight.size(-1):
            raise ValueError(f"MaskLabel: method='add' needs 'x' with out_channels="
                             f"{self.emb.weight.size(-1)} features, got {x.size(-1)}")
        return x + label_emb

    @staticmethod
    def ratio_mask(mask: Tensor, ratio: float):
        """A copy of the boolean ``mask`` in which each ``True`` entry stays ``True``
        with probability ``ratio`` (and becomes ``False`` otherwise)."""
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"MaskLabel.ratio_mask: 'ratio' must be in [0, 1], got {ratio}")
        n = int(mask.sum())
        out = mask.clone()
        out[mask] = torch.rand(n, device=mask.device) < ratio
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


__all__ = ["MaskLabel"]
