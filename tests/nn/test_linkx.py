"""LINKX against its formula with the sub-modules' own outputs composed by hand, and
SparseLinear against a dense adjacency product."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.nn import LINKX
from gfx.nn.models.linkx import SparseLinear
from tests.graphs import dense_adjacency, edge_lists


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=8, max_edges=20), weighted=st.booleans())
def test_sparse_linear_is_adjacency_times_weight(graph, weighted):
    edge_index, n, _ = graph
    lin = SparseLinear(n, 3).double()
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) if weighted else None
    want = dense_adjacency(edge_index, n, n, w) @ lin.weight + lin.bias
    torch.testing.assert_close(lin(edge_index, w), want)


@pytest.mark.parametrize("edge_layers,node_layers,layers", [(1, 1, 1), (2, 2, 2), (3, 1, 2)])
def test_forward_formula(edge_layers, node_layers, layers):
    torch.manual_seed(0)
    n = 7
    model = LINKX(n, 5, 8, 3, layers, num_edge_layers=edge_layers,
                  num_node_layers=node_layers).eval()
    x, edge_index = torch.randn(n, 5), torch.randint(0, n, (2, 15))
    h_a = dense_adjacency(edge_index, n, n).float() @ model.edge_lin.weight + model.edge_lin.bias
    if edge_layers > 1:
        h_a = model.edge_mlp(model.edge_norm(h_a.relu()))
    h_x = model.node_mlp(x)
    hidden = model.cat_lin1(h_a) + model.cat_lin2(h_x) + h_a + h_x
    torch.testing.assert_close(model(x, edge_index), model.final_mlp(hidden.relu()))
    no_x = model.final_mlp((model.cat_lin1(h_a) + h_a).relu())
    torch.testing.assert_close(model(None, edge_index), no_x)


def test_gradients_and_errors():
    model = LINKX(6, 4, 8, 2, 2)
    x, edge_index = torch.randn(6, 4), torch.randint(0, 6, (2, 10))
    model(x, edge_index).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert str(model) == "LINKX(num_nodes=6, in_channels=4, out_channels=2)"
    with pytest.raises(ValueError, match="num_layers"):
        LINKX(6, 4, 8, 2, 0)
    with pytest.raises(ValueError, match="'x'"):
        model(torch.randn(5, 4), edge_index)
    with pytest.raises(ValueError, match="num_nodes"):
        model(x, torch.tensor([[7], [0]]))
