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


def _xe_type(g):
    x, edge_index = _xe(g)
    return x, edge_index, torch.randint(0, 3, (E,), generator=g)


def _xe_type_attr(g):
    x, edge_index, edge_type = _xe_type(g)
    return x, edge_index, edge_type, torch.randn(E, 3, generator=g)


def _heat_inputs(edge_index, num_nodes, g):
    num_edges = edge_index.shape[1]
    return (torch.randn(num_nodes, F_IN, generator=g), edge_index,
            torch.randint(0, 2, (num_nodes,), generator=g),
            torch.randint(0, 3, (num_edges,), generator=g),
            torch.randn(num_edges, 3, generator=g))


def _mesh_inputs(edge_index, num_nodes, g):
    """Four neighbours for every mesh edge (``edge_index`` only sets the count)."""
    targets = torch.arange(num_nodes).repeat_interleave(4)
    sources = torch.randint(0, num_nodes, (4 * num_nodes,), generator=g)
    return torch.randn(num_nodes, F_IN, generator=g), torch.stack([sources, targets])


class FusedGATFlat(torch.nn.Module):
    """FusedGATConv with its CSR/CSC pairs passed as five flat tensors (the catalogue's
    inputs are tensors)."""

    def __init__(self):
        super().__init__()
        self.conv = _n("FusedGATConv")(F_IN, 4, heads=2, add_self_loops=False)

    def forward(self, x, rowptr, col, row, colptr, perm):
        return self.conv(x, (rowptr, col), (row, colptr), perm)


def _fused_inputs(edge_index, num_nodes, g):
    (rowptr, col), (row, colptr), perm = _n("FusedGATConv").to_graph_format(
        edge_index, (num_nodes, num_nodes))
    return torch.randn(num_nodes, F_IN, generator=g), rowptr, col, row, colptr, perm


EXAMPLES = {
    "AntiSymmetricConv": Example(lambda: _n("AntiSymmetricConv")(F_IN, num_iters=2), _xe),
    "DirGNNConv": Example(lambda: _n("DirGNNConv")(_n("GCNConv")(F_IN, 8)), _xe),
    "RGATConv": Example(lambda: _n("RGATConv")(F_IN, 4, num_relations=3, heads=2,
                                               edge_dim=3), _xe_type_attr),
    "GPSConv": Example(lambda: _n("GPSConv")(F_IN, _n("GCNConv")(F_IN, F_IN), heads=2), _xe),
    "GPSConv-performer": Example(lambda: _n("GPSConv")(
        F_IN, _n("GCNConv")(F_IN, F_IN), heads=2, attn_type="performer",
        attn_kwargs={"head_channels": 4}), _xe),
    "MeshCNNConv": Example(lambda: _n("MeshCNNConv")(F_IN, 8),
                           lambda g: _mesh_inputs(None, N, g), _mesh_inputs),
    "FusedGATConv": Example(FusedGATFlat,
                            lambda g: _fused_inputs(torch.randint(0, N, (2, E), generator=g),
                                                    N, g), _fused_inputs),
    "CuGraphSAGEConv": Example(lambda: _n("CuGraphSAGEConv")(F_IN, 8, project=True), _xe),
    "CuGraphGATConv": Example(lambda: _n("CuGraphGATConv")(F_IN, 4, heads=2), _xe),
    "CuGraphRGCNConv": Example(lambda: _n("CuGraphRGCNConv")(F_IN, 8, 3, num_bases=2),
                               _xe_type),
    "HEATConv": Example(lambda: _n("HEATConv")(F_IN, 4, 2, 3, 2, 3, 4, heads=2),
                        lambda g: _heat_inputs(torch.randint(0, N, (2, E), generator=g), N,
                                               g),
                        _heat_inputs),
}

NOTES = {
    "CuGraphRGCNConv": "the (target, relation) grouped mean is a plain scatter: not fused",
    "FusedGATConv": "the vendor's fused kernel is replaced by gfx's fused_attention",
    "MeshCNNConv": "messages combine four neighbours of a group (abs(a - c), a + c, ...): not fused",
    "HEATConv": "softmax and messages fuse (fused_attention); one scatter before them stays",
    "RGATConv": "per-edge relation weights (W_r x_j on edges): not fused",
}
