import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import PANConv
from gfx.utils import edge_index_to_adj_t
from tests.graphs import dense_adjacency, edge_lists


def dense_met(conv, edge_index, n):
    """Z^-1/2 (sum_p (w_0 ... w_p) A^p) Z^-1/2 with Z the column sums."""
    a = dense_adjacency(edge_index, n, n)
    w = conv.weight.double()
    s = torch.zeros(n, n, dtype=torch.float64)
    for p in range(conv.filter_size + 1):
        s = s + torch.prod(w[:p + 1]) * torch.linalg.matrix_power(a, p)
    z = s.sum(0)
    zinv = torch.where(z > 0, z.pow(-0.5), torch.zeros_like(z))
    return zinv.view(-1, 1) * s * zinv.view(1, -1)


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14), st.integers(0, 3), st.integers(0, 2**16))
def test_matches_dense_met_matrix(graph, filter_size, seed):
    edge_index, n, _ = graph
    torch.manual_seed(seed)
    conv = PANConv(3, 2, filter_size).double()
    with torch.no_grad():
        conv.weight.uniform_(0.2, 1.0)
    x = torch.randn(n, 3, dtype=torch.float64)
    out, met = conv(x, edge_index)
    m = dense_met(conv, edge_index, n)
    torch.testing.assert_close(met.to_dense(), m)
    torch.testing.assert_close(out, m @ x @ conv.lin.weight.t() + conv.lin.bias)


def test_layout_repr_sparse_input_and_gradcheck():
    conv = PANConv(4, 3, filter_size=2).double()
    assert str(conv) == "PANConv(4, 3, filter_size=2)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "weight": (3,), "lin.weight": (3, 4), "lin.bias": (3,)}
    assert conv.weight.tolist() == [0.5, 0.5, 0.5]
    ei = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    adj = edge_index_to_adj_t(ei, size=(3, 3))
    torch.testing.assert_close(conv(x, adj)[0], conv(x, ei)[0])
    assert torch.autograd.gradcheck(lambda a: conv(a, ei)[0], (x,))
    # The path weights get the gradient of the dense formula.
    conv.weight.grad = None
    conv(x, ei)[0].sum().backward()
    got = conv.weight.grad.clone()
    conv.weight.grad = None
    (dense_met(conv, ei, 3) @ x @ conv.lin.weight.t()).sum().backward()
    torch.testing.assert_close(got, conv.weight.grad)


def test_pan_errors():
    with pytest.raises(ValueError, match="filter_size"):
        PANConv(2, 2, filter_size=-1)
    with pytest.raises(ValueError, match="flow"):
        PANConv(2, 2, 1, flow="target_to_source")
    with pytest.raises(ValueError, match="x"):
        PANConv(2, 2, 1)(torch.randn(3), torch.tensor([[0], [1]]))
