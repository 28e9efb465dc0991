import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import AntiSymmetricConv, SimpleConv
from tests.graphs import dense_adjacency, edge_lists
from tests.nn.test_gcn_conv import dense_gcn


def dense_antisymmetric(conv, x, aggregate, act=torch.tanh):
    """x <- x + eps * act((W - W^T - gamma I) x + aggregate(x) + b), num_iters times."""
    w = conv.W.detach().double()
    m = w - w.t() - conv.gamma * torch.eye(w.shape[0], dtype=torch.float64)
    b = conv.bias.detach().double() if conv.bias is not None else 0.0
    for _ in range(conv.num_iters):
        h = x @ m.t() + aggregate(x) + b
        x = x + conv.epsilon * (act(h) if act is not None else h)
    return x


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.integers(1, 3))
def test_antisymmetric_with_default_gcn_phi(graph, num_iters):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = AntiSymmetricConv(3, num_iters=num_iters, epsilon=0.2, gamma=0.3).double()
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(n, 3, dtype=torch.float64)
    expected = dense_antisymmetric(conv, x, lambda h: dense_gcn(conv.phi, h, edge_index))
    torch.testing.assert_close(conv(x, edge_index), expected)


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_antisymmetric_sum_phi_no_act_no_bias(graph):
    edge_index, n, _ = graph
    conv = AntiSymmetricConv(4, phi=SimpleConv(aggr="sum"), num_iters=2, act=None,
                             bias=False).double()
    x = torch.randn(n, 4, dtype=torch.float64)
    adj = dense_adjacency(edge_index, n, n)
    expected = dense_antisymmetric(conv, x, lambda h: adj @ h, act=None)
    torch.testing.assert_close(conv(x, edge_index), expected)


def test_antisymmetric_passes_extra_arguments_to_phi():
    conv = AntiSymmetricConv(2, phi=SimpleConv(aggr="sum"), act="leaky_relu",
                             act_kwargs={"negative_slope": 0.5}).double()
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])
    w = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)
    x = torch.randn(3, 2, dtype=torch.float64)
    adj = dense_adjacency(edge_index, 3, 3, w)
    expected = dense_antisymmetric(conv, x, lambda h: adj @ h,
                                   act=lambda t: torch.nn.functional.leaky_relu(t, 0.5))
    torch.testing.assert_close(conv(x, edge_index, w), expected)


def test_antisymmetric_layout_init_and_repr():
    conv = AntiSymmetricConv(16)
    assert set(conv.state_dict()) == {"W", "bias", "eye", "phi.lin.weight"}
    assert str(conv) == ("AntiSymmetricConv(16, phi=GCNConv(16, 16), num_iters=1, "
                         "epsilon=0.1, gamma=0.1)")
    assert conv.W.abs().max() <= 1 / math.sqrt(16) and not conv.bias.any()
    assert torch.equal(conv.eye, torch.eye(16))
    assert "bias" not in AntiSymmetricConv(4, bias=False).state_dict()


def test_antisymmetric_errors():
    with pytest.raises(ValueError, match="in_channels"):
        AntiSymmetricConv(0)
    with pytest.raises(ValueError, match="num_iters"):
        AntiSymmetricConv(3, num_iters=0)
    with pytest.raises(ValueError, match="'x'"):
        AntiSymmetricConv(3)(torch.randn(4, 2), torch.tensor([[0], [1]]))


def test_antisymmetric_compiles_and_refuses_untraced_extras():
    import gfx
    torch.manual_seed(0)
    conv = AntiSymmetricConv(3, phi=SimpleConv(aggr="sum"), num_iters=2)
    compiled = gfx.compile(conv, backend="reference")
    x, edge_index = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    torch.testing.assert_close(compiled(x, edge_index), conv(x, edge_index))
    with pytest.raises(Exception, match="traced with"):
        compiled(x, edge_index, torch.rand(3))
