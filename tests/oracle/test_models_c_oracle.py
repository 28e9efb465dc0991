"""Oracle: ARLinkPredictor, GPSENodeEncoder, GPSE and LPFormer against the reference
library (same weights, same inputs)."""
import pytest
import torch
from hypothesis import given, settings

pytest.importorskip("torch_geometric")
import torch_geometric.nn.models as pyg  # noqa: E402

import gfx.nn.models as ours  # noqa: E402
from tests.oracle.common import compare, hypothesis_graph  # noqa: E402


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(out_channels=6, num_layers=3, attract_ratio=0.25),
    dict(out_channels=5, num_layers=1, attract_ratio=1.0),
    dict(num_layers=4, attract_ratio=0.0),
])
@settings(max_examples=5, deadline=None)
@given(graph=hypothesis_graph(channels=4))
def test_ar_link_predictor(kwargs, graph):
    a = ours.ARLinkPredictor(4, 8, **kwargs)
    b = pyg.ARLinkPredictor(4, 8, **kwargs)
    compare(a, b, graph["x"], graph["edge_index"])
    za, zr = a.encode(graph["x"])
    assert a.calculate_r_fraction(za, zr) == pytest.approx(b.calculate_r_fraction(za, zr),
                                                           nan_ok=True)
