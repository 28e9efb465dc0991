"""Pooling layers against the reference library (black box: same weights, same inputs)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

pyg = pytest.importorskip("torch_geometric")
import torch_geometric.nn as ref  # noqa: E402

import gfx.nn  # noqa: E402
from tests.oracle.common import compare, hypothesis_graph  # noqa: E402


@st.composite
def batched(draw, channels=4, edge_dim=0):
    g = draw(hypothesis_graph(channels=channels, max_nodes=9, max_edges=16,
                              edge_dim=edge_dim))
    n = g["x"].shape[0]
    cut = draw(st.integers(0, n))
    g["batch"] = (torch.arange(n) >= cut).long()
    return g


TOPK_ARGS = [dict(), dict(ratio=2), dict(ratio=0.3, multiplier=2.0), dict(min_score=0.2),
             dict(nonlinearity="sigmoid")]


@pytest.mark.parametrize("kw", TOPK_ARGS)
@settings(max_examples=8, deadline=None)
@given(g=batched(edge_dim=2))
def test_topk_pooling(kw, g):
    ours, theirs = gfx.nn.TopKPooling(4, **kw), ref.TopKPooling(4, **kw)
    compare(ours, theirs, g["x"], g["edge_index"], g["edge_attr"], g["batch"])


@settings(max_examples=8, deadline=None)
@given(g=batched())
def test_topk_pooling_attn(g):
    attn = torch.randn(g["x"].shape[0], 2)
    ours, theirs = gfx.nn.TopKPooling(2), ref.TopKPooling(2)
    compare(ours, theirs, g["x"], g["edge_index"], None, g["batch"], attn)


@pytest.mark.parametrize("kw", [dict(), dict(min_score=0.3), dict(ratio=3, multiplier=0.5)])
@settings(max_examples=8, deadline=None)
@given(g=batched(edge_dim=2))
def test_sag_pooling(kw, g):
    ours, theirs = gfx.nn.SAGPooling(4, **kw), ref.SAGPooling(4, **kw)
    with torch.no_grad():   # both signs of the one-channel projection
        ours.select.weight.mul_(-1 if g["edge_index"].shape[1] % 2 else 1)
    compare(ours, theirs, g["x"], g["edge_index"], g["edge_attr"], g["batch"])


@settings(max_examples=6, deadline=None)
@given(g=batched())
def test_sag_pooling_gcn(g):
    ours = gfx.nn.SAGPooling(4, GNN=gfx.nn.GCNConv)
    theirs = ref.SAGPooling(4, GNN=ref.GCNConv)
    compare(ours, theirs, g["x"], g["edge_index"], None, g["batch"])
