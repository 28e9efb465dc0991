"""GravNetConv against a loop: brute-force k-NN in the learned space, Gaussian distance
weights, mean and max of the weighted features, two output maps."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gfx
from gfx.nn import GravNetConv
from tests.nn.test_dynamic_edge_conv import clouds, nearest
from tests.nn.test_gat_conv import assert_lowered_matches_eager


@settings(max_examples=10, deadline=None)
@given(clouds(), st.integers(1, 4), st.booleans())
def test_gravnet_conv_matches_formula(cloud, k, bipartite):
    n_src, n_dst, b_src, b_dst, seed = cloud
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(0)
    conv = GravNetConv(3, 4, space_dimensions=2, propagate_dimensions=5, k=k).double()
    x_src = torch.randn(n_src, 3, generator=g, dtype=torch.float64)
    if bipartite:
        x_dst = torch.randn(n_dst, 3, generator=g, dtype=torch.float64)
        got = conv((x_src, x_dst), (b_src, b_dst))
    else:
        x_dst, b_dst = x_src, b_src
        got = conv(x_src, b_src)
    with torch.no_grad():
        s_src, s_dst = conv.lin_s(x_src), conv.lin_s(x_dst)
        h = conv.lin_h(x_src)
        agg = torch.zeros(x_dst.shape[0], 10, dtype=torch.float64)
        for i in range(x_dst.shape[0]):
            same = [j for j in range(n_src) if b_src[j] == b_dst[i]]
            nbrs = nearest(s_src, s_dst[i], k, same)
            if nbrs:
                m = torch.stack([h[j] * torch.exp(-10 * (s_src[j] - s_dst[i]).pow(2).sum())
                                 for j in nbrs])
                agg[i] = torch.cat([m.mean(0), m.max(0).values])
        expected = conv.lin_out1(x_dst) + conv.lin_out2(agg)
    torch.testing.assert_close(got, expected)


def test_gravnet_conv_gradients_reach_the_space_projection():
    torch.manual_seed(0)
    conv = GravNetConv(3, 4, 2, 5, k=3)
    conv(torch.randn(8, 3)).sum().backward()
    assert conv.lin_s.weight.grad is not None and conv.lin_s.weight.grad.abs().sum() > 0


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GravNetConv(3, 4, 2, 5, k=3)

    def forward(self, x, batch):
        return self.conv(x, batch)


def test_gravnet_conv_lowers_around_knn():
    torch.manual_seed(0)
    assert_lowered_matches_eager(Model().double(), torch.randn(9, 3, dtype=torch.float64),
                                 torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1]))
    low = gfx.lower(gfx.capture(Model()))
    assert any("dynamic_knn_graph" in str(n.target) for n in low.graph.nodes)


def test_gravnet_conv_repr_state_dict_bad_input():
    conv = GravNetConv(4, 8, 2, 5, 3)
    assert str(conv) == "GravNetConv(4, 8, k=3)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "lin_s.weight": (2, 4), "lin_s.bias": (2,), "lin_h.weight": (5, 4),
        "lin_h.bias": (5,), "lin_out1.weight": (8, 4), "lin_out2.weight": (8, 10),
        "lin_out2.bias": (8,)}
    with pytest.raises(ValueError, match="'k'"):
        GravNetConv(4, 8, 2, 5, 0)
    with pytest.raises(ValueError, match="'aggr'"):
        GravNetConv(4, 8, 2, 5, 3, aggr="add")
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(5, 3))
