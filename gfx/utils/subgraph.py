"""Induced subgraphs: by a node subset, bipartite, and the k-hop neighbourhood of seeds."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from .mask import index_to_mask
from .num_nodes import check_edge_index, maybe_num_nodes

Subset = Union[Tensor, Sequence[int]]


def _as_index_or_mask(fn: str, subset: Subset, device) -> Tensor:
    if not isinstance(subset, Tensor):
        subset = torch.as_tensor(list(subset), dtype=torch.long)
    subset = subset.to(device)
    if subset.dtype != torch.bool and subset.is_floating_point():
        raise TypeError(f"{fn}: 'subset' must be a bool mask or integer node ids, "
                        f"got {subset.dtype}")
    return subset.view(-1)


def _mask_and_order(subset: Tensor, num_nodes: int) -> Tuple[Tensor, Tensor]:
    """``(node_mask [num_nodes], new_id [num_nodes])`` where ``new_id`` follows ``subset``."""
    if subset.dtype == torch.bool:
        if subset.numel() != num_nodes:
            raise ValueError(f"subgraph: the bool 'subset' has {subset.numel()} entries for "
                             f"{num_nodes} nodes")
        mask = subset
        order = subset.nonzero().view(-1)
    else:
        mask = index_to_mask(subset, size=num_nodes)
        order = subset.long()
    new_id = torch.full((num_nodes,), -1, dtype=torch.long, device=subset.device)
    new_id[order] = torch.arange(order.numel(), device=subset.device)
    return mask, new_id


def subgraph(subset: Subset, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
             relabel_nodes: bool = False, num_nodes: Optional[int] = None, *,
             return_edge_mask: bool = False):
    """The edges whose two ends both lie in ``subset`` (the induced subgraph).

    Args:
        subset (Tensor or list of int): node ids, or a bool mask over all nodes.
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor, optional): per-edge features, filtered alike. (default: ``None``)
        relabel_nodes (bool, optional): renumber the kept nodes ``0..len(subset)-1`` in
            the order of ``subset`` (ascending for a mask). (default: ``False``)
        num_nodes (int, optional): number of nodes; inferred from ``edge_index`` and
            ``subset`` when omitted. (default: ``None``)
        return_edge_mask (bool, optional): also return the bool mask of kept edges.
            (default: ``False``)

    Returns:
        ``(edge_index, edge_attr)`` or ``(edge_index, edge_attr, edge_mask)``.
    """
    check_edge_index("subgraph", edge_index)
    subset = _as_index_or_mask("subgraph", subset, edge_index.device)
    if subset.dtype == torch.bool:
        num_nodes = subset.numel() if num_nodes is None else num_nodes
    elif num_nodes is None:
        num_nodes = max(maybe_num_nodes(edge_index),
                        int(subset.max()) + 1 if subset.numel() else 0)
    if edge_index.numel() > 0 and int(edge_index.max()) >= num_nodes:
        raise ValueError(f"subgraph: 'edge_index' holds node {int(edge_index.max())} but "
                         f"'num_nodes' is {num_nodes}")
    node_mask, new_id = _mask_and_order(subset, num_nodes)
    edge_mask = node_mask[edge_index[0]] & node_mask[edge_index[1]]
    out = edge_index[:, edge_mask]
    if relabel_nodes:
        out = new_id[out].to(edge_index.dtype)
    attr = edge_attr[edge_mask] if edge_attr is not None else None
    return (out, attr, edge_mask) if return_edge_mask else (out, attr)


def bipartite_subgraph(subset: Tuple[Subset, Subset], edge_index: Tensor,
                       edge_attr: Optional[Tensor] = None, relabel_nodes: bool = False,
                       size: Optional[Tuple[int, int]] = None, *,
                       return_edge_mask: bool = False):
    """The edges from ``subset[0]`` (sources) to ``subset[1]`` (targets) of a bipartite graph.

    Args:
        subset ((Tensor, Tensor)): source and target node ids or bool masks.
        edge_index (Tensor): ``[2, E]`` connectivity, sources in row 0.
        edge_attr (Tensor, optional): per-edge features. (default: ``None``)
        relabel_nodes (bool, optional): renumber each side in subset order.
            (default: ``False``)
        size ((int, int), optional): ``(num_src, num_dst)``. (default: ``None``)
        return_edge_mask (bool, optional): also return the kept-edge mask.
            (default: ``False``)
    """
    check_edge_index("bipartite_subgraph", edge_index)
    if not isinstance(subset, (tuple, list)) or len(subset) != 2:
        raise TypeError("bipartite_subgraph: 'subset' must be a pair (source subset, "
                        "target subset)")
    src = _as_index_or_mask("bipartite_subgraph", subset[0], edge_index.device)
    dst = _as_index_or_mask("bipartite_subgraph", subset[1], edge_index.device)
    if size is None:
        def infer(part: Tensor, row: int) -> int:
            if part.dtype == torch.bool:
                return part.numel()
            from_edges = int(edge_index[row].max()) + 1 if edge_index.numel() else 0
            return max(from_edges, int(part.max()) + 1 if part.numel() else 0)
        size = (infer(src, 0), infer(dst, 1))
    src_mask, src_id = _mask_and_order(src, size[0])
    dst_mask, dst_id = _mask_and_order(dst, size[1])
    edge_mask = src_mask[edge_index[0]] & dst_mask[edge_index[1]]
    out = edge_index[:, edge_mask]
    if relabel_nodes:
        out = torch.stack([src_id[out[0]], dst_id[out[1]]]).to(edge_index.dtype)
    attr = edge_attr[edge_mask] if edge_attr is not None else None
    return (out, attr, edge_mask) if return_edge_mask else (out, attr)


def k_hop_subgraph(node_idx: Union[int, List[int], Tensor], num_hops: int,
                   edge_index: Tensor, relabel_nodes: bool = False,
                   num_nodes: Optional[int] = None, flow: str = "source_to_target",
                   directed: bool = False) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """The nodes within ``num_hops`` hops of ``node_idx`` and the edges among them.

    With ``flow="source_to_target"`` a hop goes from a node to the sources of its incoming
    edges (the nodes whose messages reach it); ``"target_to_source"`` follows outgoing
    edges. Each hop expands the whole frontier at once.

    Args:
        node_idx (int or list or Tensor): the seed node(s).
        num_hops (int): number of hops.
        edge_index (Tensor): ``[2, E]`` connectivity.
        relabel_nodes (bool, optional): renumber the returned edges into ``subset``
            positions. (default: ``False``)
        num_nodes (int, optional): number of nodes. (default: ``None``)
        flow (str, optional): ``"source_to_target"`` or ``"target_to_source"``.
            (default: ``"source_to_target"``)
        directed (bool, optional): keep only the edges traversed by the hops instead of
            every edge between reached nodes. (default: ``False``)

    Returns:
        ``(subset, edge_index, mapping, edge_mask)``: the reached nodes (sorted), the
        kept edges, the positions of the seeds in ``subset``, and the kept-edge mask.
    """
    check_edge_index("k_hop_subgraph", edge_index)
    if flow not in ("source_to_target", "target_to_source"):
        raise ValueError(f"k_hop_subgraph: 'flow' must be 'source_to_target' or "
                         f"'target_to_source', got {flow!r}")
    if num_hops < 0:
        raise ValueError(f"k_hop_subgraph: 'num_hops' must be >= 0, got {num_hops}")
    num_nodes = maybe_num_nodes(edge_index, num_nodes)
    seeds = torch.as_tensor(node_idx, device=edge_index.device).long().view(-1)
    if flow == "source_to_target":
        frontier_side, other_side = edge_index[1], edge_index[0]
    else:
        frontier_side, other_side = edge_index[0], edge_index[1]
    node_mask = torch.zeros(num_nodes, dtype=torch.bool, device=edge_index.device)
    traversed = torch.zeros(edge_index.size(1), dtype=torch.bool, device=edge_index.device)
    reached = [seeds]
    for _ in range(num_hops):
        node_mask.fill_(False)
        node_mask[reached[-1]] = True
        hop_edges = node_mask[frontier_side]
        traversed |= hop_edges
        reached.append(other_side[hop_edges])
    subset, inverse = torch.cat(reached).unique(return_inverse=True)
    mapping = inverse[:seeds.numel()]
    node_mask.fill_(False)
    node_mask[subset] = True
    if directed:
        edge_mask = traversed & node_mask[other_side]
    else:
        edge_mask = node_mask[edge_index[0]] & node_mask[edge_index[1]]
    out = edge_index[:, edge_mask]
    if relabel_nodes:
        new_id = torch.full((num_nodes,), -1, dtype=torch.long, device=edge_index.device)
        new_id[subset] = torch.arange(subset.numel(), device=edge_index.device)
        out = new_id[out].to(edge_index.dtype)
    return subset, out, mapping, edge_mask
