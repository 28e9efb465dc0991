"""HeteroBatchNorm and HeteroLayerNorm against per-type loops written from the formulas."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn.norm import HeteroBatchNorm, HeteroLayerNorm

SETTINGS = dict(max_examples=10, deadline=None)


@st.composite
def typed_rows(draw, channels=3, max_types=4, max_rows=12):
    num_types = draw(st.integers(1, max_types))
    n = draw(st.integers(1, max_rows))
    types = draw(st.lists(st.integers(0, num_types - 1), min_size=n, max_size=n))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(n, channels, generator=g, dtype=torch.float64)
    return x, torch.tensor(types), num_types


def randomise(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p))
    return module


@settings(**SETTINGS)
@given(typed_rows(), st.sampled_from([0.1, None]))
def test_hetero_batch_norm_per_type_statistics(data, momentum):
    x, types, t = data
    norm = randomise(HeteroBatchNorm(3, t, momentum=momentum).double())
    expected = torch.empty_like(x)
    running_mean = torch.zeros(t, 3, dtype=x.dtype)
    running_var = torch.ones(t, 3, dtype=x.dtype)
    factor = 1.0 if momentum is None else momentum
    for k in range(t):
        rows = x[types == k]
        if rows.numel() == 0:
            continue
        mean = rows.mean(0)
        var = ((rows - mean) ** 2).mean(0)
        expected[types == k] = ((rows - mean) / var.clamp(min=1e-5).sqrt()
                                * norm.weight[k] + norm.bias[k])
        running_mean[k] = (1 - factor) * running_mean[k] + factor * mean
        running_var[k] = (1 - factor) * running_var[k] + factor * var
    torch.testing.assert_close(norm(x, types), expected)
    torch.testing.assert_close(norm.running_mean, running_mean)
    torch.testing.assert_close(norm.running_var, running_var)
    norm.eval()
    evaluated = ((x - running_mean[types]) / running_var[types].clamp(min=1e-5).sqrt()
                 * norm.weight[types] + norm.bias[types])
    torch.testing.assert_close(norm(x, types), evaluated)


def test_hetero_batch_norm_gradient_treats_statistics_as_constants():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, generator=g, dtype=torch.float64, requires_grad=True)
    types = torch.tensor([0, 1, 1, 0, 2, 2, 2])
    norm = HeteroBatchNorm(3, 3, affine=False, track_running_stats=False).double().eval()
    assert dict(norm.state_dict()) == {}
    seed = torch.randn(7, 3, generator=g, dtype=torch.float64)
    (norm(x, types) * seed).sum().backward()
    expected = torch.empty_like(x)
    for k in range(3):
        rows = x.detach()[types == k]
        var = ((rows - rows.mean(0)) ** 2).mean(0)
        expected[types == k] = seed[types == k] / var.clamp(min=1e-5).sqrt()
    torch.testing.assert_close(x.grad, expected)


def test_hetero_batch_norm_errors_and_repr():
    norm = HeteroBatchNorm(3, 2)
    assert str(norm) == "HeteroBatchNorm(3, num_types=2)"
    assert set(norm.state_dict()) == {"weight", "bias", "running_mean", "running_var",
                                      "num_batches_tracked"}
    with pytest.raises(ValueError, match="type_vec"):
        norm(torch.randn(3, 3), torch.tensor([0, 2, 1]))
    with pytest.raises(ValueError, match="type_vec"):
        norm(torch.randn(3, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="in_channels=3"):
        norm(torch.randn(3, 4), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="num_types"):
        HeteroBatchNorm(3, 0)


@settings(**SETTINGS)
@given(typed_rows())
def test_hetero_layer_norm_rows_with_type_affine(data):
    x, types, t = data
    norm = randomise(HeteroLayerNorm(3, t).double())
    mean = x.mean(1, keepdim=True)
    var = ((x - mean) ** 2).mean(1, keepdim=True)
    expected = (x - mean) / (var + 1e-5).sqrt() * norm.weight[types] + norm.bias[types]
    torch.testing.assert_close(norm(x, types), expected)
    order = torch.argsort(types, stable=True)
    counts = torch.bincount(types, minlength=t)
    ptr = [0] + counts.cumsum(0).tolist()
    torch.testing.assert_close(norm(x[order], type_ptr=ptr), expected[order])
    plain = HeteroLayerNorm(3, t, affine=False).double()
    torch.testing.assert_close(plain(x), (x - mean) / (var + 1e-5).sqrt())


def test_hetero_layer_norm_errors_and_repr():
    norm = HeteroLayerNorm(3, 2)
    assert str(norm) == "HeteroLayerNorm(3, num_types=2)"
    with pytest.raises(ValueError, match="'mode'"):
        HeteroLayerNorm(3, 2, mode="graph")
    with pytest.raises(ValueError, match="type_vec"):
        norm(torch.randn(2, 3))
    with pytest.raises(ValueError, match="type_ptr"):
        norm(torch.randn(2, 3), type_ptr=[0, 3, 2])


@pytest.mark.parametrize("momentum", [0.1, None])
def test_hetero_batch_norm_compiled_training_updates_running_stats(momentum):
    import gfx
    x, types = torch.randn(7, 3), torch.tensor([0, 1, 1, 0, 2, 2, 2])
    eager, captured = HeteroBatchNorm(3, 4, momentum=momentum), HeteroBatchNorm(3, 4,
                                                                              momentum=momentum)
    compiled = gfx.compile(captured, backend="cpp")
    for scale in (1.0, 2.0):
        torch.testing.assert_close(compiled(scale * x, types), eager(scale * x, types))
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(getattr(captured, name), getattr(eager, name))
