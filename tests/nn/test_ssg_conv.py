import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import SSGConv
from tests.graphs import edge_lists
from tests.nn.test_lg_conv import assert_lowers, normalized_adjacency


@given(edge_lists(), st.integers(1, 3), st.sampled_from([0.0, 0.3, 1.0]), st.booleans(),
       st.booleans())
def test_ssg_matches_dense_formula(graph, K, alpha, loops, weighted):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = SSGConv(3, 2, alpha=alpha, K=K, add_self_loops=loops).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    t = normalized_adjacency(edge_index, n, w, loops)
    terms = [(1 - alpha) * torch.linalg.matrix_power(t, k) @ x + alpha * x
             for k in range(1, K + 1)]
    expected = (sum(terms) / K) @ conv.lin.weight.t() + conv.lin.bias
    torch.testing.assert_close(conv(x, edge_index, w), expected)


def test_ssg_cached_and_lowers():
    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    assert_lowers(SSGConv(3, 4, alpha=0.2, K=3), x, ei)
    conv = SSGConv(3, 4, alpha=0.2, K=2, cached=True)
    first = conv(x, ei)
    torch.testing.assert_close(conv(x, ei[:, :1]), first)


def test_ssg_state_dict_and_errors():
    conv = SSGConv(3, 2, alpha=0.1, K=2, bias=False)
    assert set(conv.state_dict()) == {"lin.weight"}
    assert repr(conv) == "SSGConv(3, 2, K=2, alpha=0.1)"
    with pytest.raises(ValueError, match="SSGConv.*'K'"):
        SSGConv(3, 2, alpha=0.1, K=0)
    with pytest.raises(ValueError, match="SSGConv.*alpha"):
        SSGConv(3, 2, alpha=1.5)
    with pytest.raises(ValueError, match="SSGConv.*'x'.*in_channels=3"):
        conv(torch.randn(3, 5), torch.tensor([[0], [1]]))
