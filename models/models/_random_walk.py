"""Random walks on a CSR graph, vectorised across walkers (no Python loop per node).

Used by :class:`~gfx.nn.Node2Vec` (first- and second-order walks) and
:class:`~gfx.nn.MetaPath2Vec` (one neighbour per walker and step).

NOTE [vectorised walks]: every walker advances one step per iteration of a loop over
steps; within a step all walkers move at once through tensor ops.  The second-order
(node2vec) step uses rejection sampling: a walker at :math:`v` coming from :math:`t`
proposes a uniform neighbour :math:`x` of :math:`v` and accepts it with probability
:math:`w(x) / \\max(1/p, 1, 1/q)`, where :math:`w(x) = 1/p` if :math:`x = t`, :math:`1` if
:math:`x` is a neighbour of :math:`t`, and :math:`1/q` otherwise; the accepted
:math:`x` is then distributed exactly as :math:`w(x) / \\sum_{y \\in N(v)} w(y)`.  Only
the rejected walkers propose again (several proposals per walker and round, the first
accepted one wins), so the inner loop is over rounds, not nodes.
Membership ":math:`x` is a neighbour of :math:`t`" is a binary search in the sorted
edge keys :math:`t \\cdot N + x`.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor


def to_csr(edge_index: Tensor, num_src: int, num_dst: Optional[int] = None
           ) -> Tuple[Tensor, Tensor]:
    """``(rowptr, col)`` of ``edge_index`` sorted by source, then target (duplicates
    kept); ``rowptr`` has ``num_src + 1`` entries."""
    num_dst = num_src if num_dst is None else num_dst
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"'edge_index' must have shape [2, E], got {list(edge_index.shape)}")
    if edge_index.numel():
        if int(edge_index.min()) < 0 or int(edge_index[0].max()) >= num_src or \
                int(edge_index[1].max()) >= num_dst:
            raise ValueError(f"'edge_index' holds node indices outside [0, {num_src}) x "
                             f"[0, {num_dst})")
    row, col = edge_index[0].long(), edge_index[1].long()
    order = torch.argsort(row * max(num_dst, 1) + col, stable=True)
    row, col = row[order], col[order]
    counts = torch.bincount(row, minlength=num_src)
    rowptr = torch.zeros(num_src + 1, dtype=torch.long, device=edge_index.device)
    rowptr[1:] = torch.cumsum(counts, 0)
    return rowptr, col


def sample_neighbors(rowptr: Tensor, col: Tensor, nodes: Tensor,
                     fill: Optional[int] = None) -> Tensor:
    """One uniformly random out-neighbour per entry of ``nodes``.

    A node without neighbours (or an index outside ``[0, len(rowptr) - 1)``) gets
    ``fill``, or stays where it is when ``fill`` is ``None``.
    """
    num_src = rowptr.numel() - 1
    valid = (nodes >= 0) & (nodes < num_src)
    safe = torch.where(valid, nodes, torch.zeros_like(nodes))
    start = rowptr[safe]
    deg = torch.where(valid, rowptr[safe + 1] - start, torch.zeros_like(start))
    offset = (torch.rand(nodes.shape, device=nodes.device) * deg).long()
    offset = torch.minimum(offset, (deg - 1).clamp(min=0))
    has = deg > 0
    picked = col[torch.where(has, start + offset, torch.zeros_like(start))] if col.numel() \
        else nodes
    other = nodes if fill is None else torch.full_like(nodes, fill)
    return torch.where(has, picked, other)


def _is_edge(keys: Tensor, num_nodes: int, src: Tensor, dst: Tensor) -> Tensor:
    if keys.numel() == 0:
        return torch.zeros_like(src, dtype=torch.bool)
    query = src * num_nodes + dst
    pos = torch.searchsorted(keys, query).clamp(max=keys.numel() - 1)
    return keys[pos] == query


def random_walk(rowptr: Tensor, col: Tensor, start: Tensor, walk_length: int,
                p: float = 1.0, q: float = 1.0) -> Tensor:
    """Random walks of ``walk_length`` steps from each node of ``start``:
    ``[len(start), walk_length + 1]``, the start node first.

    With ``p = q = 1`` every step picks a uniform out-neighbour; otherwise steps after the
    first follow node2vec's second-order weights (``1/p`` back to the previous node, 1 to
    a neighbour of the previous node, ``1/q`` further away; see NOTE [vectorised walks]).
    A walker at a node without out-neighbours stays there.

    Args:
        rowptr (Tensor): ``[N + 1]`` CSR row pointers (see :func:`to_csr`).
        col (Tensor): ``[E]`` targets sorted by source, then target.
        start (Tensor): ``[B]`` start nodes.
        walk_length (int): the number of steps.
        p (float, optional): the return parameter. (default: ``1.0``)
        q (float, optional): the in-out parameter. (default: ``1.0``)
    """
    if walk_length < 0:
        raise ValueError(f"random_walk: 'walk_length' must be >= 0, got {walk_length}")
    if p <= 0 or q <= 0:
        raise ValueError(f"random_walk: 'p' and 'q' must be positive, got p={p}, q={q}")
    num_nodes = rowptr.numel() - 1
    start = start.long()
    if start.numel() and (int(start.min()) < 0 or int(start.max()) >= num_nodes):
        raise ValueError(f"random_walk: 'start' holds nodes outside [0, {num_nodes})")
    walks = [start]
    if walk_length == 0:
        return start.view(-1, 1)
    cur = sample_neighbors(rowptr, col, start)
    walks.append(cur)
    if p == 1.0 and q == 1.0:
        for _ in range(walk_length - 1):
            cur = sample_neighbors(rowptr, col, cur)
            walks.append(cur)
        return torch.stack(walks, dim=1)
    deg = rowptr[1:] - rowptr[:-1]
    rows = torch.repeat_interleave(torch.arange(num_nodes, device=col.device), deg)
    keys = rows * num_nodes + col          # sorted, since col is sorted within rows
    bound = max(1.0 / p, 1.0, 1.0 / q)
    # Proposals per walker and round: enough that most walkers accept in the first round.
    tries = int(min(16, max(1, round(2 * bound / min(1.0 / p, 1.0, 1.0 / q)))))
    prev = start
    for _ in range(walk_length - 1):
        nxt = cur.clone()
        pending = (deg[cur] > 0).nonzero().view(-1)
        while pending.numel():
            v = cur[pending].repeat_interleave(tries)
            t = prev[pending].repeat_interleave(tries)
            x = sample_neighbors(rowptr, col, v)
            weight = torch.full(x.shape, 1.0 / q, device=col.device)
            weight[_is_edge(keys, num_nodes, t, x)] = 1.0
            weight[x == t] = 1.0 / p
            accept = (torch.rand(x.shape, device=col.device) * bound < weight).view(-1, tries)
            done = accept.any(dim=1)
            first = accept.to(torch.int8).argmax(dim=1)   # the first accepted proposal
            chosen = x.view(-1, tries)[torch.arange(pending.numel(), device=col.device), first]
            nxt[pending[done]] = chosen[done]
            pending = pending[~done]
        prev, cur = cur, nxt
        walks.append(cur)
    return torch.stack(walks, dim=1)
