"""Graph Laplacians as weighted ``edge_index``."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from .loops import add_self_loops, remove_self_loops
from .num_nodes import check_edge_index, maybe_num_nodes


def get_laplacian(edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                  normalization: Optional[str] = None, dtype: Optional[torch.dtype] = None,
                  num_nodes: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    r"""The (normalised) Laplacian of a weighted graph, as edges and weights.

    Self-loops of the input are ignored. With :math:`D_{ii} = \sum_j A_{ij}` (out-degree
    over sources):

    1. ``None``: :math:`L = D - A`
    2. ``"sym"``: :math:`L = I - D^{-1/2} A D^{-1/2}`
    3. ``"rw"``: :math:`L = I - D^{-1} A`

    Nodes of degree zero get :math:`D^{-1} = 0`. The off-diagonal entries come first (in
    input order), then one diagonal entry per node.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_weight (Tensor, optional): ``[E]`` weights; ones when omitted.
            (default: ``None``)
        normalization (str, optional): ``None``, ``"sym"`` or ``"rw"``. (default: ``None``)
        dtype (torch.dtype, optional): dtype of the default weights. (default: ``None``)
        num_nodes (int, optional): number of nodes. (default: ``None``)
    """
    check_edge_index("get_laplacian", edge_index)
    if normalization not in (None, "sym", "rw"):
        raise ValueError(f"get_laplacian: 'normalization' must be None, 'sym' or 'rw', "
                         f"got {normalization!r}")
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device)
    elif edge_weight.dim() != 1 or edge_weight.numel() != edge_index.size(1):
        raise ValueError(f"get_laplacian: 'edge_weight' must be 1-D with one entry per edge "
                         f"({edge_index.size(1)}), got shape {tuple(edge_weight.shape)}")
    n = maybe_num_nodes(edge_index, num_nodes)
    edge_index, edge_weight = remove_self_loops(edge_index, edge_weight)
    row, col = edge_index
    deg = edge_weight.new_zeros(n).index_add_(0, row, edge_weight)
    if normalization is None:
        loop = torch.arange(n, dtype=edge_index.dtype, device=edge_index.device)
        return (torch.cat([edge_index, torch.stack([loop, loop])], dim=1),
                torch.cat([-edge_weight, deg]))
    if normalization == "sym":
        inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
        weight = -inv_sqrt[row] * edge_weight * inv_sqrt[col]
    else:
        inv = deg.pow(-1.0).masked_fill(deg == 0, 0.0)
        weight = -inv[row] * edge_weight
    return add_self_loops(edge_index, weight, fill_value=1.0, num_nodes=n)
