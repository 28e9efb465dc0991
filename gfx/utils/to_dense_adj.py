"""Dense adjacency tensors from ``edge_index`` and back."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from .num_nodes import check_edge_index


def to_dense_adj(edge_index: Tensor, batch: Optional[Tensor] = None,
                 edge_attr: Optional[Tensor] = None, max_num_nodes: Optional[int] = None,
                 batch_size: Optional[int] = None) -> Tensor:
    r"""Batched dense adjacency ``A[b, i, j]`` = summed ``edge_attr`` of the edges ``i -> j``.

    .. math::
        A_{b,\,i,\,j} = \sum_{e = (u \to v),\ \mathrm{batch}_u = b} w_e\,
        [u - s_b = i]\,[v - s_b = j]

    where :math:`s_b` is the first node of graph :math:`b` and :math:`w_e = 1` without
    ``edge_attr``. Rows are sources (the reverse of the ``adj_t`` convention of
    ``propagate``).

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity with global node ids.
        batch (Tensor, optional): graph id of every node, sorted ascending; one graph of
            ``edge_index.max() + 1`` nodes when omitted. (default: ``None``)
        edge_attr (Tensor, optional): edge weights ``[E]`` or features ``[E, *]``.
            (default: ``None``)
        max_num_nodes (int, optional): size of the node dimensions; edges touching a node
            past it are dropped. (default: ``None``)
        batch_size (int, optional): number of graphs. (default: ``None``)

    Returns:
        ``[B, N_max, N_max]`` or ``[B, N_max, N_max, *]`` when ``edge_attr`` has features.
    """
    check_edge_index("to_dense_adj", edge_index)
    edge_index = edge_index.long()
    if batch is None:
        n = int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0
        batch = torch.zeros(n, dtype=torch.long, device=edge_index.device)
    batch = batch.long()
    if edge_index.numel() > 0 and int(edge_index.max()) >= batch.numel():
        raise ValueError(f"to_dense_adj: 'edge_index' holds node {int(edge_index.max())} but "
                         f"'batch' has only {batch.numel()} entries")
    if batch_size is None:
        batch_size = int(batch.max()) + 1 if batch.numel() > 0 else 1
    sizes = torch.zeros(batch_size, dtype=torch.long, device=batch.device).scatter_add_(
        0, batch, torch.ones_like(batch))
    starts = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])
    graph = batch[edge_index[0]]
    src = edge_index[0] - starts[graph]
    dst = edge_index[1] - starts[graph]
    if max_num_nodes is None:
        max_num_nodes = int(sizes.max()) if sizes.numel() > 0 else 0
    if edge_attr is None:
        edge_attr = torch.ones(edge_index.size(1), device=edge_index.device)
    elif edge_attr.size(0) != edge_index.size(1):
        raise ValueError(f"to_dense_adj: 'edge_attr' has {edge_attr.size(0)} rows for "
                         f"{edge_index.size(1)} edges")
    keep = (src < max_num_nodes) & (dst < max_num_nodes)
    flat = (graph[keep] * max_num_nodes + src[keep]) * max_num_nodes + dst[keep]
    feature_shape = tuple(edge_attr.shape[1:])
    out = edge_attr.new_zeros((batch_size * max_num_nodes * max_num_nodes,) + feature_shape)
    out.index_add_(0, flat, edge_attr[keep])
    return out.view((batch_size, max_num_nodes, max_num_nodes) + feature_shape)


def dense_to_sparse(adj: Tensor, mask: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """``edge_index`` and weights of the non-zeros of a dense (batched) adjacency.

    For a batch ``[B, N, N]`` the node ids are global: graph ``b``'s node ``i`` becomes
    ``b * N + i``, or, with ``mask``, its position among all nodes where ``mask`` is set.

    Args:
        adj (Tensor): ``[N, N]`` or ``[B, N, N]`` adjacency (rows are sources).
        mask (Tensor, optional): ``[B, N]`` bool, which nodes are real. (default: ``None``)

    Returns:
        ``(edge_index [2, E], edge_attr [E])`` in row-major order.
    """
    if adj.dim() not in (2, 3):
        raise ValueError(f"dense_to_sparse: 'adj' must be 2-D or 3-D, got {adj.dim()}-D")
    if adj.dim() == 2:
        if mask is not None:
            raise ValueError("dense_to_sparse: 'mask' needs a batched 3-D 'adj'")
        index = adj.nonzero(as_tuple=False).t()
        return index, adj[index[0], index[1]]
    if mask is not None:
        if mask.shape != adj.shape[:2]:
            raise ValueError(f"dense_to_sparse: 'mask' must have shape {tuple(adj.shape[:2])},"
                             f" got {tuple(mask.shape)}")
        pair_mask = mask.unsqueeze(2) & mask.unsqueeze(1)
        adj = adj * pair_mask.to(adj.dtype) if adj.dtype != torch.bool else adj & pair_mask
    b, i, j = adj.nonzero(as_tuple=True)
    value = adj[b, i, j]
    if mask is None:
        n = adj.size(1)
        return torch.stack([b * n + i, b * n + j]), value
    global_id = (mask.reshape(-1).long().cumsum(0) - 1).view_as(mask)
    return torch.stack([global_id[b, i], global_id[b, j]]), value
