import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx
from gfx.nn import SGConv
from tests.graphs import edge_lists
from tests.nn.test_lg_conv import assert_lowers, normalized_adjacency


@given(edge_lists(), st.integers(0, 3), st.booleans(), st.booleans())
def test_sg_matches_dense_formula(graph, K, loops, weighted):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = SGConv(3, 2, K=K, add_self_loops=loops).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    s = torch.linalg.matrix_power(normalized_adjacency(edge_index, n, w, loops), K)
    expected = s @ x @ conv.lin.weight.t() + conv.lin.bias
    torch.testing.assert_close(conv(x, edge_index, w), expected)


def test_sg_cached_reuses_the_first_propagation():
    torch.manual_seed(0)
    conv = SGConv(2, 2, K=2, cached=True)
    x = torch.randn(3, 2, requires_grad=True)
    first = conv(x, torch.tensor([[0, 1], [1, 2]]))
    first.sum().backward()  # the first call is differentiable
    assert x.grad is not None
    again = conv(torch.randn(3, 2), torch.tensor([[2], [0]]))  # inputs ignored
    torch.testing.assert_close(first, again)
    again.sum().backward()  # and later calls too (the cache is detached)
    conv.reset_parameters()
    assert conv._cached_x is None


def test_sg_lowers():
    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    low = assert_lowers(SGConv(3, 4, K=2), x, ei)
    assert "gcn_norm" in low.code
    cached = SGConv(3, 4, K=2, cached=True)
    gfx.lower(gfx.capture(cached))
    assert cached._cached_x is None  # tracing does not fill the cache with proxies


def test_sg_state_dict_and_errors():
    assert set(SGConv(3, 2).state_dict()) == {"lin.weight", "lin.bias"}
    assert repr(SGConv(3, 2, K=2)) == "SGConv(3, 2, K=2)"
    with pytest.raises(ValueError, match="SGConv.*'K'"):
        SGConv(3, 2, K=-1)
    conv = SGConv(3, 2)
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="SGConv.*'x'.*in_channels=3"):
        conv(torch.randn(3, 5), ei)
    with pytest.raises(ValueError, match="SGConv.*edge_weight"):
        conv(torch.randn(3, 3), ei, torch.ones(3))
    with pytest.raises(ValueError, match="SGConv.*bipartite"):
        conv((torch.randn(3, 3), torch.randn(2, 3)), ei)
