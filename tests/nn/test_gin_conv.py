import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import EdgeConv, GINConv, GINEConv
from tests.graphs import dense_adjacency, edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager


def mlp(cin=3, cout=4):
    return torch.nn.Sequential(torch.nn.Linear(cin, 5), torch.nn.ReLU(), torch.nn.Linear(5, cout))


@given(edge_lists(bipartite=True), st.floats(-1.0, 1.0))
def test_gin_bipartite_matches_formula(graph, eps):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = GINConv(mlp(), eps=eps).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 3, dtype=torch.float64)
    a = dense_adjacency(edge_index, n_src, n_dst)
    expected = conv.nn((1 + eps) * x_dst + a @ x_src)
    torch.testing.assert_close(conv((x_src, x_dst), edge_index), expected)


@given(edge_lists(), st.booleans())
def test_gine_matches_formula(graph, project):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = GINEConv(mlp(), eps=0.25, edge_dim=2 if project else None).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    attr = torch.randn(edge_index.shape[1], 2 if project else 3, dtype=torch.float64)
    agg = torch.zeros(n, 3, dtype=torch.float64)
    for i, nbrs in enumerate(neighbour_lists(edge_index, n)):
        for e, j in nbrs:
            edge = attr[e] @ conv.lin.weight.t() + conv.lin.bias if project else attr[e]
            agg[i] += F.relu(x[j] + edge)
    torch.testing.assert_close(conv(x, edge_index, attr), conv.nn(1.25 * x + agg))


def test_gin_eps_buffer_or_parameter():
    fixed = GINConv(torch.nn.Linear(3, 4), eps=0.5)
    assert "eps" in dict(fixed.named_buffers()) and "eps" not in dict(fixed.named_parameters())
    learned = GINConv(torch.nn.Linear(3, 4), eps=0.5, train_eps=True)
    assert set(learned.state_dict()) == {"eps", "nn.weight", "nn.bias"}
    with torch.no_grad():
        learned.eps.fill_(3.0)
    learned.reset_parameters()
    assert learned.eps.item() == 0.5
    x, ei = torch.randn(3, 3), torch.tensor([[0, 1], [1, 2]])
    learned(x, ei).sum().backward()
    assert learned.eps.grad is not None


def test_gine_edge_projection_width_from_nn():
    class Custom(torch.nn.Module):
        in_channels = 7

        def forward(self, x):
            return x

    assert GINEConv(mlp(), edge_dim=2).lin.weight.shape == (3, 2)
    assert GINEConv(Custom(), edge_dim=2).lin.weight.shape == (7, 2)
    assert set(GINEConv(mlp(), edge_dim=2).state_dict()) >= {"eps", "lin.weight", "lin.bias"}
    with pytest.raises(ValueError, match="GINEConv.*input width"):
        GINEConv(torch.nn.ReLU(), edge_dim=2)


class Bipartite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gin = GINConv(mlp(), train_eps=True)
        self.gine = GINEConv(mlp(4, 2), edge_dim=2, train_eps=True)

    def forward(self, x_src, x_dst, edge_index, edge_attr):
        h = self.gin((x_src, x_dst), edge_index)
        return self.gine((torch.cat([x_src, x_src[:, :1]], 1), h), edge_index, edge_attr)


@settings(max_examples=15)  # each example captures and lowers anew
@given(edge_lists(bipartite=True))
def test_gin_and_gine_lowered_equal_eager(graph):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Bipartite().double(), torch.randn(n_src, 3).double(),
                                 torch.randn(n_dst, 3).double(), edge_index,
                                 torch.randn(edge_index.shape[1], 2).double())


def test_gine_errors():
    x, ei = torch.randn(3, 3), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="GINEConv.*'edge_attr' is required"):
        GINEConv(mlp())(x, ei)
    with pytest.raises(ValueError, match="GINEConv.*2 features.*set edge_dim=2"):
        GINEConv(mlp())(x, ei, torch.randn(2, 2))
    with pytest.raises(ValueError, match="GINEConv.*4 features, but edge_dim=2"):
        GINEConv(mlp(), edge_dim=2)(x, ei, torch.randn(2, 4))
    with pytest.raises(ValueError, match="GINEConv.*2-D"):
        GINEConv(mlp(), edge_dim=2)(x, ei, torch.randn(2))


def test_gin_and_edge_conv_name_the_wrong_width():
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="GINConv.*'x' have 5 channels"):
        GINConv(mlp())(torch.randn(3, 5), ei)
    with pytest.raises(ValueError, match="GINEConv.*'x' have 2 channels"):
        GINEConv(mlp(), edge_dim=2)(torch.randn(3, 2), ei, torch.randn(2, 2))
    with pytest.raises(ValueError, match="EdgeConv.*'x' have 4 channels.*nn takes 6"):
        EdgeConv(mlp(6, 2))(torch.randn(3, 4), ei)
    # An nn whose width cannot be read is not second-guessed.
    out = GINConv(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(5, 2)))(
        torch.randn(3, 5), ei)
    assert out.shape == (3, 2)
