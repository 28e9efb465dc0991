"""LabelPropagation and CorrectAndSmooth against dense matrix iterations written from
the formulas."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.nn import CorrectAndSmooth, LabelPropagation
from tests.graphs import dense_adjacency, edge_lists


def sym_norm(edge_index, n):
    """D^-1/2 A D^-1/2, A[i, j] = edges j -> i, degrees at the targets, 0 for deg 0."""
    a = dense_adjacency(edge_index, n, n)
    deg = a.sum(dim=1)
    inv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
    return inv.view(-1, 1) * a * inv.view(1, -1)


def dense_lp(y0, s, alpha, layers, post=lambda x: x.clamp(0, 1)):
    out = y0
    for _ in range(layers):
        out = post(alpha * s @ out + (1 - alpha) * y0)
    return out


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=8, max_edges=20), layers=st.integers(0, 4),
       alpha=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_label_propagation_dense(graph, layers, alpha, seed):
    edge_index, n, _ = graph
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    mask = torch.rand(n, generator=g) < 0.5
    y0 = torch.nn.functional.one_hot(y, int(y.max()) + 1).double() * mask.view(-1, 1)
    want = dense_lp(y0, sym_norm(edge_index, n), alpha, layers)
    got = LabelPropagation(layers, alpha)(y, edge_index, mask)
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-4)
    # Index masks and soft labels.
    soft = torch.rand(n, 3, generator=g)
    got = LabelPropagation(layers, alpha)(soft, edge_index, mask.nonzero().view(-1))
    want = dense_lp(soft.double() * mask.view(-1, 1), sym_norm(edge_index, n), alpha, layers)
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-4)


def test_label_propagation_weights_and_post_step():
    edge_index = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])
    w = torch.tensor([0.5, 2.0, 1.0, 0.25])
    y = torch.rand(3, 2)
    a = torch.zeros(3, 3, dtype=torch.float64)
    for e, (j, i) in enumerate(edge_index.t().tolist()):
        a[i, j] += float(w[e])  # the weights are the propagation matrix as given
    got = LabelPropagation(2, 0.7)(y, edge_index, edge_weight=w, post_step=lambda x: x)
    torch.testing.assert_close(got.double(), dense_lp(y.double(), a, 0.7, 2, lambda x: x))
    assert str(LabelPropagation(2, 0.7)) == "LabelPropagation(num_layers=2, alpha=0.7)"
    with pytest.raises(ValueError, match="num_layers"):
        LabelPropagation(-1, 0.5)
    with pytest.raises(ValueError, match="mask"):
        LabelPropagation(1, 0.5)(y, edge_index, torch.tensor([True]))
    with pytest.raises(ValueError, match="edge_weight"):
        LabelPropagation(1, 0.5)(y, edge_index, edge_weight=torch.ones(2))


def dense_correct_and_smooth(y_soft, y_true, mask, s, l1, a1, l2, a2, autoscale, scale):
    y_soft, onehot = y_soft.double(), torch.nn.functional.one_hot(y_true, y_soft.size(1))
    e0 = torch.zeros_like(y_soft)
    e0[mask] = onehot.double() - y_soft[mask]
    e = e0
    for _ in range(l1):
        e = a1 * s @ e + (1 - a1) * e0
        if autoscale:
            e = e.clamp(-1, 1)
        else:
            e[mask] = e0[mask]
    if autoscale:
        sigma = e0[mask].abs().sum() / int(mask.sum())
        gamma = sigma / e.abs().sum(dim=1, keepdim=True)
        gamma[~torch.isfinite(gamma) | (gamma > 1000)] = 1.0
    else:
        gamma = scale
    z = y_soft + gamma * e
    z[mask] = onehot.double()
    return dense_lp(z, s, a2, l2), y_soft + gamma * e


@pytest.mark.parametrize("autoscale", [True, False])
@settings(max_examples=8, deadline=None)
@given(graph=edge_lists(max_nodes=8, max_edges=20), seed=st.integers(0, 2**16))
def test_correct_and_smooth_dense(autoscale, graph, seed):
    edge_index, n, _ = graph
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    mask = torch.rand(n, generator=g) < 0.5
    mask[0] = True
    y_soft = torch.softmax(torch.randn(n, 3, generator=g), dim=-1)
    model = CorrectAndSmooth(2, 0.6, 3, 0.8, autoscale=autoscale, scale=0.7)
    want, corrected = dense_correct_and_smooth(y_soft, y[mask], mask, sym_norm(edge_index, n),
                                               2, 0.6, 3, 0.8, autoscale, 0.7)
    torch.testing.assert_close(model.correct(y_soft, y[mask], mask, edge_index).double(),
                               corrected, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(model(y_soft, y[mask], mask, edge_index).double(), want,
                               atol=1e-5, rtol=1e-4)


def test_correct_and_smooth_repr_and_errors():
    model = CorrectAndSmooth(2, 0.5, 3, 0.8)
    assert str(model) == ("CorrectAndSmooth(\n  correct: num_layers=2, alpha=0.5\n"
                          "  smooth:  num_layers=3, alpha=0.8\n  autoscale=True, scale=1.0\n)")
    y_soft = torch.rand(4, 2)
    mask = torch.tensor([True, False, True, False])
    with pytest.raises(ValueError, match="y_true"):
        model.correct(y_soft, torch.tensor([0, 1, 1]), mask, torch.tensor([[0], [1]]))
