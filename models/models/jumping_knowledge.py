"""``JumpingKnowledge``: combine the node embeddings of every layer into one."""
from __future__ import annotations

from typing import Dict, List, Optional

import torch
from torch import Tensor

from gfx.nn.dense.linear import Linear
from gfx.ops._checks import is_tracing

MODES = ("cat", "max", "lstm")


class JumpingKnowledge(torch.nn.Module):
    """Layer aggregation of "Representation Learning on Graphs with Jumping Knowledge
    Networks".

    For the embeddings :math:`\\mathbf{x}_v^{(1)}, \\ldots, \\mathbf{x}_v^{(T)}` of node
    :math:`v` after each of :math:`T` layers:

    * ``"cat"``: :math:`\\mathbf{x}_v^{(1)} \\,\\Vert\\, \\ldots \\,\\Vert\\, \\mathbf{x}_v^{(T)}`;
    * ``"max"``: the element-wise :math:`\\max_t \\mathbf{x}_v^{(t)}`;
    * ``"lstm"``: :math:`\\sum_t \\alpha_v^{(t)} \\mathbf{x}_v^{(t)}`, where a
      bi-directional LSTM (hidden size :math:`\\lfloor T C / 2 \\rfloor`) reads the
      sequence :math:`\\mathbf{x}_v^{(1..T)}`, a linear map scores each step, and
      :math:`\\alpha_v = \\mathrm{softmax}_t` of the scores.

    Args:
        mode (str): ``"cat"``, ``"max"`` or ``"lstm"``.
        channels (int, optional): features per embedding; needed for ``"lstm"``.
            (default: ``None``)
        num_layers (int, optional): number of embeddings :math:`T`; needed for
            ``"lstm"``. (default: ``None``)

    Shapes: ``xs`` a list of :math:`T` tensors ``[N, C]`` -> ``[N, T * C]`` (``"cat"``)
    or ``[N, C]``.
    """

    def __init__(self, mode: str, channels: Optional[int] = None,
                 num_layers: Optional[int] = None):
        super().__init__()
        mode = mode.lower() if isinstance(mode, str) else mode
        if mode not in MODES:
            raise ValueError(f"JumpingKnowledge: unknown mode {mode!r}; expected one of "
                             f"{', '.join(MODES)}")
        self.mode = mode
        self.channels = channels
        self.num_layers = num_layers
        if mode == "lstm":
            if channels is None or num_layers is None:
                raise ValueError("JumpingKnowledge: mode='lstm' needs 'channels' and "
                                 "'num_layers'")
            hidden = (num_layers * channels) // 2
            self.lstm = torch.nn.LSTM(channels, hidden, bidirectional=True, batch_first=True)
            self.att = Linear(2 * hidden, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.mode == "lstm":
            self.lstm.reset_parameters()
            self.att.reset_parameters()

    def _check(self, xs: List[Tensor]) -> None:
        if not isinstance(xs, (list, tuple)) or len(xs) == 0:
            raise ValueError("JumpingKnowledge: 'xs' must be a non-empty list of tensors")
        if is_tracing(*xs):
            return
        if self.mode == "cat":
            if len({x.shape[:-1] for x in xs}) > 1:
                raise ValueError(f"JumpingKnowledge: the tensors in 'xs' must agree in all "
                                 f"but the last dimension, got shapes "
                                 f"{[list(x.shape) for x in xs]}")
            return
        if len({x.shape for x in xs}) > 1:
            raise ValueError(f"JumpingKnowledge: mode={self.mode!r} needs tensors of one "
                             f"shape in 'xs', got {[list(x.shape) for x in xs]}")
        if self.mode == "lstm" and xs[0].shape[-1] != self.channels:
            raise ValueError(f"JumpingKnowledge: 'xs' must have channels={self.channels} "
                             f"features, got shape {list(xs[0].shape)}")

    def forward(self, xs: List[Tensor]) -> Tensor:
        self._check(xs)
        if self.mode == "cat":
            return torch.cat(list(xs), dim=-1)
        stacked = torch.stack(list(xs), dim=1)  # [N, T, C]
        if self.mode == "max":
            return stacked.max(dim=1)[0]
        seq = self.lstm(stacked)[0]  # [N, T, 2 * hidden]
        alpha = torch.softmax(self.att(seq).squeeze(-1), dim=-1)  # [N, T]
        return (stacked * alpha.unsqueeze(-1)).sum(dim=1)

    def __repr__(self) -> str:
        if self.mode == "lstm":
            return (f"{type(self).__name__}({self.mode}, channels={self.channels}, "
                    f"layers={self.num_layers})")
        return f"{type(self).__name__}({self.mode})"


class HeteroJumpingKnowledge(torch.nn.Module):
    """:class:`JumpingKnowledge` applied separately to the embeddings of each node type.

    Args:
        types (list of str): the node types (keys of the input dictionary).
        mode (str): ``"cat"``, ``"max"`` or ``"lstm"``.
        channels (int, optional): features per embedding, for ``"lstm"``.
            (default: ``None``)
        num_layers (int, optional): number of embeddings, for ``"lstm"``.
            (default: ``None``)

    Shapes: ``xs_dict`` ``{type: [T tensors [N_type, C]]}`` -> ``{type: [N_type, C']}``.
    """

    def __init__(self, types: List[str], mode: str, channels: Optional[int] = None,
                 num_layers: Optional[int] = None):
        super().__init__()
        for key in types:
            if not isinstance(key, str) or "." in key or not key:
                raise ValueError(f"HeteroJumpingKnowledge: type {key!r} must be a non-empty "
                                 f"string without '.' (it names a submodule)")
        self.mode = mode
        self.jk_dict = torch.nn.ModuleDict(
            {key: JumpingKnowledge(mode, channels, num_layers) for key in types})

    def reset_parameters(self) -> None:
        for jk in self.jk_dict.values():
            jk.reset_parameters()

    def forward(self, xs_dict: Dict[str, List[Tensor]]) -> Dict[str, Tensor]:
        if not is_tracing(xs_dict):
            unknown = [key for key in xs_dict if key not in self.jk_dict]
            if unknown:
                raise KeyError(f"HeteroJumpingKnowledge: no module for types {unknown}; "
                               f"known types: {list(self.jk_dict)}")
            return {key: self.jk_dict[key](xs) for key, xs in xs_dict.items()}
        return {key: jk(xs_dict[key]) for key, jk in self.jk_dict.items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.jk_dict)}, mode={self.mode})"


__all__ = ["HeteroJumpingKnowledge", "JumpingKnowledge"]
