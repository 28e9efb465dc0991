"""Exact nearest-neighbour search on point sets: ``knn``, ``knn_graph``, ``radius``,
``radius_graph``.

# NOTE [blocked neighbour search]
Every search is exact and batch-aware.  Points are grouped by example (a stable sort of
the batch vectors, so batch vectors need not be sorted); for each example the queries are
processed in blocks, and a block of ``q`` queries against the ``n`` candidates of the same
example holds one ``[q, n]`` distance block, with ``q * n`` at most :data:`BLOCK_ELEMENTS`
(a block has at least one query).  No ``[N, M]`` matrix is ever built for the whole set.
Distances are computed exactly (no ``|x|^2 + |y|^2 - 2 x.y`` expansion, which loses
precision for nearby points).

Output convention, matching the reference's: ``knn`` and ``radius`` return a
``[2, num_pairs]`` long tensor whose first row indexes ``y`` (the queries) and whose second
row indexes ``x`` (the candidates), ordered by query; ``knn_graph`` and ``radius_graph``
return ``edge_index`` with ``edge_index[1]`` the centre node and ``edge_index[0]`` its
neighbour for ``flow="source_to_target"`` (the rows swapped for ``"target_to_source"``).
"""
from __future__ import annotations

from typing import Callable, List, Optional, Tuple

import torch
from torch import Tensor

BLOCK_ELEMENTS = 1 << 22  # at most ~4M distances (16 MiB in float32) held at once
MAX_QUERY_BLOCK = 4096
SORT_FACTOR = 8  # rows shorter than SORT_FACTOR * k are fully sorted (see _k_smallest)

_FLOWS = ("source_to_target", "target_to_source")


def _check_points(name: str, value: Tensor) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"'{name}' must be a tensor, got {type(value).__name__}")
    if value.dim() == 1:
        value = value.view(-1, 1)
    if value.dim() != 2:
        raise ValueError(f"'{name}' must be [num_points, num_features], got shape "
                         f"{list(value.shape)}")
    if not value.is_floating_point():
        value = value.to(torch.get_default_dtype())
    return value


def _check_batch(name: str, batch: Optional[Tensor], num: int, device) -> Tensor:
    if batch is None:
        return torch.zeros(num, dtype=torch.long, device=device)
    if not isinstance(batch, Tensor) or batch.dim() != 1:
        raise ValueError(f"'{name}' must be a 1-D long tensor")
    if batch.dtype not in (torch.long, torch.int, torch.int16, torch.int8, torch.uint8):
        raise ValueError(f"'{name}' must be an integer tensor, got {batch.dtype}")
    if batch.numel() != num:
        raise ValueError(f"'{name}' has {batch.numel()} entries, but there are {num} points")
    if num and int(batch.min()) < 0:
        raise ValueError(f"'{name}' holds negative example ids")
    return batch.to(torch.long)


def _groups(batch: Tensor, num_groups: int) -> Tuple[Tensor, List[int]]:
    """The point ids sorted by example (stable) and the per-example offsets."""
    order = torch.sort(batch, stable=True)[1]
    counts = torch.bincount(batch, minlength=num_groups)
    ptr = [0] + torch.cumsum(counts, 0).tolist()
    return order, ptr


def _distances(y: Tensor, x: Tensor, cosine: bool) -> Tensor:
    if cosine:
        return 1.0 - y @ x.t()  # rows already normalised
    return torch.cdist(y, x, compute_mode="donot_use_mm_for_euclid_dist")


def _search(x: Tensor, y: Tensor, batch_x: Optional[Tensor], batch_y: Optional[Tensor],
            cosine: bool, select: Callable[[Tensor, Tensor, Tensor], Tuple[Tensor, Tensor]]
            ) -> Tensor:
    """Run ``select(dist, query_ids, cand_ids)`` on every distance block; pairs by query."""
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"'x' and 'y' must have the same number of features, got "
                         f"{x.shape[1]} and {y.shape[1]}")
    if x.device != y.device:
        raise ValueError(f"'x' is on {x.device} but 'y' is on {y.device}")
    batch_x = _check_batch("batch_x", batch_x, x.shape[0], x.device)
    batch_y = _check_batch("batch_y", batch_y, y.shape[0], y.device)
    dtype = torch.promote_types(x.dtype, y.dtype)
    if dtype not in (torch.float32, torch.float64):
        dtype = torch.float32  # half-precision distances would misorder near neighbours
    x, y = x.detach().to(dtype), y.detach().to(dtype)
    if cosine:
        x = torch.nn.functional.normalize(x, dim=-1)
        y = torch.nn.functional.normalize(y, dim=-1)
    empty = torch.empty(2, 0, dtype=torch.long, device=x.device)
    if x.shape[0] == 0 or y.shape[0] == 0:
        return empty
    num_groups = max(int(batch_x.max()), int(batch_y.max())) + 1
    order_x, ptr_x = _groups(batch_x, num_groups)
    order_y, ptr_y = _groups(batch_y, num_groups)
    has_nan = bool(torch.isnan(x).any()) or bool(torch.isnan(y).any())
    rows, cols = [], []
    with torch.no_grad():
        for b in range(num_groups):
            cand = order_x[ptr_x[b]:ptr_x[b + 1]]
            query = order_y[ptr_y[b]:ptr_y[b + 1]]
            if cand.numel() == 0 or query.numel() == 0:
                continue
            xb = x[cand]
            step = max(1, min(MAX_QUERY_BLOCK, BLOCK_ELEMENTS // cand.numel()))
            for start in range(0, query.numel(), step):
                q = query[start:start + step]
                dist = _distances(y[q], xb, cosine)
                if has_nan:  # a NaN coordinate puts a point infinitely far away
                    dist = torch.nan_to_num(dist, nan=float("inf"))
                row, col = select(dist, q, cand)
                rows.append(row)
                cols.append(col)
    if not rows:
        return empty
    row, col = torch.cat(rows), torch.cat(cols)
    perm = torch.sort(row, stable=True)[1]  # by query; per query, the block's order
    return torch.stack([row[perm], col[perm]], dim=0)


def _check_flow(flow: str) -> None:
    if flow not in _FLOWS:
        raise ValueError(f"'flow' must be 'source_to_target' or 'target_to_source', "
                         f"got {flow!r}")


def _as_graph(assign: Tensor, flow: str) -> Tensor:
    # assign[0] is the centre (query), assign[1] its neighbour.
    if flow == "source_to_target":
        return assign.flip(0)
    return assign


def _k_smallest(dist: Tensor, k: int) -> Tensor:
    """Column ids of the ``k`` smallest entries of every row, ordered by (value, column).

    Ties go to the smaller column: candidates are sorted by id inside an example, so this
    prefers the smaller point index.  Short rows use one stable sort; long rows select
    with ``topk`` (linear time), redo only the rows whose boundary value is shared by
    more entries than fit, and sort just the ``k`` chosen entries.  ``dist`` holds no
    NaN (see :func:`_search`).
    """
    if k >= dist.shape[1] or k * SORT_FACTOR >= dist.shape[1]:
        return torch.sort(dist, dim=1, stable=True)[1][:, :k]
    # k + 1 smallest: where the (k+1)-th equals the k-th, the boundary value is shared
    # by more entries than fit and topk's choice among them is unspecified: redo those.
    values, cols = torch.topk(dist, k + 1, dim=1, largest=False, sorted=True)
    cols = cols[:, :k]
    crowded = (values[:, k] == values[:, k - 1]).nonzero().view(-1)
    if crowded.numel():
        sub, bound = dist[crowded], values[crowded, k - 1:k]
        below, tied = sub < bound, sub == bound
        room = k - below.sum(dim=1, keepdim=True)
        take = below | (tied & (torch.cumsum(tied, dim=1) <= room))  # k per row
        cols = cols.clone()
        cols[crowded] = take.nonzero()[:, 1].view(-1, k)
    cols = torch.sort(cols, dim=1)[0]
    order = torch.sort(dist.gather(1, cols), dim=1, stable=True)[1]
    return cols.gather(1, order)


def _own_columns(q: Tensor, cand: Tensor) -> Tensor:
    """Where each query sits among the (ascending) candidates of its example."""
    return torch.searchsorted(cand, q).clamp_(max=max(cand.numel() - 1, 0)).view(-1, 1)


def _knn(x: Tensor, y: Tensor, k: int, batch_x, batch_y, cosine: bool,
         exclude_self: bool) -> Tensor:
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"'k' must be a non-negative int, got {k!r}")

    def select(dist: Tensor, q: Tensor, cand: Tensor):
        if exclude_self:  # queries are candidates of their own example
            dist.scatter_(1, _own_columns(q, cand), float("inf"))
        kk = min(k, cand.numel() - (1 if exclude_self else 0))
        if kk <= 0:
            return q[:0], cand[:0]
        idx = _k_smallest(dist, kk)
        return q.view(-1, 1).expand(-1, kk).reshape(-1), cand[idx].reshape(-1)

    return _search(x, y, batch_x, batch_y, cosine, select)


def knn(x: Tensor, y: Tensor, k: int, batch_x: Optional[Tensor] = None,
        batch_y: Optional[Tensor] = None, cosine: bool = False,
        num_workers: int = 1) -> Tensor:
    """For each point of ``y``, the ``k`` nearest points of ``x`` (same example only).

    .. math::
        \\mathcal{N}_k(\\mathbf{y}_i) = \\operatorname{arg\\,min}_{S \\subseteq
        \\{j : b^x_j = b^y_i\\}, |S| = k} \\sum_{j \\in S} d(\\mathbf{y}_i, \\mathbf{x}_j)

    with :math:`d` the Euclidean distance, or :math:`1 - \\cos(\\mathbf{y}_i,
    \\mathbf{x}_j)` when ``cosine``.  A query whose example holds fewer than ``k`` points
    gets all of them.  Returns ``[2, num_pairs]``: row 0 indexes ``y``, row 1 indexes
    ``x``, sorted by query and, per query, by increasing distance (ties: smaller index
    first).  Search is exact and blocked (see NOTE [blocked neighbour search]).

    Args:
        x (Tensor): candidates ``[N, F]``.
        y (Tensor): queries ``[M, F]``.
        k (int): neighbours per query.
        batch_x (LongTensor, optional): example of each candidate ``[N]``. (default: ``None``)
        batch_y (LongTensor, optional): example of each query ``[M]``. (default: ``None``)
        cosine (bool, optional): cosine distance instead of Euclidean; zero vectors
            are at distance 1 from everything (normalising them would divide by zero).
            (default: ``False``)
        num_workers (int, optional): accepted for compatibility; the search runs on
            PyTorch's own threads. (default: ``1``)
    """
    x, y = _check_points("x", x), _check_points("y", y)
    return _knn(x, y, k, batch_x, batch_y, cosine, exclude_self=False)


def knn_graph(x: Tensor, k: int, batch: Optional[Tensor] = None, loop: bool = False,
              flow: str = "source_to_target", cosine: bool = False,
              num_workers: int = 1) -> Tensor:
    """Edges from every point to its ``k`` nearest points (same example only).

    Returns ``edge_index`` ``[2, N * k]`` (fewer where an example has too few points);
    for ``flow="source_to_target"`` ``edge_index[1]`` is the centre and ``edge_index[0]``
    one of its neighbours, grouped by centre in increasing distance.  Without ``loop``
    the centre itself is excluded from the search by index, so every centre gets exactly
    ``min(k, n - 1)`` neighbours even among duplicate points (searching ``k + 1`` and
    dropping the self-pair afterwards could keep ``k + 1`` when a duplicate hides the
    centre).

    Args:
        x (Tensor): points ``[N, F]``.
        k (int): neighbours per point.
        batch (LongTensor, optional): example of each point ``[N]``. (default: ``None``)
        loop (bool, optional): allow a point to be its own neighbour. (default: ``False``)
        flow (str, optional): ``"source_to_target"`` or ``"target_to_source"``.
            (default: ``"source_to_target"``)
        cosine (bool, optional): cosine distance. (default: ``False``)
        num_workers (int, optional): accepted for compatibility. (default: ``1``)
    """
    _check_flow(flow)
    x = _check_points("x", x)
    assign = _knn(x, x, k, batch, batch, cosine, exclude_self=not loop)
    return _as_graph(assign, flow)


def _radius(x: Tensor, y: Tensor, r: float, batch_x, batch_y, max_num_neighbors: int,
            exclude_self: bool) -> Tensor:
    r = float(r)
    if not r >= 0:
        raise ValueError(f"'r' must be a non-negative number, got {r}")
    if isinstance(max_num_neighbors, bool) or not isinstance(max_num_neighbors, int) \
            or max_num_neighbors < 0:
        raise ValueError(f"'max_num_neighbors' must be a non-negative int, got "
                         f"{max_num_neighbors!r}")

    def select(dist: Tensor, q: Tensor, cand: Tensor):
        inside = dist < r
        if exclude_self:  # queries are candidates of their own example
            inside.scatter_(1, _own_columns(q, cand), False)
        over = (torch.count_nonzero(inside, dim=1) > max_num_neighbors).nonzero().view(-1)
        if over.numel():
            # Those rows keep their nearest max_num_neighbors (ties: smaller index
            # first); they have more points inside than that, so all chosen are inside.
            chosen = torch.zeros_like(inside[over])
            if max_num_neighbors:
                key = dist[over].masked_fill(~inside[over], float("inf"))
                chosen.scatter_(1, _k_smallest(key, max_num_neighbors), True)
            inside[over] = chosen
        qi, ci = inside.nonzero(as_tuple=True)
        return q[qi], cand[ci]

    return _search(x, y, batch_x, batch_y, False, select)


def radius(x: Tensor, y: Tensor, r: float, batch_x: Optional[Tensor] = None,
           batch_y: Optional[Tensor] = None, max_num_neighbors: int = 32,
           num_workers: int = 1) -> Tensor:
    """For each point of ``y``, the points of ``x`` closer than ``r`` (same example only).

    .. math::
        \\mathcal{N}_r(\\mathbf{y}_i) = \\{ j : b^x_j = b^y_i,\\;
        \\lVert \\mathbf{y}_i - \\mathbf{x}_j \\rVert_2 < r \\}

    When more than ``max_num_neighbors`` points qualify, the nearest
    ``max_num_neighbors`` are kept (ties: smaller index first; the reference documents
    no choice).  Returns ``[2, num_pairs]``: row 0 indexes ``y``, row 1 indexes
    ``x``, sorted by query and, per query, by candidate index.

    Args:
        x (Tensor): candidates ``[N, F]``.
        y (Tensor): queries ``[M, F]``.
        r (float): the radius.
        batch_x (LongTensor, optional): example of each candidate. (default: ``None``)
        batch_y (LongTensor, optional): example of each query. (default: ``None``)
        max_num_neighbors (int, optional): most neighbours per query. (default: ``32``)
        num_workers (int, optional): accepted for compatibility. (default: ``1``)
    """
    x, y = _check_points("x", x), _check_points("y", y)
    return _radius(x, y, r, batch_x, batch_y, max_num_neighbors, exclude_self=False)


def radius_graph(x: Tensor, r: float, batch: Optional[Tensor] = None, loop: bool = False,
                 max_num_neighbors: int = 32, flow: str = "source_to_target",
                 num_workers: int = 1) -> Tensor:
    """Edges between all points closer than ``r`` (same example only).

    For ``flow="source_to_target"`` ``edge_index[1]`` is the centre and ``edge_index[0]``
    a neighbour, grouped by centre and, per centre, by neighbour index.  Without ``loop``
    the centre is excluded by index before ``max_num_neighbors`` is applied, so a centre
    keeps up to ``max_num_neighbors`` other points.

    Args:
        x (Tensor): points ``[N, F]``.
        r (float): the radius.
        batch (LongTensor, optional): example of each point. (default: ``None``)
        loop (bool, optional): include self-loops. (default: ``False``)
        max_num_neighbors (int, optional): most neighbours per point. (default: ``32``)
        flow (str, optional): ``"source_to_target"`` or ``"target_to_source"``.
            (default: ``"source_to_target"``)
        num_workers (int, optional): accepted for compatibility. (default: ``1``)
    """
    _check_flow(flow)
    x = _check_points("x", x)
    assign = _radius(x, x, r, batch, batch, max_num_neighbors, exclude_self=not loop)
    return _as_graph(assign, flow)


# Graph construction is structure, not feature computation: one call in a captured graph.
for _name in ("knn", "knn_graph", "radius", "radius_graph"):
    torch.fx.wrap(_name)

__all__ = ["knn", "knn_graph", "radius", "radius_graph"]
