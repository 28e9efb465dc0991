"""RECT_L: a GCN layer (dense formula) followed by a linear map back to the input
space, and its semantic labels as per-class means."""
import pytest
import torch
from hypothesis import given, settings

from gfx.nn import RECT_L
from tests.graphs import dense_adjacency, edge_lists


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=8, max_edges=20))
def test_forward_and_embed(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    model = RECT_L(4, 6).double()
    x = torch.randn(n, 4, dtype=torch.float64)
    a = dense_adjacency(edge_index, n, n)
    a.fill_diagonal_(1.0)  # existing loops (even repeated) become one loop of weight 1
    inv = a.sum(1).pow(-0.5)
    s = inv.view(-1, 1) * a * inv.view(1, -1)
    h = s @ x @ model.conv.lin.weight.t() + model.conv.bias
    torch.testing.assert_close(model.embed(x, edge_index), h)
    torch.testing.assert_close(model(x, edge_index), h @ model.lin.weight.t() + model.lin.bias)


def test_semantic_labels():
    x = torch.tensor([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 6.0]])
    y = torch.tensor([4, 5, 4, 5])
    mask = torch.tensor([True, True, True, False])
    out = RECT_L(2, 3).get_semantic_labels(x, y, mask)
    torch.testing.assert_close(out, torch.tensor([[3.0, 2.0], [3.0, 2.0], [3.0, 2.0]]))
    out = RECT_L(2, 3).get_semantic_labels(x, y, torch.ones(4, dtype=torch.bool))
    torch.testing.assert_close(out, torch.tensor([[3.0, 2.0], [5.0, 4.0], [3.0, 2.0],
                                                  [5.0, 4.0]]))


def test_repr_and_errors():
    model = RECT_L(5, 8)
    assert str(model) == "RECT_L(5, 8)"
    assert sorted(model.state_dict()) == ["conv.bias", "conv.lin.weight", "lin.bias",
                                          "lin.weight"]
    with pytest.raises(ValueError, match="dropout"):
        RECT_L(5, 8, dropout=-0.1)
