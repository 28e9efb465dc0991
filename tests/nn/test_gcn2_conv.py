import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import GCN2Conv
from tests.graphs import dense_adjacency, edge_lists
from tests.nn.test_lg_conv import assert_lowers, normalized_adjacency


@given(edge_lists(), st.sampled_from([(None, None), (0.5, 1), (1.5, 4)]), st.booleans(),
       st.sampled_from(["gcn", "gcn_no_loops", "raw"]), st.booleans())
def test_gcn2_matches_dense_formula(graph, theta_layer, shared, mode, weighted):
    edge_index, n, _ = graph
    theta, layer = theta_layer
    torch.manual_seed(0)
    conv = GCN2Conv(3, alpha=0.3, theta=theta, layer=layer, shared_weights=shared,
                    add_self_loops=mode == "gcn", normalize=mode != "raw").double()
    x = torch.randn(n, 3, dtype=torch.float64)
    x_0 = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    if mode == "raw":
        p = dense_adjacency(edge_index, n, n, w)
    else:
        p = normalized_adjacency(edge_index, n, w, mode == "gcn")
    beta = 1.0 if theta is None else math.log(theta / layer + 1)
    eye = torch.eye(3, dtype=torch.float64)
    smooth, initial = 0.7 * p @ x, 0.3 * x_0
    if shared:
        expected = (smooth + initial) @ ((1 - beta) * eye + beta * conv.weight1)
    else:
        expected = (smooth @ ((1 - beta) * eye + beta * conv.weight1)
                    + initial @ ((1 - beta) * eye + beta * conv.weight2))
    torch.testing.assert_close(conv(x, x_0, edge_index, w), expected)


def test_gcn2_uses_the_first_rows_of_a_longer_x0():
    torch.manual_seed(0)
    conv = GCN2Conv(3, alpha=0.5)
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    x_0 = torch.randn(6, 3)
    torch.testing.assert_close(conv(x, x_0, ei), conv(x, x_0[:4], ei))


def test_gcn2_lowers_cached_and_state_dict():
    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    low = assert_lowers(GCN2Conv(3, alpha=0.2, theta=0.5, layer=2, shared_weights=False),
                        x, torch.randn(5, 3), ei)
    assert "gcn_norm" in low.code
    cached = GCN2Conv(3, alpha=0.2, cached=True)
    first = cached(x, x, ei)
    torch.testing.assert_close(cached(x, x, ei[:, :1]), first)
    assert set(GCN2Conv(3, 0.1).state_dict()) == {"weight1"}
    assert set(GCN2Conv(3, 0.1, shared_weights=False).state_dict()) == {"weight1", "weight2"}
    assert repr(GCN2Conv(3, 0.1)) == "GCN2Conv(3, alpha=0.1, beta=1.0)"


def test_gcn2_errors():
    with pytest.raises(ValueError, match="GCN2Conv.*theta.*layer"):
        GCN2Conv(3, 0.1, theta=0.5)
    with pytest.raises(ValueError, match="GCN2Conv.*channels"):
        GCN2Conv(0, 0.1)
    conv = GCN2Conv(3, 0.1)
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="GCN2Conv.*'x'.*channels=3"):
        conv(torch.randn(3, 4), torch.randn(3, 4), ei)
    with pytest.raises(ValueError, match="GCN2Conv.*'x_0'"):
        conv(torch.randn(3, 3), torch.randn(2, 3), ei)
    with pytest.raises(ValueError, match="GCN2Conv.*edge_weight"):
        conv(torch.randn(3, 3), torch.randn(3, 3), ei, torch.ones(4))
    with pytest.raises(ValueError, match="GCN2Conv.*bipartite"):
        conv((torch.randn(3, 3), torch.randn(2, 3)), torch.randn(3, 3), ei)
