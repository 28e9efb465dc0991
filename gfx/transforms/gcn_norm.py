"""Precomputing GCN edge weights."""
from __future__ import annotations

from typing import Any

from .base_transform import BaseTransform


class GCNNorm(BaseTransform):
    r"""Store the GCN-normalised weights :math:`\hat{D}^{-1/2} \hat{A} \hat{D}^{-1/2}` in
    ``edge_weight`` (self-loops added to ``edge_index`` first).

    Args:
        add_self_loops (bool, optional): add a self-loop per node before normalising.
            (default: ``True``)
    """

    def __init__(self, add_self_loops: bool = True):
        self.add_self_loops = add_self_loops

    def forward(self, data: Any) -> Any:
        from gfx.nn.conv.gcn_conv import gcn_norm  # the layers load only when used
        for store in data.edge_stores:
            if "edge_index" not in store:
                continue
            store.edge_index, store.edge_weight = gcn_norm(
                store.edge_index, store.get("edge_weight"), store.size(0),
                add_self_loops=self.add_self_loops)
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(add_self_loops={self.add_self_loops})"
