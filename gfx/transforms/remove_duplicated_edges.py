"""Merging duplicate edges."""
from __future__ import annotations

from typing import Any, List, Sequence, Union

from gfx.utils import coalesce

from .base_transform import BaseTransform


class RemoveDuplicatedEdges(BaseTransform):
    """Sort the edges and merge duplicates, combining the attributes in ``key`` with
    ``reduce`` (other edge attributes are left as they are).

    Args:
        key (str or list of str, optional): edge attributes to merge.
            (default: ``["edge_attr", "edge_weight"]``)
        reduce (str, optional): ``"add"``, ``"mean"``, ``"min"``, ``"max"`` or ``"mul"``.
            (default: ``"add"``)
    """

    def __init__(self, key: Union[str, Sequence[str]] = ("edge_attr", "edge_weight"),
                 reduce: str = "add"):
        self.keys: List[str] = [key] if isinstance(key, str) else list(key)
        self.reduce = reduce

    def forward(self, data: Any) -> Any:
        for store in data.edge_stores:
            if "edge_index" not in store:
                continue
            keys = [k for k in self.keys if k in store]
            size = store.size()
            store.edge_index, values = coalesce(store.edge_index, [store[k] for k in keys],
                                                max(size[0] or 0, size[1] or 0) or None,
                                                self.reduce)
            for key, value in zip(keys, values):
                store[key] = value
        return data
