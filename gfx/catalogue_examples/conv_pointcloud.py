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


def _edge_features(dim):
    def inputs(g):
        return (torch.randn(N, F_IN, generator=g), torch.randint(0, N, (2, E), generator=g),
                torch.randn(E, dim, generator=g))
    return inputs


def _edge_net():
    return torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(),
                               torch.nn.Linear(16, F_IN * 8))


def _xe(g):
    return torch.randn(N, F_IN, generator=g), torch.randint(0, N, (2, E), generator=g)


def _points(*widths):
    """Node features, then one [N, w] tensor per width (positions, normals), then edges."""
    def inputs(g):
        return ((torch.randn(N, F_IN, generator=g),)
                + tuple(torch.randn(N, w, generator=g) for w in widths)
                + (torch.randint(0, N, (2, E), generator=g),))
    return inputs


def _seq(*sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def _cloud(g):
    """Features of N points in two examples (the layer builds its own k-NN graph)."""
    return (torch.randn(N, F_IN, generator=g),
            torch.tensor([0] * (N // 2) + [1] * (N - N // 2)))


def _cloud_resize(edge_index, n, g):
    return torch.randn(n, F_IN, generator=g), torch.zeros(n, dtype=torch.long)


def _xconv_inputs(g):
    return torch.randn(N, F_IN, generator=g), torch.randn(N, 3, generator=g)


def _xconv_resize(edge_index, n, g):
    n = n + 3  # at least kernel_size points
    return torch.randn(n, F_IN, generator=g), torch.randn(n, 3, generator=g)


EXAMPLES = {
    "SplineConv": _pseudo(2),
    "GMMConv": Example(lambda: _n("GMMConv")(F_IN, 8, dim=3, kernel_size=4), _edge_features(3)),
    "NNConv": Example(lambda: _n("NNConv")(F_IN, 8, _edge_net(), aggr="mean"),
                      _edge_features(3)),
    "CGConv": Example(lambda: _n("CGConv")(F_IN, dim=3), _edge_features(3)),
    "FeaStConv": Example(lambda: _n("FeaStConv")(F_IN, 8, heads=2), _xe),
    "PointNetConv": Example(lambda: _n("PointNetConv")(_seq(F_IN + 3, 16, 8), _seq(8, 8)),
                            _points(3)),
    "PPFConv": Example(lambda: _n("PPFConv")(_seq(F_IN + 4, 16, 8), _seq(8, 8)),
                       _points(3, 3)),
    "PointTransformerConv": Example(lambda: _n("PointTransformerConv")(F_IN, 8), _points(3)),
    "PointGNNConv": Example(lambda: _n("PointGNNConv")(_seq(F_IN, 3), _seq(F_IN + 3, F_IN),
                                                       _seq(F_IN, F_IN)), _points(3)),
    "DynamicEdgeConv": Example(lambda: _n("DynamicEdgeConv")(_seq(2 * F_IN, 16, 8), k=3),
                               _cloud, _cloud_resize),
    "GravNetConv": Example(lambda: _n("GravNetConv")(F_IN, 8, 3, 5, k=3), _cloud,
                           _cloud_resize),
    "XConv": Example(lambda: _n("XConv")(F_IN, 8, dim=3, kernel_size=3, hidden_channels=4),
                     _xconv_inputs, _xconv_resize),
}

NOTES = {
    "SplineConv": "per-edge kernel from the B-spline basis (a matmul per edge): not fused",
    "GMMConv": "per-edge Gaussian weights over K kernels: not fused",
    "NNConv": "per-edge matrix from an MLP on edge features: not fused",
    "CGConv": "gated MLP messages on [x_i, x_j, e]: not fused",
    "FeaStConv": "per-edge softmax over heads and a per-edge linear map: not fused",
    "PointNetConv": "message is an MLP on [x_j, p_j - p_i]: not fused",
    "PPFConv": "message is an MLP on point pair features: not fused",
    "PointTransformerConv": "per-channel softmax and weighted messages fuse (fused_attention)",
    "PointGNNConv": "message is an MLP on [p_j - p_i + h(x_i), x_j]: not fused",
    "DynamicEdgeConv": ("k-NN search is one call (dynamic_knn_graph); the MLP messages "
                        "around it lower, not fused"),
    "GravNetConv": ("k-NN search is one call (dynamic_knn_graph); mean and max aggregations "
                    "lower, not fused"),
    "XConv": ("not message passing: neighbourhood search is one call, the dense networks "
              "trace as torch ops"),
}
