"""Making every edge type undirected."""
from __future__ import annotations

from typing import Any

from gfx.data.hetero_data import HeteroData
from gfx.utils import to_undirected

from .base_transform import BaseTransform


class ToUndirected(BaseTransform):
    r"""Add the reverse of every edge: :math:`(i, j) \in \mathcal{E} \Rightarrow
    (j, i) \in \mathcal{E}`, merging duplicates.

    Edge attributes follow their edges; an edge and its reverse that both existed have
    their attributes combined by ``reduce``. In a heterogeneous graph an edge type
    between two node types (or any edge type when ``merge=False``) gets a reverse type
    ``(dst, "rev_" + rel, src)`` holding the flipped edges instead.

    Args:
        reduce (str, optional): ``"add"``, ``"mean"``, ``"min"``, ``"max"`` or ``"mul"``
            for merged attributes. (default: ``"add"``)
        merge (bool, optional): for a type from a node type to itself, merge the reverse
            edges into it rather than add a reverse type. (default: ``True``)
    """

    def __init__(self, reduce: str = "add", merge: bool = True):
        self.reduce = reduce
        self.merge = merge

    def forward(self, data: Any) -> Any:
        for store in list(data.edge_stores):
            if "edge_index" not in store:
                continue
            keys = [k for k in store.edge_attrs() if k != "edge_index"]
            if isinstance(data, HeteroData) and (store.is_bipartite() or not self.merge):
                src, rel, dst = store.edge_type
                reverse = data[dst, f"rev_{rel}", src]
                reverse.edge_index = store.edge_index.flip(0)
                for key in keys:
                    reverse[key] = store[key]
                continue
            num_nodes = store.size(0) if isinstance(data, HeteroData) else data.num_nodes
            store.edge_index, values = to_undirected(
                store.edge_index, [store[k] for k in keys], num_nodes, self.reduce)
            for key, value in zip(keys, values):
                store[key] = value
        return data
