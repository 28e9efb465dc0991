import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import APPNP
from tests.graphs import dense_adjacency, edge_lists
from tests.nn.test_lg_conv import assert_lowers, normalized_adjacency


def dense_appnp(p, x, K, alpha):
    h = x
    for _ in range(K):
        x = (1 - alpha) * p @ x + alpha * h
    return x


@given(edge_lists(), st.integers(0, 4), st.sampled_from([0.0, 0.1, 0.5]),
       st.sampled_from(["gcn", "gcn_no_loops", "raw"]), st.booleans())
def test_appnp_matches_dense_formula(graph, K, alpha, mode, weighted):
    edge_index, n, _ = graph
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    if mode == "raw":
        layer, p = APPNP(K, alpha, normalize=False), dense_adjacency(edge_index, n, n, w)
    else:
        loops = mode == "gcn"
        layer = APPNP(K, alpha, add_self_loops=loops)
        p = normalized_adjacency(edge_index, n, w, loops)
    torch.testing.assert_close(layer(x, edge_index, w), dense_appnp(p, x, K, alpha))


@pytest.mark.parametrize("normalize", [True, False])
def test_appnp_edge_dropout_in_training_only(normalize):
    x = torch.randn(4, 3, dtype=torch.float64)
    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    layer = APPNP(3, 0.25, dropout=1.0, normalize=normalize)
    # every edge (and added loop) dropped: each step keeps only the teleport term
    torch.testing.assert_close(layer(x, ei), 0.25 * x)
    layer.eval()
    p = normalized_adjacency(ei, 4) if normalize else dense_adjacency(ei, 4, 4)
    torch.testing.assert_close(layer(x, ei), dense_appnp(p, x, 3, 0.25))
    half = APPNP(1, 0.0, dropout=0.5, normalize=False)
    torch.manual_seed(0)
    out = half(torch.ones(4, 1, dtype=torch.float64), ei)
    assert set(out.view(-1).tolist()) <= {0.0, 2.0}  # dropped, or kept and scaled by 2


def test_appnp_cached_and_lowers():
    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    low = assert_lowers(APPNP(3, 0.1), x, ei)
    assert "gcn_norm" in low.code
    layer = APPNP(2, 0.1, cached=True)
    first = layer(x, ei)
    torch.testing.assert_close(layer(x, ei[:, :2]), first)
    layer.reset_parameters()
    assert layer._cached_graph is None


def test_appnp_repr_and_errors():
    layer = APPNP(2, 0.1)
    assert repr(layer) == "APPNP(K=2, alpha=0.1)" and list(layer.state_dict()) == []
    with pytest.raises(ValueError, match="APPNP.*'K'"):
        APPNP(-1, 0.1)
    with pytest.raises(ValueError, match="APPNP.*dropout"):
        APPNP(2, 0.1, dropout=2.0)
    with pytest.raises(ValueError, match="APPNP.*edge_weight"):
        layer(torch.randn(3, 2), torch.tensor([[0], [1]]), torch.ones(1, 1))
    with pytest.raises(ValueError, match="APPNP.*bipartite"):
        layer((torch.randn(3, 2), torch.randn(2, 2)), torch.tensor([[0], [1]]))
