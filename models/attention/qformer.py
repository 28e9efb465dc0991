"""``QFormer``: a layer norm, a transformer encoder and a linear projection."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


class QFormer(torch.nn.Module):
    """The Querying Transformer (Q-Former) of Li et al., "BLIP-2: Bootstrapping
    Language-Image Pre-training with Frozen Image Encoders and Large Language Models".

    .. math::
        \\mathbf{X}' = \\mathrm{Encoder}^{(L)}\\left(\\mathrm{LN}(\\mathbf{X})\\right)
        \\mathbf{W}^{\\top} + \\mathbf{b}

    where the encoder is ``num_layers`` :class:`torch.nn.TransformerEncoderLayer` blocks
    (post-norm, batch first) with ``num_heads`` heads and feed-forward width
    ``hidden_dim``.  ``encoder_layer`` is the template the encoder copies (kept as a
    submodule, so checkpoints hold it too).

    Args:
        input_dim (int): the size of each input element.
        hidden_dim (int): the feed-forward width of the encoder layers.
        output_dim (int): the size of each output element.
        num_heads (int): the number of attention heads (must divide ``input_dim``).
        num_layers (int): the number of encoder layers.
        dropout (float, optional): dropout inside the encoder layers. (default: ``0.0``)
        activation (callable, optional): the feed-forward activation.
            (default: :class:`torch.nn.ReLU`)

    Shapes: ``[B, N, input_dim]`` (or ``[N, input_dim]``) -> ``[..., output_dim]``.
    """

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, num_heads: int,
                 num_layers: int, dropout: float = 0.0,
                 activation: Callable = torch.nn.ReLU()) -> None:
        super().__init__()
        for name, value in (("input_dim", input_dim), ("hidden_dim", hidden_dim),
                            ("output_dim", output_dim), ("num_heads", num_heads),
                            ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"QFormer: '{name}' must be a positive int, got {value!r}")
        if input_dim % num_heads != 0:
            raise ValueError(f"QFormer: 'num_heads'={num_heads} must divide "
                             f"input_dim={input_dim}")
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.layer_norm = torch.nn.LayerNorm(input_dim)
        self.encoder_layer = torch.nn.TransformerEncoderLayer(
            input_dim, num_heads, hidden_dim, dropout, activation, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(self.encoder_layer, num_layers,
                                                   enable_nested_tensor=False)
        self.project = torch.nn.Linear(input_dim, output_dim)

    def forward(self, x: Tensor) -> Tensor:
        """Encode the sequences ``x`` and project every element."""
        return self.project(self.encoder(self.layer_norm(x)))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_heads={self.num_heads}, "
                f"num_layers={self.num_layers})")


__all__ = ["QFormer"]
