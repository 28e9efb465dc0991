import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import ARMAConv
from tests.graphs import edge_lists
from tests.nn.test_lg_conv import assert_lowers, normalized_adjacency


def dense_arma(conv, x, lap, act=torch.relu):
    stacks = []
    for k in range(conv.num_stacks):
        h = x
        for t in range(conv.num_layers):
            s = 0 if conv.shared_weights else t
            w = conv.init_weight[k] if t == 0 else conv.weight[0 if conv.shared_weights
                                                               else t - 1, k]
            h = lap @ h @ w + x @ conv.root_weight[s, k]
            if conv.bias is not None:
                h = h + conv.bias[s, k]
            h = act(h) if act is not None else h
        stacks.append(h)
    return sum(stacks) / len(stacks)


@given(edge_lists(), st.integers(1, 3), st.integers(1, 3), st.booleans(), st.booleans())
def test_arma_matches_dense_formula(graph, stacks, layers, shared, weighted):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = ARMAConv(3, 2, num_stacks=stacks, num_layers=layers, shared_weights=shared).double()
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    lap = normalized_adjacency(edge_index, n, w, self_loops=False)
    torch.testing.assert_close(conv(x, edge_index, w), dense_arma(conv, x, lap))


def test_arma_without_activation_and_bias():
    torch.manual_seed(0)
    conv = ARMAConv(3, 2, num_layers=2, act=None, bias=False).double()
    ei = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])
    x = torch.randn(3, 3, dtype=torch.float64)
    lap = normalized_adjacency(ei, 3, self_loops=False)
    torch.testing.assert_close(conv(x, ei), dense_arma(conv, x, lap, act=None))


def test_arma_dropout_acts_on_the_skip_connection_in_training_only():
    torch.manual_seed(0)
    conv = ARMAConv(3, 2, dropout=1.0, act=None, bias=False).double()
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    x = torch.randn(3, 3, dtype=torch.float64)
    lap = normalized_adjacency(ei, 3, self_loops=False)
    torch.testing.assert_close(conv(x, ei), lap @ x @ conv.init_weight[0])  # no root
    conv.eval()
    torch.testing.assert_close(conv(x, ei), dense_arma(conv, x, lap, act=None))


def test_arma_state_dict_shapes_and_lazy_loading():
    conv = ARMAConv(4, 3, num_stacks=2, num_layers=3)
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "weight": (2, 2, 3, 3), "init_weight": (2, 4, 3), "root_weight": (3, 2, 4, 3),
        "bias": (3, 2, 1, 3)}
    shared = ARMAConv(4, 3, num_stacks=2, num_layers=3, shared_weights=True, bias=False)
    assert {k: tuple(v.shape) for k, v in shared.state_dict().items()} == {
        "weight": (1, 2, 3, 3), "init_weight": (2, 4, 3), "root_weight": (1, 2, 4, 3)}
    lazy = ARMAConv(-1, 3, num_stacks=2, num_layers=3)
    assert set(lazy.state_dict()) == set(conv.state_dict())
    lazy.load_state_dict(conv.state_dict())
    x, ei = torch.randn(5, 4), torch.tensor([[0, 1, 2], [1, 2, 3]])
    torch.testing.assert_close(lazy(x, ei), conv(x, ei))
    fresh = ARMAConv(-1, 3)
    assert fresh(x, ei).shape == (5, 3) and fresh.init_weight.shape == (1, 4, 3)
    assert repr(conv) == "ARMAConv(4, 3, num_stacks=2, num_layers=3)"


def test_arma_lowers():
    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    assert_lowers(ARMAConv(3, 4, num_stacks=2, num_layers=2), x, ei)


def test_arma_errors():
    with pytest.raises(ValueError, match="ARMAConv.*num_stacks"):
        ARMAConv(3, 2, num_stacks=0)
    with pytest.raises(ValueError, match="ARMAConv.*dropout"):
        ARMAConv(3, 2, dropout=1.5)
    conv = ARMAConv(3, 2)
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="ARMAConv.*'x'.*in_channels=3"):
        conv(torch.randn(3, 5), ei)
    with pytest.raises(ValueError, match="ARMAConv.*edge_weight"):
        conv(torch.randn(3, 3), ei, torch.ones(5))
