"""Vectorised neighbour sampling over a compressed adjacency (one relation at a time).

# NOTE [neighbour sampling]
Messages flow source -> target, so a node's *neighbours* are the sources of its incoming
edges. Each relation is stored once as CSC: edges sorted by target (``colptr``), their
sources in ``row`` and their original edge ids in ``perm``. A hop takes the frontier (a
vector of node ids) and samples for all of it at once:

* ``k < 0`` or ``deg <= k``: every incoming edge;
* without replacement: each candidate edge gets a uniform random key and the ``k``
  smallest keys of each node win (one sort over the frontier's edges);
* with replacement: ``k`` uniform draws per node.

Sampled sources not seen before get the next local ids in order of first appearance;
the global -> local map is a dense vector reset after each batch. All randomness comes
from torch's generator, so a seed fixes the batches; the work is torch kernels over
whole frontiers (multi-threaded by torch), never a Python loop over nodes.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
from torch import Tensor


class CSC:
    """Incoming edges of every target node of one relation.

    Args:
        edge_index (Tensor): ``[2, E]`` edges ``source -> target``.
        num_targets (int): number of target nodes.
    """

    def __init__(self, edge_index: Tensor, num_targets: int):
        target = edge_index[1].long()
        self.perm = torch.argsort(target, stable=True)
        self.row = edge_index[0].long()[self.perm]
        counts = torch.bincount(target, minlength=num_targets)
        self.colptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])

    def sample(self, frontier: Tensor, k: int, replace: bool,
               generator: Optional[torch.Generator] = None) -> Tuple[Tensor, Tensor, Tensor]:
        """Sample incoming edges of every node of ``frontier``.

        Returns ``(source, target_position, edge_id)``: the sampled source nodes, the
        position in ``frontier`` of the node each edge enters, and the original edge id.
        """
        start = self.colptr[frontier]
        deg = self.colptr[frontier + 1] - start
        if k < 0:
            take = deg
        elif replace:
            take = torch.where(deg > 0, torch.full_like(deg, k), deg)
        else:
            take = deg.clamp(max=k)
        owner = torch.repeat_interleave(torch.arange(frontier.numel()), take)
        if k >= 0 and replace:
            offset = (torch.rand(owner.numel(), generator=generator)
                      * deg[owner]).long().clamp(max=(deg[owner] - 1).clamp(min=0))
        else:
            offset = self._offsets_without_replacement(deg, take, owner, k, generator)
        slot = start[owner] + offset
        return self.row[slot], owner, self.perm[slot]

    @staticmethod
    def _offsets_without_replacement(deg: Tensor, take: Tensor, owner: Tensor, k: int,
                                     generator: Optional[torch.Generator]) -> Tensor:
        full = (deg == take)
        # positions within the owner's block, for nodes that keep every edge
        first = torch.cumsum(take, 0) - take
        rank = torch.arange(owner.numel()) - first[owner]
        if k < 0 or bool(full.all()):
            return rank
        partial = (~full).nonzero().view(-1)
        part_deg = deg[partial]
        part_owner = torch.repeat_interleave(torch.arange(partial.numel()), part_deg)
        keys = torch.rand(part_owner.numel(), generator=generator) + part_owner.double()
        order = torch.argsort(keys)  # grouped by owner, random within each group
        part_first = torch.cumsum(part_deg, 0) - part_deg
        within = order - part_first[part_owner]  # edge offset inside the owner's block
        pos = torch.arange(order.numel()) - part_first[part_owner]
        chosen = within[pos < k]  # the first k of each group, groups in owner order
        out = rank.clone()
        partial_slots = full[owner].logical_not().nonzero().view(-1)
        out[partial_slots] = chosen
        return out


class NodeSet:
    """The nodes of one type in a sampled subgraph: global ids in local order, with a
    dense global -> local map that is cleared after use."""

    def __init__(self, num_nodes: int):
        self.local = torch.full((num_nodes,), -1, dtype=torch.long)
        self.ids: List[Tensor] = []
        self.count = 0

    def add(self, nodes: Tensor) -> Tensor:
        """Give local ids to the nodes not seen yet (first appearance order); return the
        new global ids."""
        if nodes.numel() == 0:
            return nodes
        unseen = nodes[self.local[nodes] < 0]
        if unseen.numel() == 0:
            return unseen
        uniq, inverse = torch.unique(unseen, return_inverse=True)
        first = torch.full((uniq.numel(),), unseen.numel(), dtype=torch.long)
        first.scatter_reduce_(0, inverse, torch.arange(unseen.numel()), "amin")
        new = unseen[first.sort().values]
        self.local[new] = torch.arange(self.count, self.count + new.numel())
        self.count += new.numel()
        self.ids.append(new)
        return new

    def n_id(self) -> Tensor:
        return torch.cat(self.ids) if self.ids else torch.zeros(0, dtype=torch.long)

    def clear(self) -> None:
        for ids in self.ids:
            self.local[ids] = -1
        self.ids, self.count = [], 0
