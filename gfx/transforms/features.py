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
