"""Catalogue entries for the message passing layers inside the molecular models of
issue 14 part B: GATEConv (AttentiveFP) and CFConv (SchNet)."""
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


EXAMPLES = {
    "GATEConv": Example(_gate_conv, _gate_inputs, _gate_resize),
    "CFConv": Example(_cf_conv, _cf_inputs, _cf_resize),
}

NOTES = {
    "GATEConv": "attention weights are an edge_updater softmax computed before propagate; "
                "the weighted sum lowers but the softmax and its edge MLP stay separate",
}
