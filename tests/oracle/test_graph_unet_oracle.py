"""GraphUNet against the reference library (same weights, same graphs)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

pyg = pytest.importorskip("torch_geometric.nn")

import gfx.nn as gnn  # noqa: E402
from tests.oracle.common import compare, hypothesis_graph  # noqa: E402


@settings(max_examples=10, deadline=None)
@given(hypothesis_graph(channels=3, max_nodes=10), st.integers(1, 3), st.booleans())
def test_graph_unet(graph, depth, sum_res):
    torch.manual_seed(0)
    ours = gnn.GraphUNet(3, 4, 2, depth=depth, pool_ratios=0.6, sum_res=sum_res)
    theirs = pyg.GraphUNet(3, 4, 2, depth=depth, pool_ratios=0.6, sum_res=sum_res)
    compare(ours, theirs, graph["x"], graph["edge_index"])
