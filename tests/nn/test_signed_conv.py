import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import SignedConv
from tests.graphs import dense_adjacency, edge_lists


def dense_mean(edge_index, num_src, num_dst, x):
    """Row i: the mean of x over the sources of the edges entering i (0 if none)."""
    a = dense_adjacency(edge_index, num_src, num_dst)
    deg = a.sum(1, keepdim=True).clamp(min=1)
    return (a / deg) @ x


def lin(layer, x):
    out = x @ layer.weight.double().t()
    return out if layer.bias is None else out + layer.bias.double()


def graphs(bipartite=False):
    return st.tuples(edge_lists(6, 12, bipartite), st.integers(0, 12), st.integers(0, 2**16))


@settings(max_examples=10, deadline=None)
@given(graphs(bipartite=True))
def test_first_aggregation_matches_formula(args):
    (pos, ns, nd), num_neg, seed = args
    g = torch.Generator().manual_seed(seed)
    neg = torch.stack([torch.randint(0, ns, (num_neg,), generator=g),
                       torch.randint(0, nd, (num_neg,), generator=g)])
    conv = SignedConv(3, 2, first_aggr=True).double()
    xs, xd = torch.randn(ns, 3, generator=g).double(), torch.randn(nd, 3, generator=g).double()
    out = conv((xs, xd), pos, neg)
    expected_pos = lin(conv.lin_pos_l, dense_mean(pos, ns, nd, xs)) + lin(conv.lin_pos_r, xd)
    expected_neg = lin(conv.lin_neg_l, dense_mean(neg, ns, nd, xs)) + lin(conv.lin_neg_r, xd)
    torch.testing.assert_close(out, torch.cat([expected_pos, expected_neg], -1))


@settings(max_examples=10, deadline=None)
@given(graphs())
def test_deeper_aggregation_follows_balance_theory(args):
    (pos, n, _), num_neg, seed = args
    g = torch.Generator().manual_seed(seed)
    neg = torch.randint(0, n, (2, num_neg), generator=g)
    conv = SignedConv(3, 4, first_aggr=False).double()
    x = torch.randn(n, 6, generator=g).double()
    xp, xn = x[:, :3], x[:, 3:]
    out = conv(x, pos, neg)
    m = lambda ei, v: dense_mean(ei, n, n, v)  # noqa: E731
    expected_pos = lin(conv.lin_pos_l, torch.cat([m(pos, xp), m(neg, xn)], -1)) + lin(conv.lin_pos_r, xp)
    expected_neg = lin(conv.lin_neg_l, torch.cat([m(pos, xn), m(neg, xp)], -1)) + lin(conv.lin_neg_r, xn)
    torch.testing.assert_close(out, torch.cat([expected_pos, expected_neg], -1))


def test_layout_repr_and_bias_off():
    conv = SignedConv(4, 3, first_aggr=False, bias=False)
    assert str(conv) == "SignedConv(4, 3, first_aggr=False)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "lin_pos_l.weight": (3, 8), "lin_pos_r.weight": (3, 4),
        "lin_neg_l.weight": (3, 8), "lin_neg_r.weight": (3, 4)}


def test_signed_errors():
    conv = SignedConv(3, 2, first_aggr=False)
    ei = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="6 channels"):
        conv(torch.randn(2, 3), ei, ei)
    with pytest.raises(ValueError, match="in_channels"):
        SignedConv(-1, 2, first_aggr=True)
    with pytest.raises(IndexError, match="edge_index"):
        SignedConv(3, 2, first_aggr=True)(torch.randn(2, 3), ei, torch.tensor([[0], [5]]))
