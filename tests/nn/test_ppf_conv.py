"""PPFConv against a loop over edges with the point pair features computed here
(angles via arccos of the normalised dot product, independent of the layer's atan2)."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import PPFConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager
from tests.nn.test_point_conv import looped


def angle(a, b):
    na, nb = float(a.norm()), float(b.norm())
    if na == 0 or nb == 0:
        return 0.0
    return math.acos(max(-1.0, min(1.0, float(a @ b) / (na * nb))))


def features(p_i, p_j, n_i, n_j):
    d = p_j - p_i
    return torch.tensor([float(d.norm()), angle(n_i, d), angle(n_j, d), angle(n_i, n_j)],
                        dtype=torch.float64)


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12), st.booleans(), st.booleans())
def test_ppf_conv_matches_formula(graph, loops, with_x):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    local = torch.nn.Sequential(torch.nn.Linear(6 if with_x else 4, 5), torch.nn.ReLU())
    conv = PPFConv(local, None, add_self_loops=loops).double()
    x = torch.randn(n, 2, dtype=torch.float64) if with_x else None
    pos = torch.randn(n, 3, dtype=torch.float64)
    normal = torch.nn.functional.normalize(torch.randn(n, 3, dtype=torch.float64), dim=-1)
    ei = looped(edge_index, n) if loops else edge_index
    expected = torch.zeros(n, 5, dtype=torch.float64)
    with torch.no_grad():
        for i, nbrs in enumerate(neighbour_lists(ei, n)):
            if nbrs:
                h = [conv.local_nn(torch.cat(([x[j]] if with_x else []) +
                                             [features(pos[i], pos[j], normal[i], normal[j])]))
                     for _, j in nbrs]
                expected[i] = torch.stack(h).max(0).values
    torch.testing.assert_close(conv(x, pos, normal, edge_index), expected)


def test_ppf_conv_gradients_finite_on_self_loops():
    torch.manual_seed(0)
    conv = PPFConv(torch.nn.Linear(4, 3)).double()
    pos = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    normal = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    conv(None, pos, normal, torch.tensor([[0, 1, 2], [1, 2, 3]])).sum().backward()
    assert torch.isfinite(pos.grad).all() and torch.isfinite(normal.grad).all()


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = PPFConv(torch.nn.Linear(6, 4), torch.nn.Linear(4, 4))

    def forward(self, x, pos, normal, edge_index):
        return self.conv(x, pos, normal, edge_index)


@settings(max_examples=5, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12))
def test_ppf_conv_lowered_equals_eager(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Model().double(), torch.randn(n, 2).double(),
                                 torch.randn(n, 3).double(), torch.randn(n, 3).double(),
                                 edge_index)


def test_ppf_conv_repr_and_bad_input():
    assert str(PPFConv()) == "PPFConv(local_nn=None, global_nn=None)"
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="'pos' must be 3-D"):
        PPFConv()(None, torch.randn(3, 2), torch.randn(3, 2), ei)
    with pytest.raises(ValueError, match="'normal'"):
        PPFConv()(None, torch.randn(3, 3), None, ei)
