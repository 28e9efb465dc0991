"""XConv: neighbourhoods from brute force (per example, dilated), then the PointCNN
pipeline assembled point by point from the layer's networks (eval mode)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gfx
from gfx.nn import XConv


def randomise_batch_norms(module, g):
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g))
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


@settings(max_examples=8, deadline=None)
@given(st.integers(2, 3), st.integers(1, 2), st.lists(st.integers(0, 3), min_size=1,
       max_size=3), st.booleans(), st.integers(0, 2 ** 16))
def test_x_conv_matches_pointwise_pipeline(k, dilation, extra, with_x, seed):
    g = torch.Generator().manual_seed(seed)
    sizes = [k * dilation + e for e in extra]  # every example has enough points
    batch = torch.cat([torch.full((s,), b, dtype=torch.long) for b, s in enumerate(sizes)])
    n = batch.numel()
    torch.manual_seed(0)
    c_in = 4 if with_x else 0
    conv = XConv(c_in, 5, dim=2, kernel_size=k, hidden_channels=3,
                 dilation=dilation).double().eval()
    with torch.no_grad():
        randomise_batch_norms(conv, g)
    pos = torch.randn(n, 2, generator=g, dtype=torch.float64)
    x = torch.randn(n, 4, generator=g, dtype=torch.float64) if with_x else None
    expected = []
    with torch.no_grad():
        for i in range(n):
            same = [j for j in range(n) if batch[j] == batch[i]]
            order = sorted(same, key=lambda j: (float((pos[j] - pos[i]).norm()), j))
            nbrs = order[:k * dilation][::dilation]
            assert nbrs[0] == i
            offsets = pos[nbrs] - pos[i]  # [K, D]
            lifted = conv.mlp1(offsets)  # [1, K, C_delta]
            if with_x:
                lifted = torch.cat([lifted, x[nbrs].unsqueeze(0)], dim=-1)
            transform = conv.mlp2(offsets.reshape(1, -1))  # [1, K, K]
            expected.append(conv.conv(lifted.transpose(1, 2) @ transform)[0])
    torch.testing.assert_close(conv(x, pos, batch), torch.stack(expected))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = XConv(4, 6, dim=3, kernel_size=3, dilation=2)

    def forward(self, x, pos, batch):
        return self.conv(x, pos, batch)


def test_x_conv_compiles_around_the_neighbourhood_search():
    torch.manual_seed(0)
    model = Model().double().eval()
    x, pos = torch.randn(14, 4).double(), torch.randn(14, 3).double()
    batch = torch.tensor([0] * 6 + [1] * 8)
    low = gfx.lower(gfx.capture(model))
    assert any("neighbourhoods" in str(n.target) for n in low.graph.nodes)
    torch.testing.assert_close(low(x, pos, batch), model(x, pos, batch))


def test_x_conv_repr_state_dict_bad_input():
    conv = XConv(8, 16, dim=3, kernel_size=4)
    assert str(conv) == "XConv(8, 16)"
    keys = set(conv.state_dict())
    assert {"mlp1.0.weight", "mlp1.2.running_mean", "mlp1.3.weight", "mlp2.0.weight",
            "mlp2.4.weight", "mlp2.8.weight", "mlp2.9.running_var", "conv.0.weight",
            "conv.2.weight", "conv.2.bias"} <= keys
    assert conv.conv[0].weight.shape == (10 * 2, 1, 4)  # C_in + C_delta = 10, ceil(16/10)
    with pytest.raises(ValueError, match="'hidden_channels'"):
        XConv(3, 4, dim=3, kernel_size=2)
    with pytest.raises(ValueError, match="at least kernel_size"):
        conv(torch.randn(3, 8), torch.randn(3, 3))
    with pytest.raises(ValueError, match="'pos'"):
        conv(torch.randn(5, 8), torch.randn(5, 2))
    with pytest.raises(ValueError, match="'x'"):
        conv(None, torch.randn(5, 3))
