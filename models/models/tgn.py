"""``TGNMemory``: the node memory of Temporal Graph Networks (Rossi et al., 2020).

# NOTE [tgn memory protocol]
Every node :math:`i` keeps a memory vector :math:`\\mathbf{s}_i` and the time of its last
update.  An interaction :math:`(i, j, t, \\mathbf{e})` does not change memories at once:
it is stored as one pending message for :math:`i` (source side) and one for :math:`j`
(destination side).  When a node's memory is next needed, its pending messages are
turned into vectors

.. math::
    \\mathbf{m} = \\mathrm{msg}(\\mathbf{s}_{src}, \\mathbf{s}_{dst}, \\mathbf{e},
    \\phi(t - t^{last}_{src})), \\qquad \\phi(\\Delta t) = \\cos(\\mathbf{w}\\Delta t +
    \\mathbf{b}),

aggregated per node (the most recent one, or the mean) and fed to a GRU cell:
:math:`\\mathbf{s}_i \\leftarrow \\mathrm{GRU}(\\bar{\\mathbf{m}}_i, \\mathbf{s}_i)`.
Only the latest batch of messages of each node is kept: :meth:`TGNMemory.update_state`
replaces a node's pending messages with those of the new batch.  In training mode
memories are updated *before* the new messages are stored (so a batch's own events never
leak into its predictions, and gradients reach the message and GRU parameters); in
evaluation mode after.  Switching from training to evaluation flushes every pending
message into the memory.
"""
from __future__ import annotations

import copy
from typing import Callable, Dict, Tuple

import torch
from torch import Tensor
from torch.nn import GRUCell, Linear

from gfx.ops import scatter

Store = Dict[int, Tuple[Tensor, Tensor, Tensor, Tensor]]


class IdentityMessage(torch.nn.Module):
    """Message :math:`[\\mathbf{s}_{src} \\Vert \\mathbf{s}_{dst} \\Vert \\mathbf{e} \\Vert
    \\phi(\\Delta t)]` (concatenation).

    Args:
        raw_msg_dim (int): raw message features.
        memory_dim (int): memory features.
        time_dim (int): time encoding features.
    """

    def __init__(self, raw_msg_dim: int, memory_dim: int, time_dim: int):
        super().__init__()
        self.out_channels = raw_msg_dim + 2 * memory_dim + time_dim

    def forward(self, z_src: Tensor, z_dst: Tensor, raw_msg: Tensor, t_enc: Tensor) -> Tensor:
        return torch.cat([z_src, z_dst, raw_msg, t_enc], dim=-1)


class LastAggregator(torch.nn.Module):
    """Keep each node's most recent message (the later one in input order on ties);
    nodes without messages get zeros (the reference library gives such a node another
    node's message)."""

    def forward(self, msg: Tensor, index: Tensor, t: Tensor, dim_size: int) -> Tensor:
        out = msg.new_zeros(dim_size, msg.shape[-1])
        if index.numel() == 0:
            return out
        # lexicographic (node, time, position): the last entry of each node wins
        order = torch.arange(index.numel(), device=index.device)
        key = torch.argsort(order, stable=True)
        key = key[torch.argsort(t[key], stable=True)]
        key = key[torch.argsort(index[key], stable=True)]
        sorted_index = index[key]
        last = torch.ones_like(sorted_index, dtype=torch.bool)
        last[:-1] = sorted_index[1:] != sorted_index[:-1]
        out[sorted_index[last]] = msg[key[last]]
        return out


class MeanAggregator(torch.nn.Module):
    """Average each node's messages; nodes without messages get zeros."""

    def forward(self, msg: Tensor, index: Tensor, t: Tensor, dim_size: int) -> Tensor:
        return scatter(msg, index, 0, dim_size, "mean")


class TimeEncoder(torch.nn.Module):
    """:math:`\\phi(t) = \\cos(\\mathbf{w} t + \\mathbf{b})`.

    Args:
        out_channels (int): encoding features.
    """

    def __init__(self, out_channels: int):
        super().__init__()
        self.out_channels = out_channels
        self.lin = Linear(1, out_channels)

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()

    def forward(self, t: Tensor) -> Tensor:
        return self.lin(t.view(-1, 1)).cos()


class TGNMemory(torch.nn.Module):
    """The TGN memory: per-node states updated from stored interactions (see NOTE
    [tgn memory protocol]).

    ``forward(n_id)`` returns ``(memory[n_id], last_update[n_id])`` including the
    pending messages of those nodes in training mode; :meth:`update_state` records a
    batch of interactions.

    Args:
        num_nodes (int): number of nodes with a memory.
        raw_msg_dim (int): raw message features.
        memory_dim (int): memory features.
        time_dim (int): time encoding features.
        message_module (torch.nn.Module): ``(s_src, s_dst, raw_msg, t_enc) -> msg``
            with an ``out_channels`` attribute (e.g. :class:`IdentityMessage`); a copy
            serves the destination side.
        aggregator_module (torch.nn.Module): ``(msg, index, t, dim_size) -> [dim_size,
            F]`` (e.g. :class:`LastAggregator`, :class:`MeanAggregator`).
    """

    def __init__(self, num_nodes: int, raw_msg_dim: int, memory_dim: int, time_dim: int,
                 message_module: Callable, aggregator_module: Callable):
        super().__init__()
        if not hasattr(message_module, "out_channels"):
            raise ValueError("TGNMemory: 'message_module' must have an 'out_channels' "
                             "attribute (its output size)")
        self.num_nodes = num_nodes
        self.raw_msg_dim = raw_msg_dim
        self.memory_dim = memory_dim
        self.time_dim = time_dim
        self.msg_s_module = message_module
        self.msg_d_module = copy.deepcopy(message_module)
        self.aggr_module = aggregator_module
        self.time_enc = TimeEncoder(time_dim)
        self.gru = GRUCell(message_module.out_channels, memory_dim)
        self.register_buffer("memory", torch.empty(num_nodes, memory_dim))
        self.register_buffer("last_update", torch.empty(num_nodes, dtype=torch.long))
        self.register_buffer("_assoc", torch.empty(num_nodes, dtype=torch.long))
        self.msg_s_store: Store = {}
        self.msg_d_store: Store = {}
        self.reset_parameters()

    @property
    def device(self) -> torch.device:
        return self.time_enc.lin.weight.device

    def reset_parameters(self) -> None:
        for module in (self.msg_s_module, self.msg_d_module, self.aggr_module,
                       self.time_enc, self.gru):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        self.reset_state()

    def reset_state(self) -> None:
        """Zero every memory and last-update time and drop the pending messages."""
        self.memory.zero_()
        self.last_update.zero_()
        self._reset_message_store()

    def detach(self) -> None:
        """Cut the memory from the autograd graph (call between training batches)."""
        self.memory.detach_()

    def forward(self, n_id: Tensor) -> Tuple[Tensor, Tensor]:
        """``(memory, last_update)`` of the nodes ``n_id``."""
        self._check_nodes(n_id, "n_id")
        if self.training:
            return self._get_updated_memory(n_id)
        return self.memory[n_id], self.last_update[n_id]

    def update_state(self, src: Tensor, dst: Tensor, t: Tensor, raw_msg: Tensor) -> None:
        """Record interactions ``src[k] -> dst[k]`` at times ``t[k]`` with features
        ``raw_msg[k]``, updating the memories of the nodes involved."""
        self._check_nodes(src, "src")
        self._check_nodes(dst, "dst")
        if not (src.numel() == dst.numel() == t.numel() == raw_msg.shape[0]):
            raise ValueError(f"TGNMemory.update_state: 'src', 'dst', 't' and 'raw_msg' need "
                             f"one entry per event, got {src.numel()}, {dst.numel()}, "
                             f"{t.numel()} and {raw_msg.shape[0]}")
        if raw_msg.dim() != 2 or raw_msg.shape[1] != self.raw_msg_dim:
            raise ValueError(f"TGNMemory.update_state: 'raw_msg' must be [E, "
                             f"{self.raw_msg_dim}], got {list(raw_msg.shape)}")
        n_id = torch.cat([src, dst]).unique()
        if self.training:
            self._update_memory(n_id)
            self._update_msg_store(src, dst, t, raw_msg, self.msg_s_store)
            self._update_msg_store(dst, src, t, raw_msg, self.msg_d_store)
        else:
            self._update_msg_store(src, dst, t, raw_msg, self.msg_s_store)
            self._update_msg_store(dst, src, t, raw_msg, self.msg_d_store)
            self._update_memory(n_id)

    def train(self, mode: bool = True) -> "TGNMemory":
        if self.training and not mode:  # flush every pending message into the memory
            self._update_memory(torch.arange(self.num_nodes, device=self.memory.device))
            self._reset_message_store()
        return super().train(mode)

    # ------------------------------------------------------------------ internals
    def _check_nodes(self, index: Tensor, name: str) -> None:
        if index.dtype != torch.long:
            raise ValueError(f"TGNMemory: '{name}' must be a long tensor of node ids, got "
                             f"{index.dtype}")
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= self.num_nodes):
            raise IndexError(f"TGNMemory: '{name}' holds node ids outside [0, "
                             f"{self.num_nodes})")

    def _reset_message_store(self) -> None:
        i = self.memory.new_empty((0,), dtype=torch.long)
        msg = self.memory.new_empty((0, self.raw_msg_dim))
        self.msg_s_store = {j: (i, i, i, msg) for j in range(self.num_nodes)}
        self.msg_d_store = {j: (i, i, i, msg) for j in range(self.num_nodes)}

    def _update_memory(self, n_id: Tensor) -> None:
        memory, last_update = self._get_updated_memory(n_id)
        self.memory[n_id] = memory
        self.last_update[n_id] = last_update

    def _get_updated_memory(self, n_id: Tensor) -> Tuple[Tensor, Tensor]:
        self._assoc[n_id] = torch.arange(n_id.numel(), device=n_id.device)
        msg_s, t_s, src_s, _ = self._compute_msg(n_id, self.msg_s_store, self.msg_s_module)
        msg_d, t_d, src_d, _ = self._compute_msg(n_id, self.msg_d_store, self.msg_d_module)
        idx = torch.cat([src_s, src_d])
        msg = torch.cat([msg_s, msg_d])
        t = torch.cat([t_s, t_d])
        aggr = self.aggr_module(msg, self._assoc[idx], t, n_id.numel())
        memory = self.gru(aggr, self.memory[n_id])
        last = scatter(t, idx, 0, self.num_nodes, "max")[n_id]
        # nodes without messages keep their time (scatter max gives 0 for no entries)
        last_update = torch.maximum(last, self.last_update[n_id])
        return memory, last_update

    def _update_msg_store(self, src: Tensor, dst: Tensor, t: Tensor, raw_msg: Tensor,
                          store: Store) -> None:
        n_id, perm = src.sort()
        n_id, count = n_id.unique_consecutive(return_counts=True)
        for i, idx in zip(n_id.tolist(), perm.split(count.tolist())):
            store[i] = (src[idx], dst[idx], t[idx], raw_msg[idx])

    def _compute_msg(self, n_id: Tensor, store: Store, module: Callable):
        src, dst, t, raw_msg = (torch.cat(part, dim=0)
                                for part in zip(*(store[i] for i in n_id.tolist())))
        t_rel = t - self.last_update[src]
        t_enc = self.time_enc(t_rel.to(raw_msg.dtype))
        msg = module(self.memory[src], self.memory[dst], raw_msg, t_enc)
        return msg, t, src, dst


__all__ = ["TGNMemory"]
