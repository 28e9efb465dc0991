"""PMLP: an MLP in training mode, propagation (mean over self and in-neighbours) at test
time, both against hand-written layer loops."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.nn import PMLP
from tests.graphs import dense_adjacency, edge_lists


def layers_by_hand(model, x, prop):
    for i, lin in enumerate(model.lins):
        x = prop(x @ lin.weight.t())
        if lin.bias is not None:
            x = x + lin.bias
        if i < len(model.lins) - 1:
            if model.norm is not None:
                x = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5)
            x = x.relu()
    return x


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=8, max_edges=20), norm=st.booleans(), bias=st.booleans())
def test_train_and_eval_formulas(graph, norm, bias):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    model = PMLP(4, 6, 3, 3, norm=norm, bias=bias).double()
    x = torch.randn(max(n, 2), 4, dtype=torch.float64)
    n = x.shape[0]
    torch.testing.assert_close(model(x), layers_by_hand(model, x, lambda h: h))
    a = dense_adjacency(edge_index, n, n) + torch.eye(n, dtype=torch.float64)
    p = a / a.sum(dim=1, keepdim=True)
    model.eval()
    torch.testing.assert_close(model(x, edge_index), layers_by_hand(model, x, lambda h: p @ h))


def test_repr_state_and_errors():
    model = PMLP(5, 8, 3, 2, norm=False, bias=False)
    assert str(model) == "PMLP(5, 3, num_layers=2)"
    assert list(model.state_dict()) == ["lins.0.weight", "lins.1.weight"]
    with pytest.raises(ValueError, match="edge_index"):
        model.eval()(torch.randn(3, 5))
    with pytest.raises(ValueError, match="num_layers"):
        PMLP(5, 8, 3, 0)
    with pytest.raises(ValueError, match="dropout"):
        PMLP(5, 8, 3, 2, dropout=1.5)
