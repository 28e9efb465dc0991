"""The GraphGym "splineconv" layer: registered, built from a LayerConfig, equal to the
gfx.nn.SplineConv it wraps (dim=1, kernel_size=2) on batch.x / batch.edge_attr."""
import torch

import gfx.graphgym as gg
from gfx.data import Batch, Data
from gfx.graphgym import register
from gfx.nn import SplineConv


def test_splineconv_layer_registered_and_wraps_spline_conv():
    layer_cls = register.layer_dict["splineconv"]
    torch.manual_seed(0)
    layer = layer_cls(gg.LayerConfig(dim_in=3, dim_out=4, has_bias=True))
    assert isinstance(layer.model, SplineConv)
    assert str(layer.model) == "SplineConv(3, 4, dim=1)"
    assert layer.model.kernel_size.tolist() == [2] and layer.model.degree == 1
    assert set(layer.state_dict()) == {"model.weight", "model.bias", "model.kernel_size",
                                       "model.is_open_spline", "model.lin.weight"}

    edge_index = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])
    x, pseudo = torch.randn(3, 3), torch.rand(4, 1)
    batch = Batch.from_data_list([Data(x=x, edge_index=edge_index, edge_attr=pseudo)])
    # linear spline over 2 control points: kernel (1 - u) W_0 + u W_1, mean over edges
    w = layer.model.weight.detach()
    expected = x @ layer.model.lin.weight.detach().t()
    for i in range(3):
        msgs = [x[j] @ ((1 - pseudo[e, 0]) * w[0] + pseudo[e, 0] * w[1])
                for e, (j, t) in enumerate(edge_index.t().tolist()) if t == i]
        if msgs:
            expected[i] += torch.stack(msgs).mean(0)
    out = layer(batch).x
    torch.testing.assert_close(out, expected)


def test_splineconv_layer_without_bias():
    layer = register.layer_dict["splineconv"](gg.LayerConfig(dim_in=2, dim_out=2,
                                                             has_bias=False))
    assert layer.model.bias is None
