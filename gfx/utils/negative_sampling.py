"""Sampling node pairs that are *not* edges (negatives for link prediction).

# NOTE [negative sampling]
A pair ``(u, v)`` is encoded as the integer ``u * N_dst + v``. The candidate set excludes
existing edges, self-loops (unless the graph is bipartite) and, with
``force_undirected``, every pair with ``u >= v`` (the sample is mirrored afterwards).
Small populations are enumerated and sampled exactly without replacement; large ones use
vectorised rejection sampling (draw a batch, drop edges and repeats, redraw the shortfall),
so the requested count is met whenever enough non-edges exist, unlike a fixed number of
tries. Everything uses torch's global RNG, so ``torch.manual_seed`` makes it repeatable.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from .num_nodes import check_edge_index, maybe_num_nodes

NumNodes = Union[None, int, Tuple[int, int]]
_ENUMERATE_LIMIT = 1 << 22
_MAX_ROUNDS = 64


def _sizes(edge_index: Tensor, num_nodes: NumNodes) -> Tuple[int, int, bool]:
    if isinstance(num_nodes, (tuple, list)):
        return int(num_nodes[0]), int(num_nodes[1]), True
    n = maybe_num_nodes(edge_index, num_nodes)
    return n, n, False


def _valid(code: Tensor, num_dst: int, bipartite: bool, undirected: bool) -> Tensor:
    row, col = code // num_dst, code % num_dst
    ok = torch.ones_like(code, dtype=torch.bool)
    if not bipartite:
        ok &= row != col
    if undirected:
        ok &= row < col
    return ok


def _existing(edge_index: Tensor, num_dst: int, undirected: bool) -> Tensor:
    row, col = edge_index[0].long(), edge_index[1].long()
    if undirected:
        row, col = torch.minimum(row, col), torch.maximum(row, col)
    return (row * num_dst + col).unique()


def _sample_codes(existing: Tensor, num_src: int, num_dst: int, count: int, bipartite: bool,
                  undirected: bool, device) -> Tensor:
    total = num_src * num_dst
    if total <= _ENUMERATE_LIMIT:
        codes = torch.arange(total, device=device)
        keep = _valid(codes, num_dst, bipartite, undirected) & ~torch.isin(codes, existing)
        codes = codes[keep]
        return codes[torch.randperm(codes.numel(), device=device)[:count]]
    chosen = torch.empty(0, dtype=torch.long, device=device)
    for _ in range(_MAX_ROUNDS):
        need = count - chosen.numel()
        if need <= 0:
            break
        draw = torch.randint(0, total, (int(need * 1.5) + 16,), device=device)
        draw = draw[_valid(draw, num_dst, bipartite, undirected)]
        draw = draw[~torch.isin(draw, existing) & ~torch.isin(draw, chosen)]
        first = _first_occurrences(draw)
        chosen = torch.cat([chosen, draw[first][:need]])
    return chosen


def _first_occurrences(values: Tensor) -> Tensor:
    """Positions of the first occurrence of each distinct value, in original order."""
    if values.numel() == 0:
        return values
    _, inverse = values.unique(return_inverse=True)
    first = torch.full((int(inverse.max()) + 1,), values.numel(), dtype=torch.long,
                       device=values.device)
    first.scatter_reduce_(0, inverse, torch.arange(values.numel(), device=values.device),
                          "amin")
    return first.sort().values


def _population(num_src: int, num_dst: int, bipartite: bool, undirected: bool) -> int:
    if bipartite:
        return num_src * num_dst
    pairs = num_src * (num_src - 1)
    return pairs // 2 if undirected else pairs


def negative_sampling(edge_index: Tensor, num_nodes: NumNodes = None,
                      num_neg_samples: Optional[int] = None, method: str = "sparse",
                      force_undirected: bool = False) -> Tensor:
    """Sample node pairs that are not edges of ``edge_index`` (see NOTE [negative sampling]).

    Args:
        edge_index (Tensor): ``[2, E]`` existing edges.
        num_nodes (int or (int, int), optional): number of nodes, or ``(N_src, N_dst)``
            for a bipartite graph (self-loops are then allowed). (default: ``None``)
        num_neg_samples (int, optional): how many pairs; ``E`` when omitted. Capped at
            the number of non-edges. (default: ``None``)
        method (str, optional): ``"sparse"`` or ``"dense"``; both give the same
            distribution here, the choice of algorithm follows the graph size.
            (default: ``"sparse"``)
        force_undirected (bool, optional): return ``num_neg_samples // 2`` pairs and
            their mirrors, so the result is undirected. (default: ``False``)

    Returns:
        ``[2, num_neg_samples]`` negative edges, distinct, none of them in ``edge_index``.
    """
    check_edge_index("negative_sampling", edge_index)
    if method not in ("sparse", "dense"):
        raise ValueError(f"negative_sampling: 'method' must be 'sparse' or 'dense', "
                         f"got {method!r}")
    num_src, num_dst, bipartite = _sizes(edge_index, num_nodes)
    if bipartite and force_undirected:
        raise ValueError("negative_sampling: 'force_undirected' needs a square graph, "
                         "not a bipartite 'num_nodes' pair")
    if num_neg_samples is None:
        num_neg_samples = edge_index.size(1)
    if num_neg_samples < 0:
        raise ValueError(f"negative_sampling: 'num_neg_samples' must be >= 0, "
                         f"got {num_neg_samples}")
    if force_undirected:
        num_neg_samples //= 2
    existing = _existing(edge_index, num_dst, force_undirected)
    existing_valid = int(_valid(existing, num_dst, bipartite, force_undirected).sum())
    available = _population(num_src, num_dst, bipartite, force_undirected) - existing_valid
    count = max(0, min(num_neg_samples, available))
    codes = _sample_codes(existing, num_src, num_dst, count, bipartite, force_undirected,
                          edge_index.device)
    row, col = codes // num_dst, codes % num_dst
    if force_undirected:
        row, col = torch.cat([row, col]), torch.cat([col, row])
    return torch.stack([row, col]).to(edge_index.dtype)


def batched_negative_sampling(edge_index: Tensor, batch: Union[Tensor, Tuple[Tensor, Tensor]],
                              num_neg_samples: Optional[int] = None, method: str = "sparse",
                              force_undirected: bool = False) -> Tensor:
    """Negative sampling within each graph of a batch (pairs never cross graphs).

    Args:
        edge_index (Tensor): ``[2, E]`` edges of the batched graph.
        batch (Tensor or (Tensor, Tensor)): graph id of every node, sorted; a pair of
            source/target vectors for bipartite graphs.
        num_neg_samples (int, optional): pairs per graph; that graph's edge count when
            omitted. (default: ``None``)
        method (str, optional): see :func:`negative_sampling`. (default: ``"sparse"``)
        force_undirected (bool, optional): see :func:`negative_sampling`.
            (default: ``False``)
    """
    check_edge_index("batched_negative_sampling", edge_index)
    bipartite = isinstance(batch, (tuple, list))
    src_batch, dst_batch = (batch[0], batch[1]) if bipartite else (batch, batch)
    num_graphs = int(max(src_batch.max(), dst_batch.max())) + 1 if src_batch.numel() else 0

    def layout(b: Tensor):
        sizes = torch.zeros(num_graphs, dtype=torch.long, device=b.device).scatter_add_(
            0, b.long(), torch.ones_like(b, dtype=torch.long))
        return sizes, torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])

    src_sizes, src_starts = layout(src_batch)
    dst_sizes, dst_starts = layout(dst_batch)
    edge_graph = src_batch[edge_index[0]].long()
    parts = []
    for g in range(num_graphs):
        local = edge_index[:, edge_graph == g].long()
        local = torch.stack([local[0] - src_starts[g], local[1] - dst_starts[g]])
        size = (int(src_sizes[g]), int(dst_sizes[g])) if bipartite else int(src_sizes[g])
        wanted = local.size(1) if num_neg_samples is None else num_neg_samples
        neg = negative_sampling(local, size, wanted, method, force_undirected)
        parts.append(torch.stack([neg[0] + src_starts[g], neg[1] + dst_starts[g]]))
    if not parts:
        return edge_index.new_empty(2, 0)
    return torch.cat(parts, dim=1).to(edge_index.dtype)


def structured_negative_sampling(edge_index: Tensor, num_nodes: Optional[int] = None,
                                 contains_neg_self_loops: bool = True
                                 ) -> Tuple[Tensor, Tensor, Tensor]:
    """For every edge ``(i, j)`` a node ``k`` such that ``(i, k)`` is not an edge.

    ``k`` is uniform over the admissible nodes. Where some source node is linked to every
    admissible node no ``k`` exists; the reference then loops forever, this raises a
    ``ValueError`` (check with :func:`structured_negative_sampling_feasible`).

    Args:
        edge_index (Tensor): ``[2, E]`` edges.
        num_nodes (int, optional): number of nodes. (default: ``None``)
        contains_neg_self_loops (bool, optional): allow ``k = i``. (default: ``True``)

    Returns:
        ``(i, j, k)``, three ``[E]`` tensors.
    """
    check_edge_index("structured_negative_sampling", edge_index)
    if not structured_negative_sampling_feasible(edge_index, num_nodes,
                                                 contains_neg_self_loops):
        raise ValueError("structured_negative_sampling: some source node is linked to every "
                         "node, so it has no negative; pass a larger 'num_nodes' or allow "
                         "'contains_neg_self_loops'")
    n = maybe_num_nodes(edge_index, num_nodes)
    row, col = edge_index[0].long(), edge_index[1].long()
    forbidden = row * n + col
    if not contains_neg_self_loops:
        loops = torch.arange(n, device=row.device)
        forbidden = torch.cat([forbidden, loops * n + loops])
    forbidden = forbidden.unique()
    k = torch.randint(0, max(n, 1), (row.numel(),), device=row.device)
    pending = torch.isin(row * n + k, forbidden).nonzero().view(-1)
    while pending.numel() > 0:
        k[pending] = torch.randint(0, n, (pending.numel(),), device=row.device)
        pending = pending[torch.isin(row[pending] * n + k[pending], forbidden)]
    return edge_index[0], edge_index[1], k.to(edge_index.dtype)


def structured_negative_sampling_feasible(edge_index: Tensor, num_nodes: Optional[int] = None,
                                          contains_neg_self_loops: bool = True) -> bool:
    """Whether every source node of ``edge_index`` has at least one non-neighbour.

    Args:
        edge_index (Tensor): ``[2, E]`` edges.
        num_nodes (int, optional): number of nodes. (default: ``None``)
        contains_neg_self_loops (bool, optional): whether ``k = i`` counts as a
            negative. (default: ``True``)
    """
    n = maybe_num_nodes(edge_index, num_nodes)
    row, col = edge_index[0].long(), edge_index[1].long()
    if not contains_neg_self_loops:
        keep = row != col
        row, col = row[keep], col[keep]
    pairs = (row * n + col).unique()
    linked = torch.zeros(n, dtype=torch.long, device=row.device).scatter_add_(
        0, pairs // max(n, 1), torch.ones_like(pairs))
    admissible = n if contains_neg_self_loops else n - 1
    sources = edge_index[0].long().unique()
    return bool((linked[sources] < admissible).all())
