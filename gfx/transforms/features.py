"""Node features from constants and degrees."""
from __future__ import annotations

from typing import Any, List, Optional, Union

import torch

from gfx.data.hetero_data import HeteroData
from gfx.utils import degree, one_hot

from .base_transform import BaseTransform


def _append(store, column: torch.Tensor, cat: bool) -> None:
    x = store.get("x")
    if x is not None and cat:
        x = x.view(-1, 1) if x.dim() == 1 else x
        store.x = torch.cat([x, column.to(device=x.device, dtype=x.dtype)], dim=-1)
    else:
        store.x = column


class Constant(BaseTransform):
    """Append a constant feature ``value`` to every node (or make it the only one).

    Args:
        value (float, optional): the constant. (default: ``1.0``)
        cat (bool, optional): concatenate to an existing ``x`` instead of replacing it.
            (default: ``True``)
        node_types (str or list of str, optional): node types to change in a
            heterogeneous graph (all when omitted). (default: ``None``)
    """

    def __init__(self, value: float = 1.0, cat: bool = True,
                 node_types: Union[None, str, List[str]] = None):
        self.value = value
        self.cat = cat
        self.node_types = [node_types] if isinstance(node_types, str) else node_types

    def forward(self, data: Any) -> Any:
        for store in data.node_stores:
            if self.node_types is not None and isinstance(data, HeteroData) \
                    and store.node_type not in self.node_types:
                continue
            if store.num_nodes is None:
                raise ValueError("Constant: a node store has no known node count; give it "
                                 "'x' or 'num_nodes'")
            _append(store, torch.full((store.num_nodes, 1), float(self.value)), self.cat)
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(value={self.value})"


class OneHotDegree(BaseTransform):
    """Append the one-hot encoded node degree (out-degree, or in-degree) to ``x``.

    Args:
        max_degree (int): the largest degree encoded (width ``max_degree + 1``).
        in_degree (bool, optional): count incoming edges instead. (default: ``False``)
        cat (bool, optional): concatenate to an existing ``x``. (default: ``True``)
    """

    def __init__(self, max_degree: int, in_degree: bool = False, cat: bool = True):
        self.max_degree = max_degree
        self.in_degree = in_degree
        self.cat = cat

    def forward(self, data: Any) -> Any:
        if data.edge_index is None:
            raise ValueError("OneHotDegree: the graph has no 'edge_index'")
        index = data.edge_index[1 if self.in_degree else 0]
        deg = degree(index, data.num_nodes, dtype=torch.long)
        if deg.numel() and int(deg.max()) > self.max_degree:
            raise ValueError(f"OneHotDegree: a node has degree {int(deg.max())}, above "
                             f"'max_degree' {self.max_degree}")
        _append(data, one_hot(deg, self.max_degree + 1), self.cat)
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.max_degree})"


class ToDevice(BaseTransform):
    """Move the graph's tensors (of ``attrs`` if given) to ``device``.

    Args:
        device (torch.device or str or int): the target device.
        attrs (list of str, optional): only these attributes. (default: ``None``)
        non_blocking (bool, optional): asynchronous copies. (default: ``False``)
    """

    def __init__(self, device: Union[int, str, torch.device],
                 attrs: Optional[List[str]] = None, non_blocking: bool = False):
        self.device = device
        self.attrs = attrs or []
        self.non_blocking = non_blocking

    def forward(self, data: Any) -> Any:
        return data.to(self.device, *self.attrs, non_blocking=self.non_blocking)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.device})"


class TargetIndegree(BaseTransform):
    r"""Append to ``edge_attr`` the in-degree of each edge's target,
    :math:`\deg^{in}(v) / \max_w \deg^{in}(w)` (or divided by ``max_value``, or raw).

    Args:
        norm (bool, optional): divide by the maximum (or ``max_value``).
            (default: ``True``)
        max_value (float, optional): the divisor instead of the largest in-degree.
            (default: ``None``)
        cat (bool, optional): concatenate to an existing ``edge_attr``.
            (default: ``True``)
    """

    def __init__(self, norm: bool = True, max_value: Optional[float] = None, cat: bool = True):
        self.norm = norm
        self.max_value = max_value
        self.cat = cat

    def forward(self, data: Any) -> Any:
        if data.edge_index is None:
            raise ValueError("TargetIndegree: the graph has no 'edge_index'")
        col = data.edge_index[1]
        deg = degree(col, data.num_nodes)
        value = deg[col]
        if self.norm and value.numel():
            value = value / (self.max_value if self.max_value is not None else deg.max())
        value = value.view(-1, 1)
        attr = data.edge_attr
        if attr is not None and self.cat:
            attr = attr.view(-1, 1) if attr.dim() == 1 else attr
            data.edge_attr = torch.cat([attr, value.to(attr.dtype)], dim=-1)
        else:
            data.edge_attr = value
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(norm={self.norm}, max_value={self.max_value})"


class LocalDegreeProfile(BaseTransform):
    r"""Append to ``x`` each node's local degree profile (Cai and Wang, 2018):

    .. math::
        \bigl[\deg(v),\ \min_{w},\ \max_{w},\ \mathrm{mean}_{w},\ \mathrm{std}_{w}\bigr]
        \deg(w), \qquad w \in \{w : v \to w\}

    with out-degrees; nodes without out-edges get zeros for the statistics, and the
    standard deviation is the population one.
    """

    def forward(self, data: Any) -> Any:
        from gfx.ops import scatter
        if data.edge_index is None:
            raise ValueError("LocalDegreeProfile: the graph has no 'edge_index'")
        row, col = data.edge_index
        n = int(data.num_nodes)
        deg = degree(row, n)
        neighbour = deg[col]
        stats = [deg] + [scatter(neighbour, row, 0, n, reduce) for reduce in
                         ("min", "max", "mean")]
        mean_sq = scatter(neighbour * neighbour, row, 0, n, "mean")
        stats.append((mean_sq - stats[3] ** 2).clamp(min=0).sqrt())
        profile = torch.stack(stats, dim=-1)
        _append(data, profile, True)
        return data
