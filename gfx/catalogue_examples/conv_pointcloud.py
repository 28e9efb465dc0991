"""Catalogue entries of the point-cloud and edge-conditioned convolutions (SplineConv,
GMMConv, NNConv, CGConv, FeaStConv, PointNetConv, PPFConv, PointTransformerConv,
PointGNNConv, DynamicEdgeConv, GravNetConv, XConv)."""
from __future__ import annotations

import torch

from gfx.catalogue import E, F_IN, N, Example


def _n(name):
    import gfx.nn as gnn
    return getattr(gnn, name)


def _pseudo(dim):
    """Node features, edge_index and pseudo-coordinates in [0, 1] (SplineConv's domain)."""
    def inputs(g):
        return (torch.randn(N, F_IN, generator=g), torch.randint(0, N, (2, E), generator=g),
                torch.rand(E, dim, generator=g))

    def resize(edge_index, n, g):
        return (torch.randn(n, F_IN, generator=g), edge_index,
                torch.rand(edge_index.shape[1], dim, generator=g))
    return Example(lambda: _n("SplineConv")(F_IN, 8, dim=dim, kernel_size=3, degree=2),
                   inputs, resize)


EXAMPLES = {
    "SplineConv": _pseudo(2),
}

NOTES = {
    "SplineConv": "per-edge kernel from the B-spline basis (a matmul per edge): not fused",
}
