import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import DirGNNConv, GCNConv, GraphConv, SAGEConv, SimpleConv
from tests.graphs import dense_adjacency, edge_lists


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.floats(0.0, 1.0))
def test_dir_gnn_matches_dense_formula(graph, alpha):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = DirGNNConv(GraphConv(3, 2), alpha=alpha).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    a_in = dense_adjacency(edge_index, n, n)  # rows: targets of the given edges
    a_out = a_in.t()  # rows: sources (aggregate over out-neighbours)

    def rel(conv, adj):  # GraphConv has no root_weight option: its lin_root stays
        return (adj @ x @ conv.lin_rel.weight.t() + conv.lin_rel.bias
                + x @ conv.lin_root.weight.t())

    expected = (alpha * rel(conv.conv_out, a_out) + (1 - alpha) * rel(conv.conv_in, a_in)
                + x @ conv.lin.weight.t() + conv.lin.bias)
    torch.testing.assert_close(conv(x, edge_index), expected)


def test_dir_gnn_switches_off_loops_and_root_of_copies():
    gcn = GCNConv(3, 3)
    conv = DirGNNConv(gcn, root_weight=False)
    assert gcn.add_self_loops  # the argument itself is unchanged
    assert not conv.conv_in.add_self_loops and not conv.conv_out.add_self_loops
    assert not torch.equal(conv.conv_in.lin.weight, conv.conv_out.lin.weight)
    assert set(conv.state_dict()) == {"conv_in.bias", "conv_in.lin.weight",
                                      "conv_out.bias", "conv_out.lin.weight"}
    assert str(conv) == "DirGNNConv(GCNConv(3, 3), alpha=0.5)"
    sage = DirGNNConv(SAGEConv(3, 3))
    assert not sage.conv_in.root_weight and not sage.conv_out.root_weight


def test_dir_gnn_sum_aggregation_counts_both_directions():
    conv = DirGNNConv(SimpleConv(aggr="sum"), alpha=0.25, root_weight=False)
    edge_index = torch.tensor([[0, 0, 1], [1, 2, 2]])
    x = torch.tensor([[1.0], [10.0], [100.0]])
    # in-neighbours: 0 <- {}, 1 <- {0}, 2 <- {0, 1}; out: 0 -> {1, 2}, 1 -> {2}, 2 -> {}
    expected = 0.25 * torch.tensor([[110.0], [100.0], [0.0]]) + \
        0.75 * torch.tensor([[0.0], [1.0], [11.0]])
    torch.testing.assert_close(conv(x, edge_index), expected)


def test_dir_gnn_errors():
    with pytest.raises(TypeError, match="conv"):
        DirGNNConv("gcn")
    with pytest.raises(ValueError, match="in_channels"):
        DirGNNConv(SimpleConv())
    with pytest.raises(ValueError, match="edge_index"):
        DirGNNConv(GCNConv(2, 2))(torch.randn(3, 2), torch.tensor([0, 1]))
