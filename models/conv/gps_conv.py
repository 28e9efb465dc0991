"""``GPSConv``: the GPS graph transformer layer (Rampasek et al., NeurIPS 2022)."""
from __future__ import annotations

import inspect
from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.attention.performer import PerformerAttention
from gfx.nn.resolver import activation_resolver, normalization_resolver
from gfx.utils import is_tracing

ATTN_TYPES = ("multihead", "performer")


def dense_batch_positions(batch: Tensor, num_nodes: int) -> Tuple[Tensor, int, int]:
    """``(position, num_graphs, max_nodes)``: the slot of every node in its graph.

    Nodes keep their relative order inside each graph; ``batch`` need not be sorted.
    """
    if num_nodes == 0:
        return batch.new_zeros(0), 0, 0
    num_graphs = int(batch.max()) + 1
    counts = torch.bincount(batch, minlength=num_graphs)
    order = torch.sort(batch, stable=True).indices
    starts = torch.cumsum(counts, 0) - counts
    position = torch.empty_like(batch)
    position[order] = torch.arange(num_nodes, device=batch.device) - starts[batch[order]]
    return position, num_graphs, int(counts.max())


def to_dense(x: Tensor, batch: Optional[Tensor]) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(dense [B, L, C], mask [B, L], batch, position)`` for node rows ``x``."""
    if batch is None:
        batch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
    position, num_graphs, max_nodes = dense_batch_positions(batch, x.shape[0])
    dense = x.new_zeros((num_graphs, max_nodes) + tuple(x.shape[1:]))
    dense = dense.index_put((batch, position), x)
    mask = torch.zeros(num_graphs, max_nodes, dtype=torch.bool, device=x.device)
    mask[batch, position] = True
    return dense, mask, batch, position


def from_dense(dense: Tensor, batch: Tensor, position: Tensor) -> Tensor:
    """The node rows of ``dense``, in the order of ``batch``."""
    return dense[batch, position]


def _refuse_captured_kwargs(x: Tensor, kwargs: dict) -> Tensor:
    """Run-time guard of a captured graph traced without ``conv``'s extra inputs."""
    if len(kwargs):
        raise TypeError(f"GPSConv: this captured graph was traced without keyword arguments "
                        f"for 'conv'; got {sorted(kwargs)}: capture a model that passes them "
                        f"by name")
    return x


# The number of graphs and their largest size are read from the data: the dense batch is
# one node in captured graphs.  **kwargs is one placeholder: its guard is one node too.
torch.fx.wrap("to_dense")
torch.fx.wrap("from_dense")
torch.fx.wrap("_refuse_captured_kwargs")


class GPSConv(torch.nn.Module):
    """The general, powerful, scalable graph transformer layer of "Recipe for a General,
    Powerful, Scalable Graph Transformer".

    .. math::
        \\mathbf{X}_M &= \\mathrm{Norm}_1(\\mathrm{Dropout}(\\mathrm{MPNN}(\\mathbf{X},
        \\mathbf{E})) + \\mathbf{X})

        \\mathbf{X}_T &= \\mathrm{Norm}_2(\\mathrm{Dropout}(\\mathrm{GlobalAttn}(\\mathbf{X}))
        + \\mathbf{X})

        \\mathbf{X}' &= \\mathrm{Norm}_3(\\mathbf{X}_M + \\mathbf{X}_T +
        \\mathrm{MLP}(\\mathbf{X}_M + \\mathbf{X}_T))

    The local branch is dropped when ``conv`` is ``None``.  Global attention runs over
    the nodes of each graph of the mini-batch (``batch``) at once: multi-head softmax
    attention (:class:`torch.nn.MultiheadAttention`, padding masked) or
    :class:`gfx.nn.PerformerAttention`.  The MLP is ``Linear(C, 2C)``, ``act``,
    dropout, ``Linear(2C, C)``, dropout.  Norms whose ``forward`` takes ``batch`` get it.
    ``batch`` need not be sorted (the reference assumes it is; for sorted input the two
    agree).

    Args:
        channels (int): features per node (input and output).
        conv (MessagePassing, optional): the local message passing layer, mapping
            ``channels`` to ``channels``; ``None`` for none.
        heads (int, optional): heads of the global attention. (default: ``1``)
        dropout (float, optional): dropout after each branch and in the MLP.
            (default: ``0.``)
        act (str or Callable, optional): MLP activation. (default: ``"relu"``)
        act_kwargs (dict, optional): arguments of ``act``. (default: ``None``)
        norm (str, optional): the three normalisations; ``None`` for none.
            (default: ``"batch_norm"``)
        norm_kwargs (dict, optional): arguments of ``norm``. (default: ``None``)
        attn_type (str, optional): ``"multihead"`` or ``"performer"``.
            (default: ``"multihead"``)
        attn_kwargs (dict, optional): arguments of the attention module.
            (default: ``None``)

    Shapes: ``x`` ``[N, channels]``, ``edge_index`` ``[2, E]``, ``batch`` ``[N]``; further
    keyword arguments go to ``conv`` -> ``[N, channels]``.
    """

    def __init__(self, channels: int, conv: Optional[MessagePassing], heads: int = 1,
                 dropout: float = 0.0, act: str = "relu",
                 act_kwargs: Optional[Dict[str, Any]] = None, norm: Optional[str] = "batch_norm",
                 norm_kwargs: Optional[Dict[str, Any]] = None, attn_type: str = "multihead",
                 attn_kwargs: Optional[Dict[str, Any]] = None):
        super().__init__()
        if attn_type not in ATTN_TYPES:
            raise ValueError(f"GPSConv: 'attn_type' must be one of {ATTN_TYPES}, got "
                             f"{attn_type!r}")
        self.channels = channels
        self.conv = conv
        self.heads = heads
        self.dropout = dropout
        self.attn_type = attn_type
        attn_kwargs = attn_kwargs or {}
        if attn_type == "multihead":
            self.attn = torch.nn.MultiheadAttention(channels, heads, batch_first=True,
                                                    **attn_kwargs)
        else:
            self.attn = PerformerAttention(channels=channels, heads=heads, **attn_kwargs)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(channels, channels * 2),
            activation_resolver(act, **(act_kwargs or {})),
            torch.nn.Dropout(dropout),
            torch.nn.Linear(channels * 2, channels),
            torch.nn.Dropout(dropout),
        )
        norm_kwargs = norm_kwargs or {}
        self.norm1 = normalization_resolver(norm, channels, **norm_kwargs)
        self.norm2 = normalization_resolver(norm, channels, **norm_kwargs)
        self.norm3 = normalization_resolver(norm, channels, **norm_kwargs)
        self.norm_with_batch = self.norm1 is not None and \
            "batch" in inspect.signature(self.norm1.forward).parameters

    def reset_parameters(self) -> None:
        if self.conv is not None:
            self.conv.reset_parameters()
        if isinstance(self.attn, torch.nn.MultiheadAttention):
            self.attn._reset_parameters()
        else:
            self.attn.reset_parameters()
        for module in self.mlp:
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        for norm in (self.norm1, self.norm2, self.norm3):
            if norm is not None:
                norm.reset_parameters()

    def _norm(self, norm, h: Tensor, batch: Optional[Tensor]) -> Tensor:
        if norm is None:
            return h
        return norm(h, batch=batch) if self.norm_with_batch else norm(h)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Optional[Tensor] = None,
                **kwargs) -> Tensor:
        if not is_tracing(x) and (x.dim() != 2 or x.shape[1] != self.channels):
            raise ValueError(f"GPSConv: 'x' must have shape [num_nodes, {self.channels}], "
                             f"got {list(x.shape)}")
        if batch is not None and not is_tracing(x, batch) and (
                batch.dim() != 1 or batch.numel() != x.shape[0]):
            raise ValueError(f"GPSConv: 'batch' must have one graph id per node "
                             f"({x.shape[0]}), got shape {list(batch.shape)}")
        if isinstance(kwargs, torch.fx.Proxy):  # captured as the root module
            x, kwargs = _refuse_captured_kwargs(x, kwargs), {}
        branches = []
        if self.conv is not None:
            h = self.conv(x, edge_index, **kwargs)
            h = F.dropout(h, p=self.dropout, training=self.training) + x
            branches.append(self._norm(self.norm1, h, batch))

        dense, mask, node_graph, position = to_dense(x, batch)
        if isinstance(self.attn, torch.nn.MultiheadAttention):
            dense, _ = self.attn(dense, dense, dense, key_padding_mask=~mask,
                                 need_weights=False)
        else:
            dense = self.attn(dense, mask=mask)
        h = from_dense(dense, node_graph, position)
        h = F.dropout(h, p=self.dropout, training=self.training) + x
        branches.append(self._norm(self.norm2, h, batch))

        out = branches[0] if len(branches) == 1 else branches[0] + branches[1]
        out = out + self.mlp(out)
        return self._norm(self.norm3, out, batch)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.channels}, conv={self.conv}, "
                f"heads={self.heads}, attn_type={self.attn_type})")


__all__ = ["GPSConv"]
