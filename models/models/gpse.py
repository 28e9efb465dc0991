"""``GPSENodeEncoder``: appends encoded GPSE positional/structural encodings to node
features ("Graph Positional and Structural Encoder", Cantürk et al., ICML 2024)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch.nn import BatchNorm1d, Dropout, Linear, ReLU, Sequential

__all__ = ["GPSENodeEncoder"]

_NORM_TYPES = ("batchnorm", None)
_MODEL_TYPES = ("mlp", "linear")


class GPSENodeEncoder(torch.nn.Module):
    """Encodes precomputed GPSE encodings and concatenates them to the node features.

    With :math:`\\mathbf{P} \\in \\mathbb{R}^{N \\times d_{pe,in}}` the encodings (e.g.
    ``batch.pestat_GPSE``) and :math:`\\mathbf{X}` the node features,

    .. math::
        \\mathbf{X}' = f_x(\\mathbf{X}) \\,\\Vert\\,
        \\mathrm{drop}_{ae}\\big(\\mathrm{enc}(\\mathrm{norm}(
        \\mathrm{drop}_{be}(\\mathbf{P})))\\big),

    where :math:`f_x` is a linear map to ``dim_emb - dim_pe_out`` features if
    ``expand_x`` (the identity otherwise), ``norm`` a batch norm of the raw encodings
    (``norm_type="batchnorm"``), and ``enc`` either one linear layer or an MLP of
    ``n_layers`` ``Linear -> ReLU`` layers with hidden width ``2 * dim_pe_out``
    (``n_layers < 2`` other than ``1`` gives two layers).

    Unlike the reference, an unknown ``norm_type`` raises an error instead of silently
    disabling the normalisation.

    Args:
        dim_emb (int): size of the final node embedding (features plus encoding).
        dim_pe_in (int): size of the input encodings.
        dim_pe_out (int): size of the encoded encodings, smaller than ``dim_emb``.
        dim_in (int, optional): size of the input node features, used if ``expand_x``.
            (default: ``None``)
        expand_x (bool, optional): map the node features linearly to
            ``dim_emb - dim_pe_out`` features. (default: ``False``)
        norm_type (str, optional): ``"batchnorm"`` or ``None``. (default:
            ``"batchnorm"``)
        model_type (str, optional): ``"mlp"`` or ``"linear"``. (default: ``"mlp"``)
        n_layers (int, optional): layers of the MLP encoder. (default: ``2``)
        dropout_be (float, optional): dropout on the encodings before the encoder.
            (default: ``0.5``)
        dropout_ae (float, optional): dropout on the encodings after the encoder.
            (default: ``0.2``)
    """

    def __init__(self, dim_emb: int, dim_pe_in: int, dim_pe_out: int,
                 dim_in: Optional[int] = None, expand_x: bool = False,
                 norm_type: Optional[str] = "batchnorm", model_type: str = "mlp",
                 n_layers: int = 2, dropout_be: float = 0.5, dropout_ae: float = 0.2):
        super().__init__()
        if dim_pe_out >= dim_emb:
            raise ValueError(f"GPSENodeEncoder: 'dim_pe_out' ({dim_pe_out}) must be smaller "
                             f"than 'dim_emb' ({dim_emb})")
        if norm_type not in _NORM_TYPES:
            raise ValueError(f"GPSENodeEncoder: 'norm_type' must be one of {_NORM_TYPES}, "
                             f"got {norm_type!r}")
        if model_type not in _MODEL_TYPES:
            raise ValueError(f"GPSENodeEncoder: 'model_type' must be one of "
                             f"{_MODEL_TYPES}, got {model_type!r}")
        if expand_x and dim_in is None:
            raise ValueError("GPSENodeEncoder: 'dim_in' is required when 'expand_x' is set")
        self.expand_x = expand_x
        if expand_x:
            self.linear_x = Linear(dim_in, dim_emb - dim_pe_out)
        self.raw_norm = BatchNorm1d(dim_pe_in) if norm_type == "batchnorm" else None
        self.dropout_be = Dropout(p=dropout_be)
        self.dropout_ae = Dropout(p=dropout_ae)
        if model_type == "linear":
            self.pe_encoder = Linear(dim_pe_in, dim_pe_out)
        elif n_layers == 1:
            self.pe_encoder = Sequential(Linear(dim_pe_in, dim_pe_out), ReLU())
        else:
            hidden = 2 * dim_pe_out
            layers = [Linear(dim_pe_in, hidden), ReLU()]
            for _ in range(n_layers - 2):
                layers += [Linear(hidden, hidden), ReLU()]
            layers += [Linear(hidden, dim_pe_out), ReLU()]
            self.pe_encoder = Sequential(*layers)

    def reset_parameters(self) -> None:
        """Re-initialises the linear layers and the batch norm."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x: Tensor, pos_enc: Tensor) -> Tensor:
        """``[N, F] x [N, dim_pe_in] -> [N, F' + dim_pe_out]`` (``F' = dim_emb -
        dim_pe_out`` if ``expand_x``, else ``F``)."""
        if pos_enc.dim() != 2 or pos_enc.size(0) != x.size(0):
            raise ValueError(f"GPSENodeEncoder: 'pos_enc' must have shape [N, dim_pe_in] "
                             f"with N = x.size(0) = {x.size(0)}, got "
                             f"{tuple(pos_enc.shape)}")
        pos_enc = self.dropout_be(pos_enc)
        if self.raw_norm is not None:
            pos_enc = self.raw_norm(pos_enc)
        pos_enc = self.dropout_ae(self.pe_encoder(pos_enc))
        h = self.linear_x(x) if self.expand_x else x
        return torch.cat([h, pos_enc], dim=-1)
