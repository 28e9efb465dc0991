"""SplineConv against a loop over edges that evaluates the B-spline kernel with the
Cox-de Boor recursion (independent of the closed-form pieces in the layer)."""
import itertools

import pytest
import torch
from torch.func import functional_call
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import SplineConv
from gfx.nn.conv.spline_conv import spline_basis
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager


def cardinal_bspline(u: float, p: int) -> float:
    """Cox-de Boor: the uniform B-spline of degree p supported on [0, p + 1)."""
    if p == 0:
        return 1.0 if 0.0 <= u < 1.0 else 0.0
    return (u * cardinal_bspline(u, p - 1) + (p + 1 - u) * cardinal_bspline(u - 1, p - 1)) / p


def control_weights(u: float, size: int, is_open: bool, p: int):
    """Weight of each of the ``size`` control points at pseudo-coordinate ``u``."""
    v = u * (size - p if is_open else size)
    out = [0.0] * size
    for i in range(-p - 2, size + p + 2):
        out[i % size] += cardinal_bspline(v - i + p, p)
    return out


def kernel(conv, pseudo):
    """h(e) = sum over control-point tuples of the product of 1-D weights times W_k."""
    sizes, opens = conv.kernel_size.tolist(), [bool(o) for o in conv.is_open_spline.tolist()]
    per_dim = [control_weights(float(u), s, o, conv.degree)
               for u, s, o in zip(pseudo, sizes, opens)]
    h = torch.zeros_like(conv.weight[0])
    for ks in itertools.product(*[range(s) for s in sizes]):
        flat, stride, w = 0, 1, 1.0
        for d, k in enumerate(ks):
            flat += k * stride
            stride *= sizes[d]
            w *= per_dim[d][k]
        h = h + w * conv.weight[flat]
    return h


settings_ = settings(max_examples=10, deadline=None)


@settings_
@given(edge_lists(max_nodes=6, max_edges=12, bipartite=True), st.integers(1, 3),
       st.integers(1, 3), st.booleans(), st.sampled_from(["mean", "add", "max"]),
       st.sampled_from([(3, 5), (5, 2)]))
def test_spline_conv_matches_formula(graph, degree, dim, closed, aggr, channels):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    c_in, c_out = channels  # both weighting paths: C_in <= C_out and C_in > C_out
    conv = SplineConv((c_in, 2), c_out, dim=dim, kernel_size=[degree + 1, degree + 2, 4][:dim],
                      is_open_spline=[not closed, True, False][:dim], degree=degree,
                      aggr=aggr).double()
    torch.nn.init.normal_(conv.bias)
    x_src = torch.randn(n_src, c_in, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    pseudo = torch.rand(edge_index.shape[1], dim, dtype=torch.float64)
    if pseudo.numel():
        pseudo[0] = 1.0  # the closed end of the interval
    expected = x_dst @ conv.lin.weight.t() + conv.bias
    for i, nbrs in enumerate(neighbour_lists(edge_index, n_dst)):
        if not nbrs:
            continue
        msgs = torch.stack([x_src[j] @ kernel(conv, pseudo[e]) for e, j in nbrs])
        expected[i] += {"mean": msgs.mean(0), "add": msgs.sum(0), "max": msgs.max(0).values}[aggr]
    got = conv((x_src, x_dst), edge_index, pseudo)
    torch.testing.assert_close(got, expected)


def test_basis_sums_to_one_and_indices_in_range():
    pseudo = torch.rand(50, 3, dtype=torch.float64)
    for degree in (1, 2, 3):
        basis, index = spline_basis(pseudo, (5, 6, 7), (True, False, True), degree)
        assert basis.shape == index.shape == (50, (degree + 1) ** 3)
        torch.testing.assert_close(basis.sum(1), torch.ones(50, dtype=torch.float64))
        assert int(index.min()) >= 0 and int(index.max()) < 5 * 6 * 7


@pytest.mark.parametrize("degree", [1, 2, 3])
@pytest.mark.parametrize("channels", [(2, 3), (3, 2)])
def test_spline_conv_gradcheck(degree, channels):
    torch.manual_seed(degree)
    conv = SplineConv(channels[0], channels[1], dim=2, kernel_size=[4, 5],
                      is_open_spline=[True, False], degree=degree).double()
    edge_index = torch.tensor([[0, 1, 2, 3, 3, 1], [1, 2, 0, 0, 3, 1]])
    x = torch.randn(4, channels[0], dtype=torch.float64, requires_grad=True)
    # pseudo-coordinates away from knots, where the basis is smooth
    pseudo = (torch.tensor([[0.11, 0.52], [0.37, 0.93], [0.61, 0.07], [0.83, 0.44],
                            [0.29, 0.71], [0.55, 0.18]], dtype=torch.float64)
              .requires_grad_())

    weight = conv.weight.detach().clone().requires_grad_()

    def fn(x, weight, pseudo):
        return functional_call(conv, {"weight": weight}, (x, edge_index, pseudo))

    assert torch.autograd.gradcheck(fn, (x, weight, pseudo))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = SplineConv(3, 4, dim=2, kernel_size=3, degree=2)

    def forward(self, x, edge_index, pseudo):
        return self.conv(x, edge_index, pseudo)


@settings(max_examples=5, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12))
def test_spline_conv_lowered_equals_eager(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Model().double(), torch.randn(n, 3).double(), edge_index,
                                 torch.rand(edge_index.shape[1], 2).double())


def test_spline_conv_repr_state_dict_and_init():
    conv = SplineConv((4, 3), 8, dim=3, kernel_size=[3, 4], is_open_spline=[True, False])
    assert str(conv) == "SplineConv((4, 3), 8, dim=3)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "weight": (48, 4, 8), "bias": (8,), "kernel_size": (3,), "is_open_spline": (3,),
        "lin.weight": (8, 3)}
    assert conv.kernel_size.tolist() == [3, 4, 4]
    assert conv.is_open_spline.tolist() == [1, 0, 0]
    assert float(conv.weight.detach().abs().max()) <= 1 / (48 * 4) ** 0.5
    assert not conv.bias.any()
    assert set(SplineConv(2, 2, 1, 2, root_weight=False, bias=False).state_dict()) == {
        "weight", "kernel_size", "is_open_spline"}


def test_spline_conv_bad_input():
    with pytest.raises(ValueError, match="'degree'"):
        SplineConv(2, 2, dim=1, kernel_size=3, degree=4)
    with pytest.raises(ValueError, match="kernel_size > 2"):
        SplineConv(2, 2, dim=1, kernel_size=2, degree=2)
    with pytest.raises(ValueError, match="'in_channels'"):
        SplineConv(0, 2, dim=1, kernel_size=3)
    conv = SplineConv(2, 2, dim=2, kernel_size=3)
    x, ei = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="'edge_attr'.*required"):
        conv(x, ei)
    with pytest.raises(ValueError, match="'edge_attr'"):
        conv(x, ei, torch.rand(2, 3))
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(3, 5), ei, torch.rand(2, 2))


def test_spline_conv_early_norm_argument():
    assert SplineConv(2, 3, dim=1, kernel_size=3, norm=False).aggr == "add"
    assert SplineConv(2, 3, dim=1, kernel_size=3, norm=True).aggr == "mean"


def test_spline_conv_lazy():
    torch.manual_seed(0)
    lazy = SplineConv(-1, 4, dim=2, kernel_size=3)
    assert lazy.is_lazy and str(lazy) == "SplineConv(-1, 4, dim=2)"
    fresh = SplineConv(-1, 4, dim=2, kernel_size=3)
    assert set(fresh.state_dict()) == {"weight", "bias", "kernel_size", "is_open_spline",
                                       "lin.weight"}
    x, ei, e = torch.randn(5, 3), torch.tensor([[0, 1, 2], [1, 2, 3]]), torch.rand(3, 2)
    out = lazy(x, ei, e)
    assert not lazy.is_lazy and lazy.weight.shape == (9, 3, 4)
    assert float(lazy.weight.detach().abs().max()) <= 1 / 27 ** 0.5
    fresh.load_state_dict(lazy.state_dict())  # a lazy layer loads a sized checkpoint
    torch.testing.assert_close(fresh(x, ei, e), out)
    with pytest.raises(ValueError, match="'x'"):
        lazy(torch.randn(5, 2), ei, e)
