"""PointNetConv / PointConv against a loop over edges: max of h([x_j, p_j - p_i])."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import PointConv, PointNetConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager


def looped(edge_index, n_loops):
    """Self-loops replaced by one loop per node 0..n_loops-1."""
    ei = [(j, i) for j, i in edge_index.t().tolist() if j != i]
    ei += [(v, v) for v in range(n_loops)]
    return torch.tensor(ei, dtype=torch.long).view(-1, 2).t()


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12, bipartite=True), st.booleans(), st.booleans(),
       st.sampled_from(["max", "mean"]))
def test_point_net_conv_matches_formula(graph, loops, with_x, aggr):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    local = torch.nn.Sequential(torch.nn.Linear(5 if with_x else 2, 4), torch.nn.ReLU())
    glob = torch.nn.Linear(4, 3)
    conv = PointNetConv(local, glob, add_self_loops=loops, aggr=aggr).double()
    x = torch.randn(n_src, 3, dtype=torch.float64) if with_x else None
    pos_src = torch.randn(n_src, 2, dtype=torch.float64)
    pos_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    ei = looped(edge_index, min(n_src, n_dst)) if loops else edge_index
    agg = torch.zeros(n_dst, 4, dtype=torch.float64)
    with torch.no_grad():
        for i, nbrs in enumerate(neighbour_lists(ei, n_dst)):
            if nbrs:
                h = torch.stack([
                    conv.local_nn(torch.cat(([x[j]] if with_x else []) + [pos_src[j] - pos_dst[i]]))
                    for _, j in nbrs])
                agg[i] = h.max(0).values if aggr == "max" else h.mean(0)
        expected = conv.global_nn(agg)
    got = conv((x, None), (pos_src, pos_dst), edge_index)
    torch.testing.assert_close(got, expected)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = PointNetConv(torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.ReLU()),
                                 torch.nn.Linear(4, 4))

    def forward(self, x, pos, edge_index):
        return self.conv(x, pos, edge_index)


@settings(max_examples=5, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12))
def test_point_net_conv_lowered_equals_eager(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Model().double(), torch.randn(n, 3).double(),
                                 torch.randn(n, 3).double(), edge_index)


def test_point_net_conv_repr_alias_state_dict():
    assert PointConv is PointNetConv
    assert str(PointNetConv()) == "PointNetConv(local_nn=None, global_nn=None)"
    conv = PointNetConv(torch.nn.Linear(5, 4), torch.nn.Linear(4, 2))
    assert set(conv.state_dict()) == {"local_nn.weight", "local_nn.bias", "global_nn.weight",
                                      "global_nn.bias"}


def test_point_net_conv_bad_input():
    conv = PointNetConv()
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="'x' has 2 rows but 'pos'"):
        conv(torch.randn(2, 3), torch.randn(3, 3), ei)
    with pytest.raises(ValueError, match="'pos'"):
        conv(None, torch.randn(3), ei)
