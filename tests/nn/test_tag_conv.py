import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import TAGConv
from tests.graphs import dense_adjacency, edge_lists
from tests.nn.test_lg_conv import assert_lowers, normalized_adjacency


@given(edge_lists(), st.integers(0, 3), st.booleans(), st.booleans())
def test_tag_matches_dense_formula(graph, K, normalize, weighted):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = TAGConv(3, 2, K=K, normalize=normalize).double()
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    if normalize:
        a = normalized_adjacency(edge_index, n, w, self_loops=False)
    else:
        a = dense_adjacency(edge_index, n, n, w)
    expected = sum(torch.linalg.matrix_power(a, k) @ x @ conv.lins[k].weight.t()
                   for k in range(K + 1)) + conv.bias
    torch.testing.assert_close(conv(x, edge_index, w), expected)


def test_tag_lowers_and_state_dict():
    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    low = assert_lowers(TAGConv(3, 4, K=2), x, ei)
    assert "gcn_norm" in low.code
    assert_lowers(TAGConv(3, 4, K=2), x, ei, torch.rand(5), concrete_args={})
    conv = TAGConv(3, 4, K=1, bias=False)
    assert set(conv.state_dict()) == {"lins.0.weight", "lins.1.weight"}
    assert repr(conv) == "TAGConv(3, 4, K=1)"


def test_tag_errors():
    with pytest.raises(ValueError, match="TAGConv.*'K'"):
        TAGConv(3, 2, K=-1)
    conv = TAGConv(3, 2)
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="TAGConv.*'x'.*in_channels=3"):
        conv(torch.randn(3, 5), ei)
    with pytest.raises(ValueError, match="TAGConv.*edge_weight"):
        conv(torch.randn(3, 3), ei, torch.ones(2, 1))
    with pytest.raises(ValueError, match="TAGConv.*bipartite"):
        conv((torch.randn(3, 3), torch.randn(2, 3)), ei)
