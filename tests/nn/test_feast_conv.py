"""FeaStConv against a loop over edges: per-edge soft assignment over heads."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import FeaStConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12, bipartite=True), st.integers(1, 3),
       st.booleans())
def test_feast_conv_matches_formula(graph, heads, loops):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = FeaStConv(3, 4, heads=heads, add_self_loops=loops).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 3, dtype=torch.float64)
    if loops:  # every old loop goes, one loop per node of the smaller side comes
        ei = [(j, i) for j, i in edge_index.t().tolist() if j != i]
        ei += [(v, v) for v in range(min(n_src, n_dst))]
        edge_index = torch.tensor(ei, dtype=torch.long).view(-1, 2).t()
    W = conv.lin.weight.detach().view(heads, 4, 3)
    U, c = conv.u.weight.detach(), conv.c.detach()
    expected = conv.bias.detach().expand(n_dst, 4).clone()
    for i, nbrs in enumerate(neighbour_lists(edge_index, n_dst)):
        if nbrs:
            msgs = []
            for _, j in nbrs:
                q = torch.softmax(U @ (x_src[j] - x_dst[i]) + c, dim=0)
                msgs.append(sum(q[h] * (W[h] @ x_src[j]) for h in range(heads)))
            expected[i] += torch.stack(msgs).mean(0)
    got = conv((x_src, x_dst), edge_index if not loops else graph[0])
    torch.testing.assert_close(got, expected)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = FeaStConv(3, 4, heads=2)

    def forward(self, x, edge_index):
        return self.conv(x, edge_index)


@settings(max_examples=5, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12))
def test_feast_conv_lowered_equals_eager(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Model().double(), torch.randn(n, 3).double(), edge_index)


def test_feast_conv_repr_state_dict():
    conv = FeaStConv(4, 8, heads=2)
    assert str(conv) == "FeaStConv(4, 8, heads=2)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "c": (2,), "bias": (8,), "lin.weight": (16, 4), "u.weight": (2, 4)}


def test_feast_conv_bad_input():
    with pytest.raises(ValueError, match="'heads'"):
        FeaStConv(3, 4, heads=0)
    with pytest.raises(ValueError, match="'x'"):
        FeaStConv(3, 4)(torch.randn(3, 5), torch.tensor([[0], [1]]))
