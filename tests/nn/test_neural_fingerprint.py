"""NeuralFingerprint against a loop written from the formula."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.nn import NeuralFingerprint
from tests.graphs import edge_lists


def dense_mf(conv, x, edge_index):
    """MFConv: out_i = W_l^{d_i} sum_{j -> i} x_j + b^{d_i} + W_r^{d_i} x_i, d_i clamped."""
    out = []
    for i in range(x.shape[0]):
        srcs = [j for j, t in edge_index.t().tolist() if t == i]
        d = min(len(srcs), conv.max_degree)
        h = sum((x[j] for j in srcs), torch.zeros_like(x[i]))
        out.append(conv.lins_l[d](h) + conv.lins_r[d](x[i]))
    return torch.stack(out)


@st.composite
def molecules(draw):
    edge_index, n, _ = draw(edge_lists(6, 14, False))
    n = max(n, 1)
    batch = torch.tensor(sorted(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))))
    g = torch.Generator().manual_seed(draw(st.integers(0, 999)))
    return torch.randn(n, 3, generator=g, dtype=torch.float64), edge_index, batch


@settings(max_examples=10, deadline=None)
@given(molecules())
def test_formula(graph):
    x, edge_index, batch = graph
    model = NeuralFingerprint(3, 4, 5, num_layers=2, max_degree=2).double()
    num_graphs = int(batch.max()) + 1
    expected = torch.zeros(num_graphs, 5, dtype=torch.float64)
    h = x
    for conv, lin in zip(model.convs, model.lins):
        h = dense_mf(conv, h, edge_index).sigmoid()
        bits = torch.softmax(h @ lin.weight.t(), dim=-1)
        for i in range(h.shape[0]):
            expected[batch[i]] += bits[i]
    got = model(x, edge_index, batch, num_graphs)
    torch.testing.assert_close(got, expected)
    # every layer adds one probability vector per atom
    torch.testing.assert_close(got.sum(), torch.tensor(2.0 * x.shape[0], dtype=torch.float64))


def test_single_graph_gradcheck_and_errors():
    x = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 1], [1, 0, 2]])
    model = NeuralFingerprint(3, 4, 5, num_layers=2).double()
    assert model(x, edge_index).shape == (1, 5)
    assert torch.autograd.gradcheck(lambda v: model(v, edge_index), (x,))
    assert str(model) == "NeuralFingerprint(3, 5, num_layers=2)"
    with pytest.raises(ValueError, match="num_layers"):
        NeuralFingerprint(3, 4, 5, num_layers=0)
