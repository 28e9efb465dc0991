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


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(dim_in=5, expand_x=True),
    dict(norm_type=None, model_type="linear"),
    dict(n_layers=3, dropout_be=0.0),
    dict(n_layers=1),
])
@pytest.mark.parametrize("train", [False, True])
def test_gpse_node_encoder(kwargs, train):
    torch.manual_seed(0)
    a = ours.GPSENodeEncoder(16, 6, 4, **kwargs)
    b = pyg.GPSENodeEncoder(16, 6, 4, **kwargs)
    x, pe = torch.randn(7, 5 if kwargs.get("expand_x") else 12), torch.randn(7, 6)
    if train:   # same seed, same dropout masks: the dropouts sit at the same places
        a.train(), b.train()
        b.load_state_dict(a.state_dict())
        torch.manual_seed(1)
        out_a = a(x, pe)
        torch.manual_seed(1)
        out_b = b(x, pe)
        torch.testing.assert_close(out_a, out_b)
        torch.testing.assert_close(a.raw_norm.running_var if a.raw_norm is not None
                                   else pe, b.raw_norm.running_var
                                   if b.raw_norm is not None else pe)
    else:
        compare(a.eval(), b.eval(), x, pe)
