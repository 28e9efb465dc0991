"""Adding and removing self-loops."""
from __future__ import annotations

from typing import Any, Union

from torch import Tensor

from gfx.utils import add_remaining_self_loops, add_self_loops, remove_self_loops

from .base_transform import BaseTransform


def _loop_stores(data: Any):
    for store in data.edge_stores:
        if "edge_index" in store and not store.is_bipartite():
            yield store


class AddSelfLoops(BaseTransform):
    """Append one self-loop per node to every non-bipartite edge type.

    Only ``edge_index`` and the attribute ``attr`` grow (as in the reference API); other
    edge attributes keep their length.

    Args:
        attr (str, optional): the edge weight / feature attribute that gets entries for
            the new loops. (default: ``"edge_weight"``)
        fill_value (float or Tensor or str, optional): their value, or a reduction
            (``"add"``, ``"mean"``, ...) of each node's incoming values; ``None`` is 1.
            (default: ``None``)
    """

    def __init__(self, attr: str = "edge_weight",
                 fill_value: Union[None, float, Tensor, str] = None):
        self.attr = attr
        self.fill_value = fill_value

    def forward(self, data: Any) -> Any:
        for store in _loop_stores(data):
            store.edge_index, value = add_self_loops(
                store.edge_index, store.get(self.attr), self.fill_value,
                num_nodes=store.size(0))
            store[self.attr] = value
        return data


class RemoveSelfLoops(BaseTransform):
    """Drop every edge ``(i, i)`` of every non-bipartite edge type.

    Only ``edge_index`` and the attribute ``attr`` shrink (as in the reference API).

    Args:
        attr (str, optional): the edge attribute filtered alike.
            (default: ``"edge_weight"``)
    """

    def __init__(self, attr: str = "edge_weight"):
        self.attr = attr

    def forward(self, data: Any) -> Any:
        for store in _loop_stores(data):
            store.edge_index, value = remove_self_loops(store.edge_index, store.get(self.attr))
            store[self.attr] = value
        return data


class AddRemainingSelfLoops(BaseTransform):
    """Give every node of every non-bipartite edge type exactly one self-loop; a node
    that had one keeps its ``attr`` value, the others get ``fill_value``.

    Only ``edge_index`` and ``attr`` change (as in the reference API).

    Args:
        attr (str, optional): the edge weight / feature attribute. (default:
            ``"edge_weight"``)
        fill_value (float or Tensor or str, optional): the value of new loops, or a
            reduction of each node's incoming values. (default: ``1.0``)
    """

    def __init__(self, attr: str = "edge_weight",
                 fill_value: Union[None, float, Tensor, str] = 1.0):
        self.attr = attr
        self.fill_value = fill_value

    def forward(self, data: Any) -> Any:
        for store in _loop_stores(data):
            store.edge_index, value = add_remaining_self_loops(
                store.edge_index, store.get(self.attr), self.fill_value,
                num_nodes=store.size(0))
            store[self.attr] = value
        return data
