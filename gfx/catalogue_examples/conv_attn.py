"""Catalogue entries for AntiSymmetricConv, DirGNNConv, RGATConv, HEATConv, GPSConv,
MeshCNNConv, FusedGATConv and the CuGraph* layers."""
from __future__ import annotations

import torch

from gfx.catalogue import E, F_IN, N, Example


def _n(name):
    import gfx.nn as gnn
    return getattr(gnn, name)


def _xe(g):
    return torch.randn(N, F_IN, generator=g), torch.randint(0, N, (2, E), generator=g)


EXAMPLES = {
    "AntiSymmetricConv": Example(lambda: _n("AntiSymmetricConv")(F_IN, num_iters=2), _xe),
    "DirGNNConv": Example(lambda: _n("DirGNNConv")(_n("GCNConv")(F_IN, 8)), _xe),
}

NOTES = {}
