"""Keeping only the largest connected component(s)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gfx.utils import to_scipy_sparse_matrix

from .base_transform import BaseTransform


class LargestConnectedComponents(BaseTransform):
    """Keep the subgraph induced by the ``num_components`` largest connected components
    (weakly connected: edge directions ignored; strongly: directed cycles), via scipy's
    ``connected_components``. Among equally large components the one holding the
    smaller node ids wins.

    Args:
        num_components (int, optional): how many components to keep. (default: ``1``)
        connection (str, optional): ``"weak"`` or ``"strong"``. (default: ``"weak"``)
    """

    def __init__(self, num_components: int = 1, connection: str = "weak"):
        if connection not in ("weak", "strong"):
            raise ValueError(f"LargestConnectedComponents: 'connection' must be 'weak' or "
                             f"'strong', got {connection!r}")
        self.num_components = num_components
        self.connection = connection

    def forward(self, data: Any) -> Any:
        import scipy.sparse.csgraph
        if data.edge_index is None:
            raise ValueError("LargestConnectedComponents: the graph has no 'edge_index'")
        n = int(data.num_nodes)
        adj = to_scipy_sparse_matrix(data.edge_index.cpu(), num_nodes=n)
        count, label = scipy.sparse.csgraph.connected_components(adj,
                                                                 connection=self.connection)
        if count <= self.num_components:
            return data
        sizes = np.bincount(label, minlength=count)
        keep = np.argsort(-sizes, kind="stable")[:self.num_components]
        mask = torch.from_numpy(np.isin(label, keep))
        return data.subgraph(mask.to(data.edge_index.device))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_components})"
