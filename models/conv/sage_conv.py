"""``SAGEConv``: the GraphSAGE operator of Hamilton, Ying and Leskovec (NeurIPS 2017)."""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import torch.nn.functional as F
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.dense.linear import Linear


class SAGEConv(MessagePassing):
    """The GraphSAGE operator of "Inductive Representation Learning on Large Graphs".

    .. math::
        \\mathbf{x}'_i = \\mathbf{W}_1 \\mathbf{x}_i + \\mathbf{W}_2 \\cdot
        \\mathrm{aggr}_{j \\in \\mathcal{N}(i)} \\mathbf{x}_j

    With ``project=True`` the neighbours are first mapped by
    :math:`\\mathrm{ReLU}(\\mathbf{W}_3 \\mathbf{x}_j + \\mathbf{b})`; with
    ``normalize=True`` the output is divided by its :math:`\\ell_2` norm.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes
            for bipartite graphs; ``-1`` for lazy.
        out_channels (int): output features per node.
        aggr (str or [str] or Aggregation, optional): the neighbourhood aggregation.
            (default: ``"mean"``)
        normalize (bool, optional): :math:`\\ell_2`-normalise the output. (default: ``False``)
        root_weight (bool, optional): add the transformed target features
            :math:`\\mathbf{W}_1 \\mathbf{x}_i`. (default: ``True``)
        project (bool, optional): project neighbours before aggregating. (default: ``False``)
        bias (bool, optional): learn an additive bias (in ``lin_l``). (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]`` -> ``[N_dst, out_channels]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 aggr: Union[str, List[str], object, None] = "mean", normalize: bool = False,
                 root_weight: bool = True, project: bool = False, bias: bool = True,
                 **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        self.in_channels = in_channels  # as given (str() and attribute as the reference)
        if isinstance(in_channels, int):
            in_channels = (in_channels, in_channels)
        if project and in_channels[0] <= 0:
            raise ValueError("SAGEConv: project=True needs a known source size "
                             "(in_channels[0] > 0)")
        self.out_channels = out_channels
        self.normalize = normalize
        self.root_weight = root_weight
        self.project = project
        if project:
            self.lin = Linear(in_channels[0], in_channels[0], bias=True)
        aggr_channels = in_channels[0]
        if hasattr(self.aggr_module, "get_out_channels"):
            aggr_channels = self.aggr_module.get_out_channels(in_channels[0])
        self.lin_l = Linear(aggr_channels, out_channels, bias=bias)
        if root_weight:
            self.lin_r = Linear(in_channels[1], out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.project:
            self.lin.reset_parameters()
        self.lin_l.reset_parameters()
        if self.root_weight:
            self.lin_r.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                size: Optional[Tuple[int, int]] = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        if self.project:
            x = (F.relu(self.lin(x[0])), x[1])
        out = self.propagate(edge_index, x=x, size=size)
        out = self.lin_l(out)
        if self.root_weight and x[1] is not None:
            out = out + self.lin_r(x[1])
        if self.normalize:
            out = F.normalize(out, p=2.0, dim=-1)
        return out

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}, aggr={self.aggr})"
__all__ = ["SAGEConv"]
