import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import GatedGraphConv
from gfx.utils import edge_index_to_adj_t
from tests.graphs import dense_adjacency, edge_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager


def gru(cell, m, h):
    """The GRU update written out: r, z gates, candidate n, h' = (1 - z) n + z h."""
    gi = m @ cell.weight_ih.t() + cell.bias_ih
    gh = h @ cell.weight_hh.t() + cell.bias_hh
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


@given(edge_lists(), st.booleans())
def test_gated_graph_matches_formula(graph, weighted):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = GatedGraphConv(5, num_layers=3).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) if weighted else None
    a = dense_adjacency(edge_index, n, n, w)
    h = torch.cat([x, torch.zeros(n, 2, dtype=torch.float64)], dim=1)
    for step in range(3):
        h = gru(conv.rnn, a @ (h @ conv.weight[step]), h)
    torch.testing.assert_close(conv(x, edge_index, w), h)


def test_gated_graph_state_dict_and_sparse_weights():
    conv = GatedGraphConv(4, 2, bias=False)
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "weight": (2, 4, 4), "rnn.weight_ih": (12, 4), "rnn.weight_hh": (12, 4)}
    ei, w = torch.tensor([[0, 1, 2], [1, 2, 0]]), torch.tensor([0.5, 2.0, 1.5])
    x = torch.randn(3, 4)
    torch.testing.assert_close(conv(x, edge_index_to_adj_t(ei, w, (3, 3))), conv(x, ei, w))


class Weighted(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GatedGraphConv(4, 2, aggr="mean")

    def forward(self, x, edge_index, edge_weight):
        return self.conv(x, edge_index, edge_weight)


def test_gated_graph_lowered_equals_eager():
    torch.manual_seed(0)
    x, ei = torch.randn(6, 2, dtype=torch.float64), torch.randint(0, 6, (2, 15))
    assert_lowered_matches_eager(Weighted().double(), x, ei,
                                 torch.rand(15, dtype=torch.float64))


def test_gated_graph_errors():
    conv = GatedGraphConv(2, 2)
    with pytest.raises(ValueError, match="GatedGraphConv.*3 channels.*out_channels=2"):
        conv(torch.randn(3, 3), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="GatedGraphConv.*bipartite"):
        conv((torch.randn(3, 2), torch.randn(3, 2)), torch.tensor([[0], [1]]))
