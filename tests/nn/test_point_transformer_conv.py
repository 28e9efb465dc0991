"""PointTransformerConv against a loop: per-channel softmax over each node's edges."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import PointTransformerConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager
from tests.nn.test_point_conv import looped


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12, bipartite=True), st.booleans(), st.booleans())
def test_point_transformer_conv_matches_formula(graph, loops, attn):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    attn_nn = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh()) if attn else None
    conv = PointTransformerConv((3, 2), 4, attn_nn=attn_nn, add_self_loops=loops).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    p_src = torch.randn(n_src, 3, dtype=torch.float64)
    p_dst = torch.randn(n_dst, 3, dtype=torch.float64)
    ei = looped(edge_index, min(n_src, n_dst)) if loops else edge_index
    gamma = conv.attn_nn if attn else (lambda t: t)
    expected = torch.zeros(n_dst, 4, dtype=torch.float64)
    with torch.no_grad():
        for i, nbrs in enumerate(neighbour_lists(ei, n_dst)):
            if not nbrs:
                continue
            delta = [conv.pos_nn(p_dst[i] - p_src[j]) for _, j in nbrs]
            scores = torch.stack([gamma(conv.lin_dst(x_dst[i]) - conv.lin_src(x_src[j]) + d)
                                  for (_, j), d in zip(nbrs, delta)])
            a = torch.softmax(scores, dim=0)  # over the neighbours, per channel
            expected[i] = sum(a[k] * (conv.lin(x_src[j]) + delta[k])
                              for k, (_, j) in enumerate(nbrs))
    got = conv((x_src, x_dst), (p_src, p_dst), edge_index)
    torch.testing.assert_close(got, expected)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = PointTransformerConv(3, 4)

    def forward(self, x, pos, edge_index):
        return self.conv(x, pos, edge_index)


@settings(max_examples=5, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12))
def test_point_transformer_conv_lowered_equals_eager(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Model().double(), torch.randn(n, 3).double(),
                                 torch.randn(n, 3).double(), edge_index)


def test_point_transformer_conv_repr_state_dict():
    conv = PointTransformerConv((4, 3), 8)
    assert str(conv) == "PointTransformerConv((4, 3), 8)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "pos_nn.weight": (8, 3), "pos_nn.bias": (8,), "lin.weight": (8, 4),
        "lin_src.weight": (8, 4), "lin_dst.weight": (8, 3)}


def test_point_transformer_conv_bad_input():
    conv = PointTransformerConv(3, 4)
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(3, 5), torch.randn(3, 3), ei)
    with pytest.raises(ValueError, match="source and target"):
        conv((torch.randn(3, 3), None), torch.randn(3, 3), ei)
