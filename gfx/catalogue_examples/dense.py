"""Catalogue examples of issue 13 part C: the dense convolutions (see ``gfx.catalogue``).

Inputs are a batch of two padded graphs: ``x`` ``[2, N, F_IN]``, a dense adjacency
``[2, N, N]`` built from the example's edge index (graph 1 its reversal) and a mask
that pads graph 1 to half the nodes.  These layers are plain tensor algebra (matmul,
softmax); they hold no message-passing reduction for the fusion pass to fuse.
"""
from __future__ import annotations

import torch

from gfx.catalogue import E, F_IN, N, Example


def _n(name):
    import gfx.nn as gnn
    return getattr(gnn, name)


def _dense(edge_index, n, g):
    x = torch.randn(2, n, F_IN, generator=g)
    adj = torch.zeros(2, n, n)
    if edge_index.numel():
        adj[0].index_put_((edge_index[1], edge_index[0]), torch.ones(edge_index.shape[1]),
                          accumulate=True)
        adj[1].index_put_((edge_index[0], edge_index[1]), torch.ones(edge_index.shape[1]),
                          accumulate=True)
    mask = torch.ones(2, n, dtype=torch.bool)
    mask[1, (n + 1) // 2:] = False
    return x, adj, mask


def _inputs(g):
    return _dense(torch.randint(0, N, (2, E), generator=g), N, g)


def _gin():
    return _n("DenseGINConv")(torch.nn.Sequential(torch.nn.Linear(F_IN, 16),
                                                  torch.nn.ReLU(), torch.nn.Linear(16, 16)),
                              train_eps=True)


_NOTE = "dense tensor algebra (matmul over [B, N, N]): no message-passing reduction"

EXAMPLES = {
    "DenseGCNConv": Example(lambda: _n("DenseGCNConv")(F_IN, 16), _inputs, _dense),
    "DenseGINConv": Example(_gin, _inputs, _dense),
    "DenseGraphConv": Example(lambda: _n("DenseGraphConv")(F_IN, 16, aggr="mean"), _inputs,
                              _dense),
    "DenseSAGEConv": Example(lambda: _n("DenseSAGEConv")(F_IN, 16, normalize=True),
                             _inputs, _dense),
    "DenseGATConv": Example(lambda: _n("DenseGATConv")(F_IN, 8, heads=2), _inputs, _dense),
}
NOTES = {name: _NOTE for name in EXAMPLES}
