"""``WLConv``: one round of Weisfeiler-Lehman colour refinement."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from gfx.ops import scatter
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index


class WLConv(torch.nn.Module):
    """The Weisfeiler-Lehman operator of "A Reduction of a Graph to a Canonical Form and an
    Algebra Arising During this Reduction", which refines node colourings:

    .. math::
        \\mathbf{x}^{\\prime}_i = \\textrm{hash} \\left( \\mathbf{x}_i, \\{\\!\\{
        \\mathbf{x}_j \\colon j \\in \\mathcal{N}(i) \\}\\!\\} \\right)

    A node's new colour names the pair (its colour, the multiset of the colours of the
    sources of its incoming edges; a repeated edge counts twice).  The layer remembers
    every pair it has seen in :attr:`hashmap`, across calls: a pair met for the first time
    gets the next free colour (``len(hashmap)``), visiting nodes in id order, so equal
    neighbourhoods get equal colours in every graph passed through the same layer, and
    the colours are deterministic (no hashing of memory addresses or random seeds).
    :meth:`reset_parameters` forgets all pairs.

    The layer has no parameters and computes integer colours in Python: it is not
    differentiable and does not trace with :func:`gfx.capture`; a model that uses it in
    ``forward`` lists ``WLConv`` in ``leaf_modules``.

    Shapes: ``x`` ``[N]`` integer colours, or ``[N, C]`` one-hot rows; ``edge_index``
    ``[2, E]`` or a torch.sparse ``adj_t`` -> ``[N]`` int64 colours.
    """

    def __init__(self):
        super().__init__()
        self.hashmap: Dict[Tuple[int, ...], int] = {}

    def reset_parameters(self) -> None:
        """Forget every colour assigned so far."""
        self.hashmap = {}

    @torch.no_grad()
    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        x = self._colours(x)
        if is_torch_sparse_tensor(edge_index):
            edge_index, _ = adj_t_to_edge_index(edge_index)
        self._check_graph(edge_index, x.shape[0])
        num_nodes = x.shape[0]
        source, target = edge_index[0], edge_index[1]
        order = torch.argsort(target, stable=True)
        counts = torch.bincount(target, minlength=num_nodes).tolist()
        neighbours = torch.split(x[source[order]], counts)
        out = []
        for colour, around in zip(x.tolist(), neighbours):
            key = (colour,) + tuple(sorted(around.tolist()))
            if key not in self.hashmap:
                self.hashmap[key] = len(self.hashmap)
            out.append(self.hashmap[key])
        return torch.tensor(out, dtype=torch.long, device=x.device)

    def histogram(self, x: Tensor, batch: Optional[Tensor] = None,
                  norm: bool = False) -> Tensor:
        """How often each colour known to the layer occurs, per graph of the batch.

        Args:
            x (Tensor): ``[N]`` colours returned by this layer.
            batch (Tensor, optional): ``[N]`` graph id of each node; ``None`` means one
                graph. (default: ``None``)
            norm (bool, optional): divide each row by its L2 norm (then float).
                (default: ``False``)

        Returns ``[num_graphs, len(hashmap)]`` counts (int64, or float when ``norm``).
        """
        num_colours = len(self.hashmap)
        if x.dim() != 1 or x.dtype != torch.long:
            raise ValueError(f"WLConv.histogram: 'x' must be a 1-D int64 colour tensor, got "
                             f"dtype {x.dtype} and shape {list(x.shape)}")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= num_colours):
            raise ValueError(f"WLConv.histogram: 'x' holds colour {int(x.max())}, but the "
                             f"layer knows {num_colours} colours")
        if batch is None:
            batch = torch.zeros_like(x)
        elif batch.shape != x.shape:
            raise ValueError(f"WLConv.histogram: 'batch' must have the shape of 'x' "
                             f"{list(x.shape)}, got {list(batch.shape)}")
        num_graphs = int(batch.max()) + 1 if batch.numel() else 1
        index = batch * num_colours + x
        out = scatter(torch.ones_like(index), index, 0, num_graphs * num_colours, "sum")
        out = out.view(num_graphs, num_colours)
        if norm:
            out = out.to(torch.float)
            out = out / out.norm(dim=-1, keepdim=True)
        return out

    @staticmethod
    def _colours(x: Tensor) -> Tensor:
        if x.dim() > 1:
            if x.dim() != 2 or not bool((x.sum(-1) == 1).all()):
                raise ValueError("WLConv: a 2-D 'x' must hold one-hot rows (each row sums "
                                 "to 1)")
            return x.argmax(dim=-1)
        if x.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
            raise ValueError(f"WLConv: 'x' must hold integer colours (or one-hot rows), "
                             f"got dtype {x.dtype}")
        return x.long()

    @staticmethod
    def _check_graph(edge_index: Tensor, num_nodes: int) -> None:
        if edge_index.dim() != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"WLConv: 'edge_index' must have shape [2, num_edges], got "
                             f"{list(edge_index.shape)}")
        if edge_index.numel() and (int(edge_index.min()) < 0
                                   or int(edge_index.max()) >= num_nodes):
            raise IndexError(f"WLConv: 'edge_index' names node {int(edge_index.max())}, but "
                             f"'x' has {num_nodes} nodes")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


__all__ = ["WLConv"]
