import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import MixHopConv
from tests.graphs import dense_adjacency, edge_lists


def dense_norm(edge_index, n, weight=None, loops=True):
    """D^-1/2 (A + I) D^-1/2 with an existing loop keeping its (last) weight."""
    a = dense_adjacency(edge_index, n, n, weight)
    if loops:
        diag = torch.ones(n, dtype=torch.float64)
        for e, (j, i) in enumerate(edge_index.t().tolist()):
            if i == j:
                diag[i] = 1.0 if weight is None else float(weight[e])
        a.fill_diagonal_(0.0)
        a = a + torch.diag(diag)
    deg = a.sum(1)
    dinv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
    return dinv.view(-1, 1) * a * dinv.view(1, -1)


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14), st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True),
       st.booleans(), st.booleans(), st.integers(0, 2**16))
def test_matches_matrix_powers(graph, powers, loops, weighted, seed):
    edge_index, n, _ = graph
    torch.manual_seed(seed)
    conv = MixHopConv(3, 2, powers, add_self_loops=loops).double()
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    s = dense_norm(edge_index, n, w, loops)
    expected = torch.cat([torch.linalg.matrix_power(s, p) @ x @ conv.lins[p].weight.t()
                          for p in powers], -1) + conv.bias
    torch.testing.assert_close(conv(x, edge_index, w), expected)


def test_layout_repr_defaults_and_gradcheck():
    conv = MixHopConv(4, 3, powers=[0, 2]).double()
    assert str(conv) == "MixHopConv(4, 3, powers=[0, 2])"
    assert str(MixHopConv(4, 3)) == "MixHopConv(4, 3, powers=[0, 1, 2])"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "lins.0.weight": (3, 4), "lins.2.weight": (3, 4), "bias": (6,)}
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: conv(a, ei), (x,))


def test_mixhop_errors():
    with pytest.raises(ValueError, match="powers"):
        MixHopConv(2, 2, powers=[])
    with pytest.raises(ValueError, match="powers"):
        MixHopConv(2, 2, powers=[-1, 1])
    with pytest.raises(ValueError, match="edge_weight"):
        MixHopConv(2, 2)(torch.randn(3, 2), torch.tensor([[0], [1]]), torch.ones(2))
