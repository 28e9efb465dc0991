"""Every aggregation against the reference library's class of the same name (black box).

Parameters are copied from ours into theirs; outputs, input gradients and parameter
gradients must agree, with ``index`` (unsorted) and with CSR ``ptr`` (sorted input).
Where the two differ by design, the comparison is restricted to inputs on which the
semantics agree, and a comment says why.
"""
import pytest
import torch

torch_geometric = pytest.importorskip("torch_geometric")

from torch_geometric.nn import aggr as ref_aggr  # noqa: E402

import gfx.nn.aggr as aggr  # noqa: E402

TOL = dict(atol=1e-9, rtol=1e-7)


def random_groups(seed, num_elements=24, num_groups=7, features=4, low=None, high=None):
    """Float64 ``x``, an unsorted ``index`` that leaves group 2 empty, and the sorted form.

    Returns ``(x, index, x_sorted, ptr, num_groups)``.
    """
    g = torch.Generator().manual_seed(seed)
    index = torch.randint(0, num_groups, (num_elements,), generator=g)
    index[index == 2] = 3
    index[-1] = num_groups - 1
    if low is None:
        x = torch.randn(num_elements, features, generator=g, dtype=torch.float64)
    else:
        x = low + (high - low) * torch.rand(num_elements, features, generator=g,
                                            dtype=torch.float64)
    order = torch.argsort(index, stable=True)
    counts = torch.bincount(index, minlength=num_groups)
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    return x, index, x[order], ptr, num_groups


def copy_parameters(ours, theirs, rename=lambda name: name):
    """Copy every parameter of ``ours`` into ``theirs`` (names mapped by ``rename``)."""
    theirs_params = dict(theirs.named_parameters())
    assert len(theirs_params) == len(list(ours.parameters()))
    with torch.no_grad():
        for name, p in ours.named_parameters():
            theirs_params[rename(name)].copy_(p)
    return theirs_params


def compare(ours, theirs, x, group_args, rename=lambda name: name, rows=slice(None),
            their_args=None):
    """Same output (on ``rows``), same gradient for ``x`` and for every parameter."""
    ours, theirs = ours.double(), theirs.double()
    theirs_params = copy_parameters(ours, theirs, rename)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_a, out_b = ours(xa, **group_args), theirs(xb, **(their_args or group_args))
    torch.testing.assert_close(out_a[rows], out_b[rows], **TOL)
    grad = torch.randn(out_a.shape, dtype=out_a.dtype, generator=torch.Generator().manual_seed(1))
    out_a.backward(grad)
    out_b.backward(grad)
    torch.testing.assert_close(xa.grad, xb.grad, **TOL)
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, theirs_params[rename(name)].grad, **TOL, msg=name)
        theirs_params[rename(name)].grad = None
        p.grad = None


def both_layouts(ours, theirs, seed=0, rename=lambda name: name, nonempty_only=False, **data):
    x, index, x_sorted, ptr, num_groups = random_groups(seed, **data)
    rows = ptr[1:] > ptr[:-1] if nonempty_only else slice(None)
    compare(ours, theirs, x, dict(index=index, dim_size=num_groups), rename, rows)
    # The reference's MulAggregation accepts no ptr: give it the sorted index instead.
    sorted_index = dict(index=torch.sort(index).values, dim_size=num_groups)
    compare(ours, theirs, x_sorted, dict(ptr=ptr), rename, rows,
            sorted_index if isinstance(ours, aggr.MulAggregation) else None)


SIMPLE = ["Sum", "Mean", "Max", "Min", "Mul"]


@pytest.mark.parametrize("name", SIMPLE)
def test_simple(name):
    # Empty groups included: 0 for the others, the empty product 1 for Mul.
    cls = f"{name}Aggregation"
    both_layouts(getattr(aggr, cls)(), getattr(ref_aggr, cls)())


@pytest.mark.parametrize("semi_grad", [False, True])
@pytest.mark.parametrize("name", ["Var", "Std"])
def test_var_std(name, semi_grad):
    # Our variance is computed in two passes, theirs as E[x^2] - E[x]^2: same value up to
    # rounding on these well-scaled inputs, same gradient in both semi_grad settings.
    cls = f"{name}Aggregation"
    both_layouts(getattr(aggr, cls)(semi_grad=semi_grad),
                 getattr(ref_aggr, cls)(semi_grad=semi_grad), seed=3)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(t=0.3), dict(t=2.0, semi_grad=True), dict(t=0.7, learn=True),
    dict(t=1.5, learn=True, channels=4)])
def test_softmax(kwargs):
    both_layouts(aggr.SoftmaxAggregation(**kwargs), ref_aggr.SoftmaxAggregation(**kwargs), seed=5)


def test_softmax_multiple_temperatures_match_one_reference_per_temperature():
    # Several temperatures are our extension: the reference takes one t, so compare each
    # block of the concatenated output with the reference at that temperature.
    x, index, _, _, num_groups = random_groups(7)
    ours = aggr.SoftmaxAggregation(t=[0.5, 3.0])(x, index, dim_size=num_groups)
    for block, t in enumerate([0.5, 3.0]):
        expected = ref_aggr.SoftmaxAggregation(t=t)(x, index, dim_size=num_groups)
        torch.testing.assert_close(ours[:, 4 * block:4 * (block + 1)], expected, **TOL)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(p=2.5), dict(p=0.5), dict(p=1.7, learn=True),
    dict(p=3.0, learn=True, channels=4)])
def test_powermean(kwargs):
    # Inputs span negative values, [0, 1e-4] and values past 100, and groups may be empty:
    # every clamp of the reference's semantics is exercised.
    ours = aggr.PowerMeanAggregation(**kwargs)
    theirs = ref_aggr.PowerMeanAggregation(**kwargs)
    assert str(ours) == str(theirs)
    both_layouts(ours, theirs, seed=11, low=-2.0, high=150.0)


@pytest.mark.parametrize("mode", ["cat", "sum", "mean", "max", "min", "logsumexp", "std", "var"])
def test_multi_parameter_free_modes(mode):
    # No ties between the stacked outputs (mean < max, softmax strictly between on groups
    # of two or more, and single-element groups are avoided by the data), so max/min
    # route the gradient the same way as the reference does.
    names = ["mean", "max", "sum"]
    ours = aggr.MultiAggregation(names, mode=mode)
    theirs = ref_aggr.MultiAggregation(names, mode=mode)
    x, index, x_sorted, ptr, num_groups = random_groups(13, num_elements=40, num_groups=4)
    index[index == 2] = 0  # no empty group either: all three would give 0 there
    compare(ours, theirs, x, dict(index=index, dim_size=num_groups))
    assert ours.get_out_channels(4) == theirs.get_out_channels(4)


def test_multi_proj():
    kwargs = dict(mode="proj", mode_kwargs=dict(in_channels=4, out_channels=6))
    ours = aggr.MultiAggregation(["mean", "max", aggr.SoftmaxAggregation(learn=True)], **kwargs)
    theirs = ref_aggr.MultiAggregation(
        ["mean", "max", ref_aggr.SoftmaxAggregation(learn=True)], **kwargs)
    both_layouts(ours, theirs, seed=17)
    assert ours.get_out_channels(4) == theirs.get_out_channels(4) == 6


def _attn_name(name):
    # The reference keeps its per-aggregation maps in lin_heads.lins.<i>; ours in lin_heads.<i>.
    parts = name.split(".")
    return ".".join(["lin_heads", "lins"] + parts[1:]) if parts[0] == "lin_heads" else name


def test_multi_attn():
    kwargs = dict(mode="attn", mode_kwargs=dict(in_channels=4, out_channels=8, num_heads=2))
    ours = aggr.MultiAggregation(["mean", "max", "std"], **kwargs).eval()
    theirs = ref_aggr.MultiAggregation(["mean", "max", "std"], **kwargs).eval()
    both_layouts(ours, theirs, seed=19, rename=_attn_name)
    assert ours.get_out_channels(4) == theirs.get_out_channels(4) == 8


def test_resolver_agrees_on_names():
    from torch_geometric.nn.resolver import aggregation_resolver as ref_resolver

    for name in ["sum", "add", "mean", "max", "min", "mul", "var", "std", "softmax",
                 "powermean", "SumAggregation", "MEAN"]:
        assert type(aggr.aggregation_resolver(name)).__name__ == \
            type(ref_resolver(name)).__name__, name
