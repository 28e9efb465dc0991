"""GMMConv against a loop over edges written from the mixture-model formula."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import GMMConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager

REDUCE = {"mean": lambda t: t.mean(0), "add": lambda t: t.sum(0),
          "max": lambda t: t.max(0).values}


def gaussian(e, mu, sigma):
    return math.exp(sum(-0.5 * (float(a) - float(m)) ** 2 / (1e-15 + float(s) ** 2)
                        for a, m, s in zip(e, mu, sigma)))


def message(conv, x_j, e):
    F, M, K = conv.rel_in_channels, conv.out_channels, conv.kernel_size
    out = torch.zeros(M, dtype=x_j.dtype)
    for m in range(M):
        for k in range(K):
            for f in range(F):
                if conv.separate_gaussians:
                    w = gaussian(e, conv.mu[f, m, k], conv.sigma[f, m, k])
                    theta = conv.g[f, m * K + k]
                else:
                    w = gaussian(e, conv.mu[k], conv.sigma[k])
                    theta = conv.g[f, k * M + m]
                out[m] += w * theta * x_j[f]
    return out


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=5, max_edges=10, bipartite=True), st.booleans(),
       st.sampled_from(["mean", "add", "max"]), st.booleans())
def test_gmm_conv_matches_formula(graph, separate, aggr, root):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = GMMConv((3, 2), 4, dim=2, kernel_size=2, separate_gaussians=separate, aggr=aggr,
                   root_weight=root).double()
    torch.nn.init.normal_(conv.bias)
    with torch.no_grad():
        conv.sigma.mul_(4)  # wide enough that the weights are not all ~0
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    pseudo = torch.randn(edge_index.shape[1], 2, dtype=torch.float64)
    with torch.no_grad():
        expected = conv.bias.expand(n_dst, 4).clone()
        if root:
            expected += x_dst @ conv.root.weight.t()
        for i, nbrs in enumerate(neighbour_lists(edge_index, n_dst)):
            if nbrs:
                msgs = torch.stack([message(conv, x_src[j], pseudo[e]) for e, j in nbrs])
                expected[i] += REDUCE[aggr](msgs)
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, pseudo), expected)


class Model(torch.nn.Module):
    def __init__(self, separate):
        super().__init__()
        self.conv = GMMConv(3, 4, dim=2, kernel_size=3, separate_gaussians=separate)

    def forward(self, x, edge_index, pseudo):
        return self.conv(x, edge_index, pseudo)


@settings(max_examples=5, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12), st.booleans())
def test_gmm_conv_lowered_equals_eager(graph, separate):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Model(separate).double(), torch.randn(n, 3).double(),
                                 edge_index, torch.randn(edge_index.shape[1], 2).double())


def test_gmm_conv_repr_state_dict():
    conv = GMMConv((4, 3), 8, dim=2, kernel_size=3, separate_gaussians=True)
    assert str(conv) == "GMMConv((4, 3), 8, dim=2)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "g": (4, 24), "mu": (4, 8, 3, 2), "sigma": (4, 8, 3, 2), "bias": (8,),
        "root.weight": (8, 3)}
    conv = GMMConv(4, 8, dim=2, kernel_size=3, root_weight=False, bias=False)
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "g": (4, 24), "mu": (3, 2), "sigma": (3, 2)}


def test_gmm_conv_bad_input():
    with pytest.raises(ValueError, match="'kernel_size'"):
        GMMConv(2, 2, dim=1, kernel_size=0)
    conv = GMMConv(2, 3, dim=2, kernel_size=2)
    x, ei = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="'edge_attr'.*required"):
        conv(x, ei)
    with pytest.raises(ValueError, match="'edge_attr'"):
        conv(x, ei, torch.randn(2, 3))
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(3, 4), ei, torch.randn(2, 2))


@pytest.mark.parametrize("separate", [False, True])
def test_gmm_conv_lazy(separate):
    torch.manual_seed(0)
    lazy = GMMConv(-1, 4, dim=2, kernel_size=3, separate_gaussians=separate)
    assert lazy.is_lazy and str(lazy) == "GMMConv(-1, 4, dim=2)"
    fresh = GMMConv(-1, 4, dim=2, kernel_size=3, separate_gaussians=separate)
    assert set(fresh.state_dict()) == {"g", "mu", "sigma", "bias", "root.weight"}
    x, ei, e = torch.randn(5, 3), torch.tensor([[0, 1, 2], [1, 2, 3]]), torch.randn(3, 2)
    out = lazy(x, ei, e)
    assert not lazy.is_lazy and lazy.g.shape == (3, 12)
    assert lazy.mu.shape == ((3, 4, 3, 2) if separate else (3, 2))
    fresh.load_state_dict(lazy.state_dict())  # a lazy layer loads a sized checkpoint
    torch.testing.assert_close(fresh(x, ei, e), out)
    with pytest.raises(ValueError, match="'x'"):
        lazy(torch.randn(5, 2), ei, e)
