"""``FiLMConv``: feature-wise linear modulation message passing of Brockschmidt (ICML 2020)."""
from __future__ import annotations

import copy
from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import ModuleList, ReLU

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.dense.linear import Linear
from gfx.utils import is_torch_sparse_tensor, is_tracing, adj_t_to_edge_index


def edges_of_type(edge_index: Tensor, edge_type: Tensor, num_relations: int
                  ) -> Tuple[Tensor, ...]:
    """Split ``edge_index`` into one ``[2, E_r]`` tensor per relation ``r``.

    Not cached: the split depends on ``edge_type`` as well, and the structure cache is
    keyed by ``edge_index`` alone.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_type (Tensor): ``[E]`` relation of each edge, in ``[0, num_relations)``.
        num_relations (int): number of relations.
    """
    return tuple(edge_index[:, edge_type == r] for r in range(num_relations))


# Graph structure: one node in a captured graph.
torch.fx.wrap("edges_of_type")


class FiLMConv(MessagePassing):
    """The feature-wise linear modulation layer of "GNN-FiLM: Graph Neural Networks with
    Feature-wise Linear Modulation".

    .. math::
        \\mathbf{x}'_i = \\sigma\\left(\\boldsymbol{\\gamma}_{i} \\odot
        \\mathbf{W} \\mathbf{x}_i + \\boldsymbol{\\beta}_{i}\\right) +
        \\sum_{r \\in \\mathcal{R}} \\mathrm{aggr}_{j \\in \\mathcal{N}_r(i)}
        \\sigma\\left(\\boldsymbol{\\gamma}_{r,i} \\odot \\mathbf{W}_r \\mathbf{x}_j +
        \\boldsymbol{\\beta}_{r,i}\\right)

    where :math:`[\\boldsymbol{\\beta}_{r,i}, \\boldsymbol{\\gamma}_{r,i}] =
    g_r(\\mathbf{x}_i)` (first half :math:`\\boldsymbol{\\beta}`, second half
    :math:`\\boldsymbol{\\gamma}`), :math:`g_r` is ``films[r]`` and :math:`\\mathbf{W}_r`
    is ``lins[r]``.  The first term is the self-loop relation, with its own
    ``lin_skip`` and ``film_skip``.  The aggregation is the mean by default, taken per
    relation (a node without neighbours of a relation gets 0 from it).  With
    ``num_relations=1`` every edge has the one relation and ``edge_type`` is not needed.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes
            for bipartite graphs; ``-1`` for lazy.
        out_channels (int): output features per node.
        num_relations (int, optional): number of relations. (default: ``1``)
        nn (torch.nn.Module, optional): the network :math:`g` mapping target features
            ``[*, in_target]`` to ``[*, 2 * out_channels]``, copied for every relation and
            the self-loop; ``None`` for a linear layer (without bias for the self-loop).
            (default: ``None``)
        act (callable, optional): activation :math:`\\sigma`; ``None`` for none.
            (default: ``torch.nn.ReLU()``)
        aggr (str, optional): the aggregation within a relation. (default: ``"mean"``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]`` or a sparse ``adj_t``, ``edge_type`` ``[E]`` -> ``[N_dst, out_channels]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 num_relations: int = 1, nn: Optional[Callable] = None,
                 act: Optional[Callable] = ReLU(), aggr: str = "mean", **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        if not isinstance(num_relations, int) or num_relations < 1:
            raise ValueError(f"FiLMConv: 'num_relations' must be a positive int, got "
                             f"{num_relations!r}")
        if isinstance(in_channels, int):
            in_channels = (in_channels, in_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_relations = num_relations
        self.act = act
        self.lins = ModuleList()
        self.films = ModuleList()
        for _ in range(num_relations):
            self.lins.append(Linear(in_channels[0], out_channels, bias=False))
            self.films.append(Linear(in_channels[1], 2 * out_channels) if nn is None
                              else copy.deepcopy(nn))
        self.lin_skip = Linear(in_channels[1], out_channels, bias=False)
        self.film_skip = Linear(in_channels[1], 2 * out_channels, bias=False) if nn is None \
            else copy.deepcopy(nn)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for module in [*self.lins, *self.films, self.lin_skip, self.film_skip]:
            inits.reset(module)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], edge_index: Tensor,
                edge_type: Optional[Tensor] = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        if is_torch_sparse_tensor(edge_index):
            if self.num_relations > 1:
                raise ValueError("FiLMConv: with num_relations > 1 pass an edge_index and "
                                 "'edge_type' (a sparse adjacency has no edge order to "
                                 "match them)")
            edge_index, _ = adj_t_to_edge_index(edge_index)
        if self.num_relations > 1 and edge_type is None:
            raise ValueError(f"FiLMConv: built with num_relations={self.num_relations}, so "
                             f"'edge_type' is required")
        if not is_tracing(x[0]):
            self._check_inputs(x, edge_index, edge_type)
        out = self._modulate(self.lin_skip(x[1]), self.film_skip(x[1]))
        if self.num_relations == 1:
            groups = (edge_index,)
        else:
            groups = edges_of_type(edge_index, edge_type, self.num_relations)
        for r in range(self.num_relations):
            out = out + self.propagate(groups[r], x=self.lins[r](x[0]),
                                       film=self.films[r](x[1]), size=None)
        return out

    def _modulate(self, h: Tensor, film: Tensor) -> Tensor:
        """``act(gamma * h + beta)`` with ``film = [beta, gamma]`` along the last axis."""
        beta, gamma = film[..., :self.out_channels], film[..., self.out_channels:]
        out = gamma * h + beta
        return out if self.act is None else self.act(out)

    def _check_inputs(self, x, edge_index: Tensor, edge_type: Optional[Tensor]) -> None:
        for side, value, expected in (("source", x[0], self.in_channels[0]),
                                      ("target", x[1], self.in_channels[1])):
            if expected > 0 and value.shape[-1] != expected:
                raise ValueError(f"FiLMConv: {side} features 'x' must have {expected} "
                                 f"features in their last dimension, got shape "
                                 f"{list(value.shape)}")
        if edge_type is not None and self.num_relations > 1:
            if edge_type.shape != (edge_index.shape[1],):
                raise ValueError(f"FiLMConv: 'edge_type' must have shape [num_edges="
                                 f"{edge_index.shape[1]}], got {list(edge_type.shape)}")
            if edge_type.numel() and (int(edge_type.min()) < 0 or
                                      int(edge_type.max()) >= self.num_relations):
                raise ValueError(f"FiLMConv: 'edge_type' values must lie in [0, "
                                 f"{self.num_relations}), got [{int(edge_type.min())}, "
                                 f"{int(edge_type.max())}]")

    def message(self, x_j: Tensor, film_i: Tensor) -> Tensor:
        return self._modulate(x_j, film_i)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels[0]}, {self.out_channels}, "
                f"num_relations={self.num_relations})")


__all__ = ["FiLMConv"]
