"""Random graph generators (all draws from torch's global RNG)."""
from __future__ import annotations

from typing import List, Union

import torch
from torch import Tensor

from .loops import remove_self_loops
from .undirected import to_undirected


def erdos_renyi_graph(num_nodes: int, edge_prob: float, directed: bool = False) -> Tensor:
    """Every pair ``u != v`` is an edge with probability ``edge_prob``.

    Args:
        num_nodes (int): number of nodes.
        edge_prob (float): edge probability.
        directed (bool, optional): draw ``(u, v)`` and ``(v, u)`` independently; otherwise
            each unordered pair once and return both directions. (default: ``False``)

    Returns:
        ``[2, E]``, sorted by source then target.
    """
    if not 0.0 <= edge_prob <= 1.0:
        raise ValueError(f"erdos_renyi_graph: 'edge_prob' must lie in [0, 1], got {edge_prob}")
    if directed:
        row, col = torch.meshgrid(torch.arange(num_nodes), torch.arange(num_nodes),
                                  indexing="ij")
        keep = row != col
        pairs = torch.stack([row[keep], col[keep]])
    else:
        pairs = torch.combinations(torch.arange(num_nodes), 2).t().reshape(2, -1)
    pairs = pairs[:, torch.rand(pairs.size(1)) < edge_prob]
    return pairs if directed else to_undirected(pairs, num_nodes=num_nodes)


def stochastic_blockmodel_graph(block_sizes: Union[List[int], Tensor],
                                edge_probs: Union[List[List[float]], Tensor],
                                directed: bool = False) -> Tensor:
    """Nodes in consecutive blocks; ``u != v`` is an edge with probability
    ``edge_probs[block(u)][block(v)]``.

    Args:
        block_sizes (list of int or Tensor): nodes per block.
        edge_probs (list of list of float or Tensor): ``[B, B]`` probabilities (symmetric
            for an undirected graph).
        directed (bool, optional): draw both directions independently. (default: ``False``)
    """
    sizes = torch.as_tensor(block_sizes, dtype=torch.long)
    probs = torch.as_tensor(edge_probs, dtype=torch.float)
    if probs.shape != (sizes.numel(), sizes.numel()):
        raise ValueError(f"stochastic_blockmodel_graph: 'edge_probs' must be "
                         f"[{sizes.numel()}, {sizes.numel()}], got {list(probs.shape)}")
    n = int(sizes.sum())
    block = torch.repeat_interleave(torch.arange(sizes.numel()), sizes)
    if directed:
        row, col = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
        keep = row != col
        pairs = torch.stack([row[keep], col[keep]])
    else:
        pairs = torch.combinations(torch.arange(n), 2).t().reshape(2, -1)
    pairs = pairs[:, torch.rand(pairs.size(1)) < probs[block[pairs[0]], block[pairs[1]]]]
    return pairs if directed else to_undirected(pairs, num_nodes=n)


def barabasi_albert_graph(num_nodes: int, num_edges: int) -> Tensor:
    """Preferential attachment: node ``i >= num_edges`` links to ``num_edges`` earlier
    nodes picked with probability proportional to their degree so far (as end points of
    the edges drawn before). Self-loops and repeats are dropped; both directions are
    returned, coalesced.

    Args:
        num_nodes (int): number of nodes.
        num_edges (int): edges added per new node.
    """
    if num_edges <= 0 or num_nodes <= num_edges:
        raise ValueError(f"barabasi_albert_graph: need 0 < 'num_edges' < 'num_nodes', got "
                         f"{num_edges} and {num_nodes}")
    rows: List[Tensor] = [torch.arange(num_edges)]
    cols: List[Tensor] = [torch.randperm(num_edges)]
    ends = torch.cat([rows[0], cols[0]])
    for node in range(num_edges, num_nodes):
        chosen = ends[torch.randint(0, ends.numel(), (num_edges,))]
        rows.append(torch.full((num_edges,), node, dtype=torch.long))
        cols.append(chosen)
        ends = torch.cat([ends, rows[-1], chosen])
    edge_index, _ = remove_self_loops(torch.stack([torch.cat(rows), torch.cat(cols)]))
    return to_undirected(edge_index, num_nodes=num_nodes)


def mask_feature(x: Tensor, p: float = 0.5, mode: str = "col", fill_value: float = 0.0,
                 training: bool = True):
    """Hide features at random: whole columns (``"col"``), whole rows (``"row"``) or single
    entries (``"all"``), each with probability ``p``.

    Returns:
        ``(x, mask)`` where ``mask`` (``[1, F]``, ``[N, 1]`` or ``[N, F]``) is ``True``
        for the kept features.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"mask_feature: 'p' must lie in [0, 1], got {p}")
    shapes = {"col": (1, x.size(1)), "row": (x.size(0), 1), "all": tuple(x.shape)}
    if mode not in shapes:
        raise ValueError(f"mask_feature: 'mode' must be 'col', 'row' or 'all', got {mode!r}")
    if not training or p == 0.0:
        return x, torch.ones(shapes[mode], dtype=torch.bool, device=x.device)
    mask = torch.rand(shapes[mode], device=x.device) >= p
    return x.masked_fill(~mask, fill_value), mask


def shuffle_node(x: Tensor, batch: Union[None, Tensor] = None, training: bool = True):
    """Permute the rows of ``x`` at random (within each graph of ``batch``).

    Returns:
        ``(x[perm], perm)``.
    """
    if not training:
        return x, torch.arange(x.size(0), device=x.device)
    if batch is None:
        perm = torch.randperm(x.size(0), device=x.device)
        return x[perm], perm
    keys = batch.double() + torch.rand(batch.numel(), device=x.device, dtype=torch.float64)
    perm = torch.argsort(keys)  # stays inside each (sorted) graph, random within it
    return x[perm], perm
