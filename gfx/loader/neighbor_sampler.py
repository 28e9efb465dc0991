"""Vectorised neighbour sampling over a compressed adjacency (one relation at a time).

# NOTE [neighbour sampling]
Messages flow source -> target, so a node's *neighbours* are the sources of its incoming
edges. Each relation is stored once as CSC: edges sorted by target (``colptr``), their
sources in ``row`` and their original edge ids in ``perm``. A hop takes the frontier (a
vector of node ids) and samples for all of it at once:

* ``k < 0`` or ``deg <= k``: every incoming edge;
* without replacement: ``k`` distinct offsets into the node's edges, drawn by sorting
  random keys (``deg <= 2k``) or by redrawing repeats (larger degrees), so the work
  grows with ``k`` per node, not with the degree of hubs;
* with replacement: ``k`` uniform draws per node.

Sampling runs on the CPU (the graph structure is copied there once); the attributes
of a batch are gathered on whatever device they live on.

Sampled sources not seen before get the next local ids in order of first appearance;
the global -> local map and the first-appearance buffer are dense vectors reset after
each batch (only the touched entries). All randomness comes
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
        weight (Tensor, optional): non-negative ``[E]`` sampling weights (see
            NOTE [weighted neighbour sampling]). (default: ``None``)
    """

    def __init__(self, edge_index: Tensor, num_targets: int, weight: Optional[Tensor] = None):
        target = edge_index[1].long()
        self.perm = torch.argsort(target, stable=True)
        self.row = edge_index[0].long()[self.perm]
        counts = torch.bincount(target, minlength=num_targets)
        self.colptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        self.weight = None
        if weight is not None:
            weight = weight.view(-1).double()
            if weight.numel() != edge_index.size(1) or bool((weight < 0).any()):
                raise ValueError("NeighborLoader: 'weight_attr' must hold one non-negative "
                                 "weight per edge")
            self.weight = weight[self.perm]
            self.cumulative = torch.cat([weight.new_zeros(1), self.weight.cumsum(0)])
            positive = (self.weight > 0).long()
            self.positive = torch.cat([counts.new_zeros(1), positive.cumsum(0)])

    def sample(self, frontier: Tensor, k: int, replace: bool,
               generator: Optional[torch.Generator] = None) -> Tuple[Tensor, Tensor, Tensor]:
        """Sample incoming edges of every node of ``frontier``.

        Returns ``(source, target_position, edge_id)``: the sampled source nodes, the
        position in ``frontier`` of the node each edge enters, and the original edge id.
        """
        start = self.colptr[frontier]
        deg = self.colptr[frontier + 1] - start
        if self.weight is not None and k >= 0:
            return self._sample_weighted(frontier, start, deg, k, replace, generator)
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

    def _sample_weighted(self, frontier: Tensor, start: Tensor, deg: Tensor, k: int,
                         replace: bool, generator: Optional[torch.Generator]
                         ) -> Tuple[Tensor, Tensor, Tensor]:
        """NOTE [weighted neighbour sampling]: with replacement, each draw picks edge ``e``
        of node ``v`` with probability ``w_e / sum_v w``: a uniform point on the node's
        stretch of the cumulative weights, located by binary search. Without replacement,
        successive sampling proportional to weight: every edge gets the key
        ``Exp(1) / w_e`` and the ``k`` smallest keys of each node win (Efraimidis and
        Spirakis, 2006); this visits all edges of the frontier. Zero-weight edges are
        never sampled."""
        end = start + deg
        usable = self.positive[end] - self.positive[start]
        take = usable.clamp(max=k) if not replace else torch.where(
            usable > 0, torch.full_like(usable, k), usable)
        owner = torch.repeat_interleave(torch.arange(frontier.numel()), take)
        if replace:
            low, high = self.cumulative[start[owner]], self.cumulative[end[owner]]
            point = low + torch.rand(owner.numel(), generator=generator,
                                     dtype=torch.float64) * (high - low)
            slot = torch.searchsorted(self.cumulative, point, right=True) - 1
            slot = torch.minimum(torch.maximum(slot, start[owner]), end[owner] - 1)
            return self.row[slot], owner, self.perm[slot]
        edge_owner = torch.repeat_interleave(torch.arange(frontier.numel()), deg)
        first = torch.cumsum(deg, 0) - deg
        slot = start[edge_owner] + torch.arange(edge_owner.numel()) - first[edge_owner]
        uniform = torch.rand(slot.numel(), generator=generator, dtype=torch.float64)
        key = -torch.log1p(-uniform) / self.weight[slot]  # inf for zero weights
        order = torch.argsort(key, stable=True)
        order = order[torch.argsort(edge_owner[order], stable=True)]  # by node, then key
        rank = torch.arange(order.numel()) - first[edge_owner[order]]
        chosen = order[rank < take[edge_owner[order]]]
        slot = slot[chosen]
        return self.row[slot], edge_owner[chosen], self.perm[slot]

    def sample_temporal(self, frontier: Tensor, k: int, limit: Tensor, time: Tensor,
                        per_edge: bool, strategy: str,
                        generator: Optional[torch.Generator] = None
                        ) -> Tuple[Tensor, Tensor, Tensor]:
        """NOTE [temporal neighbour sampling]: only neighbours no later than ``limit``
        (one time per frontier node) qualify; the time is the source node's
        (``per_edge=False``) or the edge's. ``"uniform"`` draws ``k`` of them at random,
        ``"last"`` takes the ``k`` most recent. Visits every edge of the frontier."""
        start = self.colptr[frontier]
        deg = self.colptr[frontier + 1] - start
        owner = torch.repeat_interleave(torch.arange(frontier.numel()), deg)
        first = torch.cumsum(deg, 0) - deg
        slot = start[owner] + torch.arange(owner.numel()) - first[owner]
        when = time[self.perm[slot]] if per_edge else time[self.row[slot]]
        valid = when <= limit[owner]
        slot, owner, when = slot[valid], owner[valid], when[valid]
        if k >= 0:
            if strategy == "last":
                key = -when.double()
            else:
                key = torch.rand(slot.numel(), generator=generator, dtype=torch.float64)
            order = torch.argsort(key, stable=True)
            order = order[torch.argsort(owner[order], stable=True)]
            counts = torch.bincount(owner, minlength=frontier.numel())
            block = torch.cumsum(counts, 0) - counts
            rank = torch.arange(order.numel()) - block[owner[order]]
            order = order[rank < k]
            slot, owner = slot[order], owner[order]
        return self.row[slot], owner, self.perm[slot]

    @staticmethod
    def _offsets_without_replacement(deg: Tensor, take: Tensor, owner: Tensor, k: int,
                                     generator: Optional[torch.Generator]) -> Tensor:
        """Offsets (inside each node's block of edges) of the sampled edges.

        Nodes with ``deg <= k`` keep every edge. For the others ``k`` distinct offsets are
        drawn: by sorting random keys over the node's edges when ``deg <= 2k``, else by
        drawing ``k`` offsets and redrawing repeats until none are left (each draw
        repeats with probability below 1/2, so a few rounds suffice)."""
        first = torch.cumsum(take, 0) - take
        rank = torch.arange(owner.numel()) - first[owner]
        partial = deg > take
        if k < 0 or not bool(partial.any()):
            return rank
        nodes = partial.nonzero().view(-1)
        node_deg = deg[nodes]
        offsets = torch.empty(nodes.numel(), k, dtype=torch.long)
        small = node_deg <= 2 * k
        if bool(small.any()):
            offsets[small] = _first_k_of_random_order(node_deg[small], k, generator)
        big = ~small
        if bool(big.any()):
            offsets[big] = _distinct_draws(node_deg[big], k, generator)
        out = rank.clone()
        out[partial[owner]] = offsets.view(-1)
        return out


def _first_k_of_random_order(deg: Tensor, k: int, generator: Optional[torch.Generator]
                             ) -> Tensor:
    """``[len(deg), k]``: the first ``k`` offsets of a random permutation of each
    ``range(deg[i])`` (one sort of random keys over all the blocks)."""
    owner = torch.repeat_interleave(torch.arange(deg.numel()), deg)
    keys = torch.rand(owner.numel(), generator=generator, dtype=torch.float64) + owner
    order = torch.argsort(keys)
    block_first = torch.cumsum(deg, 0) - deg
    position = torch.arange(order.numel()) - block_first[owner]
    return (order - block_first[owner])[position < k].view(-1, k)


def _distinct_draws(deg: Tensor, k: int, generator: Optional[torch.Generator]) -> Tensor:
    """``[len(deg), k]`` uniform offsets, distinct within each row (``deg > k``)."""
    draws = (torch.rand(deg.numel(), k, generator=generator, dtype=torch.float64)
             * deg.view(-1, 1)).long()
    while True:
        ordered, index = draws.sort(dim=1)
        repeat = ordered[:, 1:] == ordered[:, :-1]
        if not bool(repeat.any()):
            return draws
        rows, cols = repeat.nonzero(as_tuple=True)
        cols = index[rows, cols + 1]
        draws[rows, cols] = (torch.rand(rows.numel(), generator=generator,
                                        dtype=torch.float64) * deg[rows]).long()


_NEVER = torch.iinfo(torch.long).max


class NodeSet:
    """The nodes of one type in a sampled subgraph: global ids in local order, with a
    dense global -> local map that is cleared after use."""

    def __init__(self, num_nodes: int):
        self.local = torch.full((num_nodes,), -1, dtype=torch.long)
        self._first = torch.full((num_nodes,), _NEVER, dtype=torch.long)
        self.ids: List[Tensor] = []
        self.count = 0

    def add(self, nodes: Tensor) -> Tensor:
        """Give local ids to the nodes not seen yet (first appearance order); return the
        new global ids. Repeats are found with a scatter-min of positions into a dense
        buffer, not a sort."""
        if nodes.numel() == 0:
            return nodes
        unseen = nodes[self.local[nodes] < 0]
        if unseen.numel() == 0:
            return unseen
        position = torch.arange(unseen.numel())
        self._first.scatter_reduce_(0, unseen, position, "amin")
        new = unseen[self._first[unseen] == position]
        self._first[unseen] = _NEVER
        self.local[new] = torch.arange(self.count, self.count + new.numel())
        self.count += new.numel()
        self.ids.append(new)
        return new

    def lookup(self, nodes: Tensor) -> Tensor:
        """Local ids of ``nodes`` (``-1`` where not present)."""
        return self.local[nodes]

    def n_id(self) -> Tensor:
        return torch.cat(self.ids) if self.ids else torch.zeros(0, dtype=torch.long)

    def clear(self) -> None:
        for ids in self.ids:
            self.local[ids] = -1
        self.ids, self.count = [], 0


class DisjointNodeSet:
    """The nodes of one type when every seed grows its own tree (``disjoint=True``).

    A node is identified by the key ``tree * num_nodes + node``, so one node reached from
    two seeds is two nodes of the batch. Keys are kept sorted for binary-search lookup.
    """

    def __init__(self, num_nodes: int):
        self.num_nodes = max(num_nodes, 1)
        self.sorted_keys = torch.zeros(0, dtype=torch.long)
        self.sorted_local = torch.zeros(0, dtype=torch.long)
        self.ids: List[Tensor] = []
        self.count = 0

    def lookup(self, keys: Tensor) -> Tensor:
        """Local ids of ``keys`` (``-1`` where not present)."""
        if self.sorted_keys.numel() == 0:
            return torch.full_like(keys, -1)
        where = torch.searchsorted(self.sorted_keys, keys).clamp(max=self.sorted_keys.numel() - 1)
        found = self.sorted_keys[where] == keys
        return torch.where(found, self.sorted_local[where], torch.full_like(keys, -1))

    def add(self, keys: Tensor) -> Tensor:
        """Give local ids to the keys not seen yet (first appearance order); return them."""
        unseen = keys[self.lookup(keys) < 0]
        if unseen.numel() == 0:
            return unseen
        uniq, inverse = torch.unique(unseen, return_inverse=True)
        first = torch.full((uniq.numel(),), unseen.numel(), dtype=torch.long)
        first.scatter_reduce_(0, inverse, torch.arange(unseen.numel()), "amin")
        new = unseen[first.sort().values]
        local = torch.arange(self.count, self.count + new.numel())
        keys_all = torch.cat([self.sorted_keys, new])
        local_all = torch.cat([self.sorted_local, local])
        order = torch.argsort(keys_all)
        self.sorted_keys, self.sorted_local = keys_all[order], local_all[order]
        self.count += new.numel()
        self.ids.append(new)
        return new

    def keys(self) -> Tensor:
        return torch.cat(self.ids) if self.ids else torch.zeros(0, dtype=torch.long)

    def n_id(self) -> Tensor:
        return self.keys() % self.num_nodes

    def batch(self) -> Tensor:
        return torch.div(self.keys(), self.num_nodes, rounding_mode="floor")

    def clear(self) -> None:
        self.__init__(self.num_nodes)
