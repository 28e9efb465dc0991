"""Catalogue entries for the message passing layers inside the molecular models of
issue 14 part B: GATEConv (AttentiveFP), CFConv (SchNet), NeighborEmbedding and ViS_MP
(ViSNet)."""
from __future__ import annotations

import torch

from gfx.catalogue import E, F_IN, N, Example


def _gate_conv():
    from gfx.nn.models.attentive_fp import GATEConv
    return GATEConv(F_IN, F_IN, edge_dim=3)


def _gate_inputs(g):
    return (torch.randn(N, F_IN, generator=g), torch.randint(0, N, (2, E), generator=g),
            torch.randn(E, 3, generator=g))


def _gate_resize(edge_index, num_nodes, g):
    return (torch.randn(num_nodes, F_IN, generator=g), edge_index,
            torch.randn(edge_index.shape[1], 3, generator=g))


def _cf_conv():
    from gfx.nn.models.schnet import CFConv
    mlp = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 4))
    return CFConv(F_IN, 6, num_filters=4, nn=mlp, cutoff=2.0)


def _cf_resize(edge_index, num_nodes, g):
    num_edges = edge_index.shape[1]
    return (torch.randn(num_nodes, F_IN, generator=g), edge_index,
            torch.rand(num_edges, generator=g) * 2.0, torch.randn(num_edges, 5, generator=g))


def _cf_inputs(g):
    return _cf_resize(torch.randint(0, N, (2, E), generator=g), N, g)


def _neighbor_embedding():
    from gfx.nn.models.visnet import NeighborEmbedding
    return NeighborEmbedding(F_IN, 5, cutoff=2.0, max_z=10)


def _neighbor_resize(edge_index, num_nodes, g):
    num_edges = edge_index.shape[1]
    return (torch.randint(0, 10, (num_nodes,), generator=g),
            torch.randn(num_nodes, F_IN, generator=g), edge_index,
            torch.rand(num_edges, generator=g) * 2.0, torch.randn(num_edges, 5, generator=g))


def _neighbor_inputs(g):
    return _neighbor_resize(torch.randint(0, N, (2, E), generator=g), N, g)


class ViSMPScalars(torch.nn.Module):
    """One ViS_MP layer (not the last) with its three updates in one node-level tensor
    (the edge update summed at each edge's target), so the catalogue compares one
    output."""

    def __init__(self):
        super().__init__()
        from gfx.nn.models.visnet import ViS_MP
        self.layer = ViS_MP(2, F_IN, cutoff=2.0, vecnorm_type=None, trainable_vecnorm=False)

    def forward(self, x, vec, edge_index, r_ij, f_ij, d_ij):
        dx, dvec, df = self.layer(x, vec.view(-1, 3, x.shape[1]), edge_index, r_ij, f_ij,
                                  d_ij)
        df_at_target = torch.zeros_like(dx).index_add(0, edge_index[1], df)
        return torch.cat([dx, dvec.flatten(1), df_at_target], dim=1)


def _vis_resize(edge_index, num_nodes, g):
    num_edges = edge_index.shape[1]
    d = torch.nn.functional.normalize(torch.randn(num_edges, 3, generator=g), dim=1)
    return (torch.randn(num_nodes, F_IN, generator=g),
            torch.randn(num_nodes, 3 * F_IN, generator=g), edge_index,
            torch.rand(num_edges, generator=g) * 2.0, torch.randn(num_edges, F_IN, generator=g),
            d)


def _vis_inputs(g):
    return _vis_resize(torch.randint(0, N, (2, E), generator=g), N, g)


EXAMPLES = {
    "NeighborEmbedding": Example(_neighbor_embedding, _neighbor_inputs, _neighbor_resize),
    "ViS_MP": Example(ViSMPScalars, _vis_inputs, _vis_resize),
    "GATEConv": Example(_gate_conv, _gate_inputs, _gate_resize),
    "CFConv": Example(_cf_conv, _cf_inputs, _cf_resize),
}

NOTES = {
    "GATEConv": "attention weights are an edge_updater softmax computed before propagate; "
                "the weighted sum lowers but the softmax and its edge MLP stay separate",
}
NOTES["ViS_MP"] = ("messages are a (scalar, vector) pair with a custom two-output "
                   "aggregate, and the attention uses SiLU rather than a softmax; both "
                   "lower as plain scatters")
