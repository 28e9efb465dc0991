"""GraphSAINT samplers: mini-batches that are random induced subgraphs.

# NOTE [GraphSAINT normalisation]
Zeng et al. (2020) sample subgraphs and reweight to keep the full-graph loss and
aggregation unbiased. With ``sample_coverage > 0`` the sampler first draws subgraphs
until every node was sampled ``sample_coverage`` times on average, counting how often
each node (:math:`C_v`) and edge (:math:`C_{u \\to v}`) appeared over :math:`M`
subgraphs, and attaches to every batch

.. math::
    \\text{node\\_norm}_v = \\frac{M}{C_v\\,N}, \\qquad
    \\text{edge\\_norm}_{u \\to v} = \\min\\Bigl(\\frac{C_u}{C_{u \\to v}},\\ 10^4\\Bigr)

(counts of zero read as 0.1 for nodes; an edge never sampled gets 0.1).
"""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor

from gfx.data.data import Data
from gfx.data.interop import from_foreign

from .subgraph_batch import node_induced_graph


class GraphSAINTSampler(torch.utils.data.DataLoader):
    """Base class: ``num_steps`` batches, each the subgraph induced by sampled nodes.

    Subclasses implement :meth:`sample_nodes`.

    .. code-block:: text

        __iter__ -> (per step) sample_nodes(batch_size) -> unique -> induced subgraph
                    -> node_norm / edge_norm (when sample_coverage > 0)

    Args:
        data (Data): the graph (homogeneous).
        batch_size (int): the size parameter of the sampler (nodes, edges or walk roots).
        num_steps (int, optional): batches per epoch. (default: ``1``)
        sample_coverage (int, optional): samples per node for the normalisation
            statistics (NOTE [GraphSAINT normalisation]); none when 0. (default: ``0``)
        save_dir (str, optional): accepted for compatibility; statistics are not cached
            on disk. (default: ``None``)
        log (bool, optional): accepted for compatibility. (default: ``True``)
        **kwargs: passed to ``torch.utils.data.DataLoader`` (``num_workers`` ...).
    """

    def __init__(self, data: Any, batch_size: int, num_steps: int = 1,
                 sample_coverage: int = 0, save_dir: Optional[str] = None, log: bool = True,
                 **kwargs):
        data = from_foreign(data, f"{type(self).__name__}: 'data'")
        if not isinstance(data, Data) or data.edge_index is None:
            raise ValueError(f"{type(self).__name__}: 'data' must be a homogeneous graph "
                             "with 'edge_index'")
        if batch_size <= 0 or num_steps <= 0:
            raise ValueError(f"{type(self).__name__}: 'batch_size' and 'num_steps' must be "
                             f"positive, got {batch_size} and {num_steps}")
        self.data = data
        self.N = int(data.num_nodes)
        self.E = int(data.edge_index.size(1))
        self.num_steps = num_steps
        self.sample_coverage = sample_coverage
        self.save_dir = save_dir
        self.log = log
        self._size = batch_size
        self.node_norm: Optional[Tensor] = None
        self.edge_norm: Optional[Tensor] = None
        for key in ("collate_fn", "batch_size", "shuffle"):
            kwargs.pop(key, None)
        super().__init__(range(num_steps), batch_size=1, collate_fn=self._collate, **kwargs)
        if sample_coverage > 0:
            self._compute_norm()

    def sample_nodes(self, batch_size: int) -> Tensor:
        """Node ids of one sample (may repeat)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement sample_nodes")

    def _sample(self):
        nodes = self.sample_nodes(self._size).unique()
        return node_induced_graph(self.data, nodes) + (nodes,)

    def _collate(self, _steps) -> Data:
        graph, e_id, nodes = self._sample()
        if self.node_norm is not None:
            graph.node_norm = self.node_norm[nodes]
            graph.edge_norm = self.edge_norm[e_id]
        return graph

    def _compute_norm(self) -> None:
        node_count = torch.zeros(self.N)
        edge_count = torch.zeros(self.E)
        samples = 0
        while samples == 0 or node_count.sum() < self.sample_coverage * self.N:
            _, e_id, nodes = self._sample()
            node_count[nodes] += 1
            edge_count[e_id] += 1
            samples += 1
        row = self.data.edge_index[0]
        edge_norm = (node_count[row] / edge_count).clamp(max=1e4)
        edge_norm[torch.isnan(edge_norm) | (edge_count == 0)] = 0.1
        node_count[node_count == 0] = 0.1
        self.node_norm = samples / node_count / self.N
        self.edge_norm = edge_norm

    def __len__(self) -> int:
        return self.num_steps

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class GraphSAINTNodeSampler(GraphSAINTSampler):
    """Samples ``batch_size`` nodes with probability proportional to their out-degree
    (the source of a uniformly drawn edge), then takes the induced subgraph."""

    def sample_nodes(self, batch_size: int) -> Tensor:
        edges = torch.randint(0, self.E, (batch_size,))
        return self.data.edge_index[0, edges]


class GraphSAINTEdgeSampler(GraphSAINTSampler):
    r"""Samples ``batch_size`` edges with probability
    :math:`\propto 1/\deg(u) + 1/\deg(v)` (degrees counted as in- plus out-edges) and
    takes the subgraph induced by their end points."""

    def sample_nodes(self, batch_size: int) -> Tensor:
        row, col = self.data.edge_index
        deg = torch.bincount(torch.cat([row, col]), minlength=self.N).float().clamp(min=1)
        prob = 1.0 / deg[row] + 1.0 / deg[col]
        edges = torch.multinomial(prob, batch_size, replacement=True)
        return torch.cat([row[edges], col[edges]])


class GraphSAINTRandomWalkSampler(GraphSAINTSampler):
    """Starts ``batch_size`` random walks of ``walk_length`` steps at uniform roots and
    takes the subgraph induced by every visited node. A walk stays in place at a node
    without out-edges.

    Args:
        walk_length (int): steps per walk.
    """

    def __init__(self, data: Any, batch_size: int, walk_length: int, num_steps: int = 1,
                 sample_coverage: int = 0, save_dir: Optional[str] = None, log: bool = True,
                 **kwargs):
        self.walk_length = walk_length
        data = from_foreign(data, "GraphSAINTRandomWalkSampler: 'data'")
        row = data.edge_index[0] if data.edge_index is not None else torch.zeros(0)
        order = torch.argsort(row, stable=True)
        self._col = data.edge_index[1][order]
        counts = torch.bincount(row, minlength=int(data.num_nodes))
        self._rowptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        super().__init__(data, batch_size, num_steps, sample_coverage, save_dir, log,
                         **kwargs)

    def sample_nodes(self, batch_size: int) -> Tensor:
        current = torch.randint(0, self.N, (batch_size,))
        visited = [current]
        for _ in range(self.walk_length):
            start = self._rowptr[current]
            deg = self._rowptr[current + 1] - start
            step = (torch.rand(current.numel()) * deg).long()
            moved = deg > 0
            nxt = current.clone()
            nxt[moved] = self._col[(start + step)[moved]]
            current = nxt
            visited.append(current)
        return torch.cat(visited)
