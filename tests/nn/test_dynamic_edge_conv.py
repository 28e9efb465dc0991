"""DynamicEdgeConv against brute-force k-NN and the EdgeConv formula, per example."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gfx
from gfx.nn import DynamicEdgeConv
from tests.nn.test_gat_conv import assert_lowered_matches_eager


def nearest(points, query, k, allowed):
    """Indices of the k nearest allowed points to ``query`` (ties: smaller index)."""
    d = sorted((float((points[j] - query).norm()), j) for j in allowed)
    return [j for _, j in d[:k]]


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4))


@st.composite
def clouds(draw):
    n_src = draw(st.integers(0, 9))
    n_dst = draw(st.integers(0, 9))
    b_src = sorted(draw(st.lists(st.integers(0, 2), min_size=n_src, max_size=n_src)))
    b_dst = sorted(draw(st.lists(st.integers(0, 2), min_size=n_dst, max_size=n_dst)))
    seed = draw(st.integers(0, 2 ** 16))
    return n_src, n_dst, torch.tensor(b_src, dtype=torch.long), \
        torch.tensor(b_dst, dtype=torch.long), seed


@settings(max_examples=10, deadline=None)
@given(clouds(), st.integers(1, 4), st.sampled_from(["max", "mean", "add"]), st.booleans())
def test_dynamic_edge_conv_matches_formula(cloud, k, aggr, bipartite):
    n_src, n_dst, b_src, b_dst, seed = cloud
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(0)
    conv = DynamicEdgeConv(mlp(), k=k, aggr=aggr).double()
    x_src = torch.randn(n_src, 3, generator=g, dtype=torch.float64)
    if bipartite:
        x_dst = torch.randn(n_dst, 3, generator=g, dtype=torch.float64)
        got = conv((x_src, x_dst), (b_src, b_dst))
    else:
        x_dst, b_dst = x_src, b_src
        got = conv(x_src, b_src)
    expected = torch.zeros(x_dst.shape[0], 4, dtype=torch.float64)
    reduce = {"max": lambda t: t.max(0).values, "mean": lambda t: t.mean(0),
              "add": lambda t: t.sum(0)}[aggr]
    with torch.no_grad():
        for i in range(x_dst.shape[0]):
            same = [j for j in range(n_src) if b_src[j] == b_dst[i]]
            nbrs = nearest(x_src, x_dst[i], k, same)
            if nbrs:
                h = torch.stack([conv.nn(torch.cat([x_dst[i], x_src[j] - x_dst[i]]))
                                 for j in nbrs])
                expected[i] = reduce(h)
    torch.testing.assert_close(got, expected)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = DynamicEdgeConv(mlp(), k=3)

    def forward(self, x, batch):
        return self.conv(x, batch)


def test_dynamic_edge_conv_lowers_around_knn():
    torch.manual_seed(0)
    x = torch.randn(9, 3, dtype=torch.float64)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1])
    assert_lowered_matches_eager(Model().double(), x, batch)
    low = gfx.lower(gfx.capture(Model()))
    assert any("dynamic_knn_graph" in str(n.target) for n in low.graph.nodes)


def test_dynamic_edge_conv_repr_and_bad_input():
    nn = torch.nn.Linear(6, 4)
    conv = DynamicEdgeConv(nn, k=3)
    assert str(conv) == f"DynamicEdgeConv(nn={nn}, k=3)"
    assert set(conv.state_dict()) == {"nn.weight", "nn.bias"}
    with pytest.raises(ValueError, match="'k'"):
        DynamicEdgeConv(nn, k=0)
    with pytest.raises(ValueError, match="static graphs"):
        conv(torch.randn(2, 3, 3))
    with pytest.raises(ValueError, match="2 \\* in_channels"):
        conv(torch.randn(5, 4))
