import pickle

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx
from gfx.nn import HeteroDictLinear, HeteroLinear


def per_row(layer, x, type_vec):
    """The formula row by row: x_i W_{k_i} + b_{k_i}."""
    rows = []
    for i, t in enumerate(type_vec.tolist()):
        row = x[i] @ layer.weight[t]
        rows.append(row if layer.bias is None else row + layer.bias[t])
    return torch.stack(rows) if rows else x.new_zeros(0, layer.out_channels)


@given(st.lists(st.integers(0, 3), max_size=12), st.booleans(), st.booleans())
def test_hetero_linear_matches_rowwise_formula(types, sort, bias):
    torch.manual_seed(0)
    type_vec = torch.tensor(sorted(types) if sort else types, dtype=torch.long)
    layer = HeteroLinear(3, 2, num_types=4, is_sorted=sort, bias=bias).double()
    x = torch.randn(len(types), 3, dtype=torch.float64, requires_grad=True)
    out = layer(x, type_vec)
    expected = per_row(layer, x, type_vec)
    torch.testing.assert_close(out, expected)
    if len(types):
        grad = torch.randn_like(out)
        got = torch.autograd.grad(out, (x, layer.weight), grad)
        want = torch.autograd.grad(expected, (x, layer.weight), grad)
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b)


def test_hetero_linear_leading_dims_lazy_and_state_dict():
    layer = HeteroLinear(-1, 4, num_types=2)
    assert set(layer.state_dict()) == {"weight", "bias"}
    x = torch.randn(2, 3, 5)
    type_vec = torch.tensor([[0, 1, 1], [1, 0, 0]])
    out = layer(x, type_vec)
    assert out.shape == (2, 3, 4) and layer.weight.shape == (2, 5, 4)
    flat = per_row(layer, x.reshape(-1, 5), type_vec.reshape(-1))
    torch.testing.assert_close(out.reshape(-1, 4), flat)
    lazy = HeteroLinear(-1, 4, num_types=2)
    lazy.load_state_dict(layer.state_dict())
    torch.testing.assert_close(lazy(x, type_vec), out)
    assert "bias" not in HeteroLinear(3, 4, 2, bias=False).state_dict()


def test_hetero_linear_lowered_equals_eager_with_gradients():
    torch.manual_seed(1)
    for is_sorted in (False, True):
        layer = HeteroLinear(3, 2, num_types=3, is_sorted=is_sorted)
        type_vec = torch.tensor([0, 0, 1, 2, 2, 2]) if is_sorted else \
            torch.tensor([2, 0, 1, 0, 2, 1])
        low = gfx.lower(gfx.capture(layer))
        x1 = torch.randn(6, 3, requires_grad=True)
        x2 = x1.detach().clone().requires_grad_()
        out1, out2 = layer(x1, type_vec), low(x2, type_vec)
        torch.testing.assert_close(out2, out1)
        out1.sum().backward()
        out2.sum().backward()
        torch.testing.assert_close(x2.grad, x1.grad)


def test_hetero_linear_errors():
    layer = HeteroLinear(3, 2, num_types=2)
    with pytest.raises(ValueError, match="HeteroLinear: 'x' must have in_channels=3"):
        layer(torch.randn(4, 5), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="'type_vec' must have shape"):
        layer(torch.randn(4, 3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(IndexError, match="'type_vec' contains type 2"):
        layer(torch.randn(2, 3), torch.tensor([0, 2]))
    with pytest.raises(TypeError, match="'type_vec' must hold integers"):
        layer(torch.randn(2, 3), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="not sorted"):
        HeteroLinear(3, 2, 2, is_sorted=True)(torch.randn(2, 3), torch.tensor([1, 0]))
    with pytest.raises(TypeError, match="unexpected arguments"):
        HeteroLinear(3, 2, 2, colour="red")


def test_hetero_dict_linear_per_type_maps():
    torch.manual_seed(2)
    layer = HeteroDictLinear({"a": 3, "b": 5}, 4)
    assert {k: tuple(v.shape) for k, v in layer.state_dict().items()} == {
        "lins.a.weight": (4, 3), "lins.a.bias": (4,),
        "lins.b.weight": (4, 5), "lins.b.bias": (4,)}
    x = {"a": torch.randn(2, 3), "b": torch.randn(6, 5)}
    out = layer(x)
    for key in x:
        lin = layer.lins[key]
        torch.testing.assert_close(out[key], x[key] @ lin.weight.t() + lin.bias)
    # Types without a map are left out; so are maps without input.
    assert set(layer({"a": x["a"], "zzz": torch.randn(1, 1)})) == {"a"}


def test_hetero_dict_linear_lazy_and_int_channels():
    layer = HeteroDictLinear(-1, 4, types=["a", "b"], bias=False)
    out = layer({"a": torch.randn(2, 3), "b": torch.randn(1, 6)})
    assert out["a"].shape == (2, 4) and layer.lins["b"].weight.shape == (4, 6)
    assert set(layer.state_dict()) == {"lins.a.weight", "lins.b.weight"}
    restored = pickle.loads(pickle.dumps(layer))
    torch.testing.assert_close(restored.lins["a"].weight, layer.lins["a"].weight)


def test_hetero_dict_linear_captures():
    layer = HeteroDictLinear({"a": 3, "b": 2}, 4)

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = layer

        def forward(self, xa, xb):
            out = self.lin({"a": xa, "b": xb})
            return out["a"].sum() + out["b"].sum()

    xa, xb = torch.randn(3, 3), torch.randn(2, 2)
    low = gfx.lower(gfx.capture(Wrap()))
    torch.testing.assert_close(low(xa, xb), Wrap()(xa, xb))


def test_hetero_dict_linear_errors():
    with pytest.raises(ValueError, match="'types' must be given"):
        HeteroDictLinear(3, 4)
    with pytest.raises(ValueError, match="without '.'"):
        HeteroDictLinear({"a.b": 3}, 4)
    layer = HeteroDictLinear({"a": 3}, 4)
    with pytest.raises(ValueError, match=r"HeteroDictLinear: x_dict\['a'\] must have 3"):
        layer({"a": torch.randn(2, 5)})
