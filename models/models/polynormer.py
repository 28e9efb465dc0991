"""``Polynormer``: polynomial-expressive local attention layers, then global attention."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.aggr._dense import from_dense_groups, to_dense_groups
from gfx.nn.attention.polynormer import PolynormerAttention
from gfx.nn.conv.gat_conv import GATConv
from gfx.nn.conv.gcn_conv import GCNConv

torch.fx.wrap("to_dense_groups")  # see NOTE [dense groups while tracing]
torch.fx.wrap("from_dense_groups")


class Polynormer(torch.nn.Module):
    """Polynormer (Deng et al., "Polynormer: Polynomial-Expressive Graph Transformer in
    Linear Time").

    With :math:`C = ` ``heads * hidden_channels``, ``local_layers`` equivariant local
    layers (a GCN, or a GAT with ``local_attn=True``) act on :math:`\\mathbf{X}^{(0)} =
    \\mathrm{Dropout}_{\\mathrm{in}}(\\mathbf{X})`:

    .. math::
        \\mathbf{H} &= \\mathrm{ReLU}(\\mathbf{X}^{(l-1)}\\mathbf{W}_H^{(l)} +
        \\mathbf{b}_H^{(l)}) \\\\
        \\mathbf{Y} &= \\mathrm{Dropout}(\\mathrm{ReLU}(\\mathrm{BN}^{(l)}(
        \\mathrm{Conv}^{(l)}(\\mathbf{X}^{(l-1)}) + \\mathbf{X}^{(l-1)}\\mathbf{W}^{(l)} +
        \\mathbf{b}^{(l)}))) \\\\
        \\mathbf{X}^{(l)} &= (1 - \\beta)\\,\\mathrm{LN}^{(l)}(\\mathbf{H} \\odot \\mathbf{Y})
        + \\beta\\,\\mathbf{Y}

    (``pre_ln`` applies a layer norm to :math:`\\mathbf{X}^{(l-1)}` first; ``post_bn=False``
    drops :math:`\\mathrm{BN}`), and :math:`\\mathbf{X}_{\\mathrm{local}} = \\sum_l
    \\mathbf{X}^{(l)}`.  In the local phase the output is
    :math:`\\log\\mathrm{softmax}(\\mathbf{X}_{\\mathrm{local}}\\mathbf{W}_{\\mathrm{loc}} +
    \\mathbf{b}_{\\mathrm{loc}})`.  After setting ``model._global = True`` (the paper
    trains the local phase first), ``global_layers`` :class:`PolynormerAttention` layers
    run one after the other within each graph of ``batch`` on
    :math:`\\mathrm{LN}(\\mathbf{X}_{\\mathrm{local}})`, and the output is
    :math:`\\log\\mathrm{softmax}` of ``pred_global`` applied to the result.

    The global attention layers are built for ``hidden_channels`` inputs, as in the
    reference, so that its checkpoints load; the global phase therefore needs
    ``heads=1`` and raises ``ValueError`` otherwise (the reference fails there with a
    shape mismatch).

    Args:
        in_channels (int): input features per node.
        hidden_channels (int): features per head.
        out_channels (int): output features per node.
        local_layers (int, optional): local layers. (default: ``7``)
        global_layers (int, optional): global attention layers. (default: ``2``)
        in_dropout (float, optional): dropout on the input. (default: ``0.15``)
        dropout (float, optional): dropout in the local layers. (default: ``0.5``)
        global_dropout (float, optional): dropout in the global layers. (default: ``0.5``)
        heads (int, optional): attention heads. (default: ``1``)
        beta (float, optional): the mixing weight :math:`\\beta`. (default: ``0.9``)
        qk_shared (bool, optional): share queries and keys in the global attention.
            (default: ``False``)
        pre_ln (bool, optional): layer norm before each local layer. (default: ``False``)
        post_bn (bool, optional): batch norm in each local layer. (default: ``True``)
        local_attn (bool, optional): use GAT instead of GCN locally. (default: ``False``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 local_layers: int = 7, global_layers: int = 2, in_dropout: float = 0.15,
                 dropout: float = 0.5, global_dropout: float = 0.5, heads: int = 1,
                 beta: float = 0.9, qk_shared: bool = False, pre_ln: bool = False,
                 post_bn: bool = True, local_attn: bool = False) -> None:
        super().__init__()
        for name, value in (("local_layers", local_layers), ("global_layers", global_layers),
                            ("heads", heads), ("hidden_channels", hidden_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Polynormer: '{name}' must be a positive int, got {value!r}")
        self.in_drop = in_dropout
        self.dropout = dropout
        self.pre_ln = pre_ln
        self.post_bn = post_bn
        self.beta = beta
        self._global = False
        inner = heads * hidden_channels
        sizes = [in_channels] + [inner] * (local_layers - 1)
        self.h_lins = torch.nn.ModuleList([torch.nn.Linear(c, inner) for c in sizes])
        if local_attn:
            self.local_convs = torch.nn.ModuleList([
                GATConv(c, hidden_channels, heads=heads, concat=True, add_self_loops=False,
                        bias=False) for c in sizes])
        else:
            self.local_convs = torch.nn.ModuleList([GCNConv(c, inner) for c in sizes])
        self.lins = torch.nn.ModuleList([torch.nn.Linear(c, inner) for c in sizes])
        self.lns = torch.nn.ModuleList([torch.nn.LayerNorm(inner) for _ in sizes])
        if pre_ln:
            self.pre_lns = torch.nn.ModuleList([torch.nn.LayerNorm(c) for c in sizes])
        if post_bn:
            self.post_bns = torch.nn.ModuleList([torch.nn.BatchNorm1d(inner) for _ in sizes])
        self.lin_in = torch.nn.Linear(in_channels, inner)
        self.ln = torch.nn.LayerNorm(inner)
        # built for hidden_channels inputs, as in the reference (so its checkpoints load);
        # the global phase therefore needs heads == 1 (see forward)
        self.global_attn = torch.nn.ModuleList([
            PolynormerAttention(hidden_channels, heads, hidden_channels, beta=beta,
                                qk_shared=qk_shared, dropout=global_dropout)
            for _ in range(global_layers)])
        self.heads = heads
        self.pred_local = torch.nn.Linear(inner, out_channels)
        self.pred_global = torch.nn.Linear(inner, out_channels)

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, batch: Optional[Tensor]) -> Tensor:
        """Node features ``[N, in_channels]``, ``edge_index`` ``[2, E]`` and the graph of
        each node (``None``: one graph) -> log-probabilities ``[N, out_channels]``."""
        x = F.dropout(x, p=self.in_drop, training=self.training)
        x_local = 0
        for i, conv in enumerate(self.local_convs):
            if self.pre_ln:
                x = self.pre_lns[i](x)
            h = F.relu(self.h_lins[i](x))
            x = conv(x, edge_index) + self.lins[i](x)
            if self.post_bn:
                x = self.post_bns[i](x)
            x = F.dropout(F.relu(x), p=self.dropout, training=self.training)
            x = (1 - self.beta) * self.lns[i](h * x) + self.beta * x
            x_local = x_local + x
        if not self._global:
            return F.log_softmax(self.pred_local(x_local), dim=-1)
        if self.heads != 1:
            raise ValueError(f"Polynormer: the global phase needs heads=1 (got heads="
                             f"{self.heads}): its attention takes hidden_channels inputs, "
                             f"as in the reference, but the local phase gives "
                             f"heads * hidden_channels")
        dense, mask = to_dense_groups(self.ln(x_local), batch, None, None)
        for attn in self.global_attn:
            dense = attn(dense, mask)
        out = from_dense_groups(dense, batch, x.size(0))
        return F.log_softmax(self.pred_global(out), dim=-1)


__all__ = ["Polynormer"]
