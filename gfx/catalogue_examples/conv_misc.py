"""Catalogue examples of issue 12 part B: signed, hypergraph, WL, attention-style and
multi-hop convolutions (see ``gfx.catalogue``)."""
from __future__ import annotations

import torch

from gfx.catalogue import E, F_IN, N, Example


def _n(name):
    import gfx.nn as gnn
    return getattr(gnn, name)


def _graph(g):
    return torch.randn(N, F_IN, generator=g), torch.randint(0, N, (2, E), generator=g)


def _signed(g):
    x, ei = _graph(g)
    return x, ei, torch.randint(0, N, (2, E), generator=g)


def _signed_resize(edge_index, n, g):
    return torch.randn(n, F_IN, generator=g), edge_index, edge_index.flip(0)


def _hyper_attention(g):
    x, hi = _graph(g)  # hyperedge ids < N: N weights and feature rows cover them all
    return x, hi, torch.rand(N, generator=g) + 0.5, torch.randn(N, F_IN, generator=g)


def _hyper_attention_resize(edge_index, n, g):
    return (torch.randn(n, F_IN, generator=g), edge_index, torch.rand(n, generator=g) + 0.5,
            torch.randn(n, F_IN, generator=g))


def _fa(g):
    x, ei = _graph(g)
    return x, torch.randn(N, F_IN, generator=g), ei


def _pdn(g):
    x, ei = _graph(g)
    return x, ei, torch.randn(E, 3, generator=g)


def _history(g):
    return torch.randn(N, 3, 8, generator=g), torch.randint(0, N, (2, E), generator=g)


class FirstOutput(torch.nn.Module):
    """The node features of a layer that returns ``(out, extra)`` (``PANConv``)."""

    def __init__(self, layer: torch.nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x, edge_index):
        return self.layer(x, edge_index)[0]


EXAMPLES = {
    "SignedConv": Example(lambda: _n("SignedConv")(F_IN, 4, first_aggr=True), _signed,
                          _signed_resize),
    "HypergraphConv": Example(lambda: _n("HypergraphConv")(F_IN, 4), _graph),
    "HypergraphConv(attention)": Example(
        lambda: _n("HypergraphConv")(F_IN, 4, use_attention=True, heads=2),
        _hyper_attention, _hyper_attention_resize),
    "WLConvContinuous": Example(lambda: _n("WLConvContinuous")(), _graph),
    "FAConv": Example(lambda: _n("FAConv")(F_IN), _fa),
    "EGConv": Example(lambda: _n("EGConv")(F_IN, 8, num_heads=2, num_bases=2), _graph),
    "EGConv(multi)": Example(lambda: _n("EGConv")(F_IN, 8, ["sum", "max", "std"], num_heads=2,
                                                   num_bases=2), _graph),
    "PDNConv": Example(lambda: _n("PDNConv")(F_IN, 8, edge_dim=3, hidden_channels=4), _pdn),
    "MixHopConv": Example(lambda: _n("MixHopConv")(F_IN, 4, powers=[0, 1, 2]), _graph),
    "SuperGATConv": Example(lambda: _n("SuperGATConv")(F_IN, 4, heads=2), _graph),
    "DNAConv": Example(lambda: _n("DNAConv")(8, heads=2, groups=2), _history),
    "PANConv": Example(lambda: FirstOutput(_n("PANConv")(F_IN, 8, filter_size=2)), _graph),
}

NOTES = {
    "WLConvContinuous": "the weighted in-degree is a plain scatter; the mean fuses",
    "EGConv(multi)": "several aggregators in one overridden aggregate: not fused",
    "SuperGATConv": "the softmax runs inside message (on x_i and x_j): not fused",
    "DNAConv": "per-edge attention over each node's layer history (matmuls): not fused",
    "PANConv": "no oracle run (the reference needs torch-sparse); the column-sum scatter stays "
               "unfused",
}
