"""How often edges join nodes of the same class."""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor

from .num_nodes import check_edge_index

METHODS = ("edge", "node", "edge_insensitive")


def homophily(edge_index: Tensor, y: Tensor, batch: Optional[Tensor] = None,
              method: str = "edge") -> Union[float, Tensor]:
    r"""The homophily of a labelled graph (per graph of ``batch`` when given).

    * ``"edge"``: the share of edges whose ends have the same label,
      :math:`\frac{|\{(u,v) : y_u = y_v\}|}{|\mathcal{E}|}`;
    * ``"node"``: for every node the share of its incoming edges that come from its own
      class, averaged over the nodes;
    * ``"edge_insensitive"``: the class-insensitive measure of Lim et al. (2021),
      :math:`\frac{1}{C-1} \sum_k \max\bigl(0, h_k - \frac{|C_k|}{N}\bigr)` with
      :math:`h_k` the share of same-class edges among the edges entering class
      :math:`k`.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        y (Tensor): class of every node.
        batch (Tensor, optional): graph of every node. (default: ``None``)
        method (str, optional): ``"edge"``, ``"node"`` or ``"edge_insensitive"``.
            (default: ``"edge"``)

    Returns:
        a float, or a tensor with one value per graph when ``batch`` is given. A graph
        without edges has homophily 0 (the reference gives NaN for ``"edge"``).
    """
    check_edge_index("homophily", edge_index)
    if method not in METHODS:
        raise ValueError(f"homophily: 'method' must be one of {METHODS}, got {method!r}")
    y = y.view(-1).long()
    row, col = edge_index[0].long(), edge_index[1].long()
    same = (y[row] == y[col]).float()
    num_graphs = 1 if batch is None else int(batch.max()) + 1 if batch.numel() else 0
    graph = torch.zeros_like(y) if batch is None else batch.long()
    if method == "edge":
        total = torch.zeros(num_graphs).index_add_(0, graph[col], torch.ones_like(same))
        hits = torch.zeros(num_graphs).index_add_(0, graph[col], same)
        out = hits / total.clamp(min=1)
    elif method == "node":
        n = y.numel()
        per_node = torch.zeros(n).index_add_(0, col, same)
        degree = torch.zeros(n).index_add_(0, col, torch.ones_like(same))
        per_node = per_node / degree.clamp(min=1)
        out = torch.zeros(num_graphs).index_add_(0, graph, per_node) / torch.zeros(
            num_graphs).index_add_(0, graph, torch.ones(n))
    else:
        out = torch.stack([_class_insensitive(y[graph == g], row, col, y, graph, g)
                           for g in range(num_graphs)]) if num_graphs else torch.zeros(0)
    return float(out[0]) if batch is None else out


def _class_insensitive(labels: Tensor, row: Tensor, col: Tensor, y: Tensor, graph: Tensor,
                       g: int) -> Tensor:
    classes = int(y.max()) + 1 if y.numel() else 0
    if classes < 2:
        return torch.tensor(0.0)
    inside = graph[col] == g
    target_class = y[col[inside]]
    same = (y[row[inside]] == target_class).float()
    entering = torch.zeros(classes).index_add_(0, target_class, torch.ones_like(same))
    same_count = torch.zeros(classes).index_add_(0, target_class, same)
    h = same_count / entering.clamp(min=1)
    share = torch.bincount(labels, minlength=classes).float() / max(labels.numel(), 1)
    return (h - share).clamp(min=0).sum() / (classes - 1)
