"""``RENet``: the Recurrent Event Network for temporal knowledge graphs (Jin et al.)."""
from __future__ import annotations

import math
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import GRU, Linear, Parameter

from gfx.ops import scatter


class RENetPreTransform:
    """Attach to each event its recent history (a stateful pre-transform).

    Events must arrive one per ``Data`` (attributes ``sub``, ``rel``, ``obj``, ``t`` of
    one element each) in non-decreasing time.  For every key :math:`(s, r)` the transform
    keeps the objects seen in each of the last ``seq_len`` timestamps; whenever the time
    changes, every key's window moves by one slot (a key without events in the previous
    timestamp gets an empty slot).  An event :math:`(s, r, o, t)` receives

    * ``h_sub``: the objects of :math:`(s, r)` in the window, ``h_sub_t`` their slot
      (``0`` oldest, ``seq_len - 1`` the previous timestamp);
    * ``h_obj`` / ``h_obj_t``: the same for the subjects of :math:`(o, r)`.

    Args:
        seq_len (int): the window length.
    """

    def __init__(self, seq_len: int):
        if seq_len < 1:
            raise ValueError(f"RENet.pre_transform: 'seq_len' must be at least 1, got "
                             f"{seq_len}")
        self.seq_len = seq_len
        self.t_last = None
        self.sub_hist: Dict[Tuple[int, int], List[List[int]]] = {}
        self.obj_hist: Dict[Tuple[int, int], List[List[int]]] = {}
        self.sub_now: Dict[Tuple[int, int], List[int]] = {}
        self.obj_now: Dict[Tuple[int, int], List[int]] = {}

    def _shift(self, hist, now) -> None:
        for key in set(hist) | set(now):
            window = hist.get(key, [[] for _ in range(self.seq_len)])
            hist[key] = window[1:] + [now.get(key, [])]
        now.clear()

    def _window(self, hist, key) -> Tuple[Tensor, Tensor]:
        window = hist.get(key, [])
        ids = [v for slot in window for v in slot]
        slots = [i for i, slot in enumerate(window) for _ in slot]
        return torch.tensor(ids, dtype=torch.long), torch.tensor(slots, dtype=torch.long)

    def __call__(self, data):
        for name in ("sub", "rel", "obj", "t"):
            value = getattr(data, name, None)
            if not isinstance(value, Tensor) or value.numel() != 1:
                raise ValueError(f"RENet.pre_transform: each graph must hold one event: "
                                 f"'{name}' must be a one-element tensor")
        sub, rel, obj, t = (int(getattr(data, k)) for k in ("sub", "rel", "obj", "t"))
        if self.t_last is not None and t != self.t_last:
            if t < self.t_last:
                raise ValueError(f"RENet.pre_transform: events must come in time order, "
                                 f"got t={t} after t={self.t_last}")
            self._shift(self.sub_hist, self.sub_now)
            self._shift(self.obj_hist, self.obj_now)
        self.t_last = t
        data.h_sub, data.h_sub_t = self._window(self.sub_hist, (sub, rel))
        data.h_obj, data.h_obj_t = self._window(self.obj_hist, (obj, rel))
        self.sub_now.setdefault((sub, rel), []).append(obj)
        self.obj_now.setdefault((obj, rel), []).append(sub)
        return data

    def __repr__(self) -> str:
        return f"PreTransform(seq_len={self.seq_len})"


class RENet(torch.nn.Module):
    """The Recurrent Event Network: predicts the object (and the subject) of an event
    :math:`(s, r, ?, t)` from the recent history of :math:`(s, r)`.

    .. math::
        \\mathbf{h}^{(t)}(s, r) = \\mathrm{GRU}\\left(\\mathbf{e}_s \\Vert
        g(\\mathcal{O}^{(t)}_r(s)) \\Vert \\mathbf{e}_r, \\mathbf{h}^{(t-1)}(s, r)\\right),
        \\qquad
        p(o \\mid s, r) = \\mathrm{softmax}\\left(\\mathbf{W} [\\mathbf{e}_s \\Vert
        \\mathbf{h}(s, r) \\Vert \\mathbf{e}_r] + \\mathbf{b}\\right)_o

    where :math:`g` is the mean of the embeddings of the objects :math:`s` met under
    :math:`r` at each of the last ``seq_len`` timestamps (zero for none), and
    :math:`\\mathbf{h}` is the last layer's final state (the reference library fails
    for ``num_layers > 1``; gfx uses the top layer).  A second GRU does the same for
    subjects given :math:`(o, r)`.  Histories come from :meth:`pre_transform`; batch the
    events with ``follow_batch=["h_sub", "h_obj"]``.

    Args:
        num_nodes (int): number of entities.
        num_rels (int): number of relations.
        hidden_channels (int): embedding size.
        seq_len (int): history length.
        num_layers (int, optional): recurrent layers. (default: ``1``)
        dropout (float, optional): dropout before the prediction. (default: ``0.0``)
        bias (bool, optional): learn additive biases. (default: ``True``)
    """

    def __init__(self, num_nodes: int, num_rels: int, hidden_channels: int, seq_len: int,
                 num_layers: int = 1, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.num_nodes = num_nodes
        self.hidden_channels = hidden_channels
        self.num_rels = num_rels
        self.seq_len = seq_len
        self.dropout = dropout
        self.ent = Parameter(torch.empty(num_nodes, hidden_channels))
        self.rel = Parameter(torch.empty(num_rels, hidden_channels))
        self.sub_gru = GRU(3 * hidden_channels, hidden_channels, num_layers,
                           batch_first=True, bias=bias)
        self.obj_gru = GRU(3 * hidden_channels, hidden_channels, num_layers,
                           batch_first=True, bias=bias)
        self.sub_lin = Linear(3 * hidden_channels, num_nodes, bias=bias)
        self.obj_lin = Linear(3 * hidden_channels, num_nodes, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.ent, gain=math.sqrt(2.0))
        torch.nn.init.xavier_uniform_(self.rel, gain=math.sqrt(2.0))
        self.sub_gru.reset_parameters()
        self.obj_gru.reset_parameters()
        self.sub_lin.reset_parameters()
        self.obj_lin.reset_parameters()

    @staticmethod
    def pre_transform(seq_len: int) -> Callable:
        """A stateful transform that adds the history of each event (see
        :class:`RENetPreTransform`)."""
        return RENetPreTransform(seq_len)

    def _history(self, data, side: str) -> Tensor:
        ids, slots = getattr(data, f"h_{side}"), getattr(data, f"h_{side}_t")
        owner = getattr(data, f"h_{side}_batch", None)
        if owner is None:
            raise ValueError(f"RENet: the batch has no 'h_{side}_batch'; batch the events "
                             f"with follow_batch=['h_sub', 'h_obj']")
        batch_size = data.sub.numel()
        slots = slots + owner * self.seq_len
        mean = scatter(self.ent[ids], slots, 0, batch_size * self.seq_len, "mean")
        return mean.view(batch_size, self.seq_len, -1)

    def forward(self, data) -> Tuple[Tensor, Tensor]:
        """``(log p(obj | sub, rel), log p(sub | obj, rel))``, each ``[B, num_nodes]``,
        for a batch of events with histories."""
        h_sub = self._history(data, "sub")
        h_obj = self._history(data, "obj")
        e_sub, e_rel, e_obj = self.ent[data.sub], self.rel[data.rel], self.ent[data.obj]

        def repeat(e: Tensor) -> Tensor:
            return e.unsqueeze(1).expand(-1, self.seq_len, -1)

        _, state_sub = self.sub_gru(torch.cat([repeat(e_sub), h_sub, repeat(e_rel)], -1))
        _, state_obj = self.obj_gru(torch.cat([repeat(e_obj), h_obj, repeat(e_rel)], -1))
        h_sub = torch.cat([e_sub, state_sub[-1], e_rel], dim=-1)
        h_obj = torch.cat([e_obj, state_obj[-1], e_rel], dim=-1)
        h_sub = F.dropout(h_sub, p=self.dropout, training=self.training)
        h_obj = F.dropout(h_obj, p=self.dropout, training=self.training)
        log_prob_obj = F.log_softmax(self.sub_lin(h_sub), dim=1)
        log_prob_sub = F.log_softmax(self.obj_lin(h_obj), dim=1)
        return log_prob_obj, log_prob_sub

    def test(self, logits: Tensor, y: Tensor) -> Tensor:
        """Mean reciprocal rank and Hits@1, @3, @10 of the true entities ``y`` under
        ``logits`` ``[B, num_nodes]`` (ties broken by the sort)."""
        _, perm = logits.sort(dim=1, descending=True)
        rank = (perm == y.view(-1, 1)).nonzero()[:, 1] + 1
        mrr = (1.0 / rank.to(torch.float)).mean().item()
        hits = [(rank <= k).sum().item() / y.numel() for k in (1, 3, 10)]
        return torch.tensor([mrr, *hits])


__all__ = ["RENet"]
