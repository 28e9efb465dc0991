import pytest
import torch
import torch.nn.functional as F
from hypothesis import given

from gfx.nn import SAGEConv
from tests.graphs import dense_adjacency, edge_lists, neighbour_lists


def dense_mean(x_src, edge_index, num_dst):
    a = dense_adjacency(edge_index, x_src.shape[0], num_dst)
    deg = a.sum(1, keepdim=True).clamp(min=1)
    return (a @ x_src.double()) / deg


@given(edge_lists(bipartite=True))
def test_sage_mean_bipartite_matches_formula(graph):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = SAGEConv((3, 2), 4).double()
    x = (torch.randn(n_src, 3, dtype=torch.float64), torch.randn(n_dst, 2, dtype=torch.float64))
    expected = (dense_mean(x[0], edge_index, n_dst) @ conv.lin_l.weight.t() + conv.lin_l.bias
                + x[1] @ conv.lin_r.weight.t())
    torch.testing.assert_close(conv(x, edge_index), expected)


@given(edge_lists())
def test_sage_max_with_normalize_and_no_root(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = SAGEConv(3, 4, aggr="max", root_weight=False, normalize=True).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    agg = torch.zeros(n, 3, dtype=torch.float64)
    for i, nbrs in enumerate(neighbour_lists(edge_index, n)):
        if nbrs:
            agg[i] = torch.stack([x[j] for _, j in nbrs]).max(0).values
    expected = F.normalize(agg @ conv.lin_l.weight.t() + conv.lin_l.bias, dim=-1)
    torch.testing.assert_close(conv(x, edge_index), expected)


def test_sage_project():
    torch.manual_seed(0)
    conv = SAGEConv(3, 2, project=True).double()
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 1]])
    x = torch.randn(3, 3, dtype=torch.float64)
    h = F.relu(x @ conv.lin.weight.t() + conv.lin.bias)
    expected = (dense_mean(h, edge_index, 3) @ conv.lin_l.weight.t() + conv.lin_l.bias
                + x @ conv.lin_r.weight.t())
    torch.testing.assert_close(conv(x, edge_index), expected)


def test_sage_multi_aggregation_widens_lin_l():
    conv = SAGEConv(4, 3, aggr=["mean", "max"])
    assert conv.lin_l.weight.shape == (3, 8)
    out = conv(torch.randn(5, 4), torch.tensor([[0, 1, 2], [1, 2, 3]]))
    assert out.shape == (5, 3)


def test_sage_state_dict_layout():
    assert set(SAGEConv(4, 3).state_dict()) == {"lin_l.weight", "lin_l.bias", "lin_r.weight"}
    assert set(SAGEConv(4, 3, root_weight=False, bias=False).state_dict()) == {"lin_l.weight"}


def test_sage_size_mismatch_is_reported():
    conv = SAGEConv(3, 2)
    with pytest.raises(ValueError, match="nodes"):
        conv((torch.randn(4, 3), torch.randn(2, 3)), torch.tensor([[0], [1]]), size=(5, 2))


def test_sage_unknown_aggregation_lists_names():
    with pytest.raises(ValueError, match="mean"):
        SAGEConv(3, 2, aggr="meen")
