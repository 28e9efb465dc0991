"""Aggregation modules against explicit per-group loops, plus gradients, resolver and Multi.

The expectations walk the groups in Python and reduce each group's stacked members with
plain torch arithmetic (``sum``, ``prod``, ``torch.softmax`` over the stack, ...), never
with gfx.
"""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx.nn.aggr as aggr
from gfx.nn.aggr import AGGREGATIONS, Aggregation, aggregation_resolver, register_aggregation

EPS_STD = 1e-5


def _var(s):
    return ((s - s.mean(0)) ** 2).mean(0)


def _softmax(t):
    return lambda s: (torch.softmax(s * t, dim=0) * s).sum(0)


def _powermean(p):
    def group(s):
        return (s.clamp(1e-4, 100) ** p).mean(0).clamp(1e-4, 100) ** (1 / p)
    group.empty = 1e-4 ** (1 / p)
    return group


def _prod(s):
    return s.prod(0)


_prod.empty = 1.0  # the empty product


#: name -> (constructor, per-group reference on the stacked members [n, ...]).
CASES = {
    "sum": (aggr.SumAggregation, lambda s: s.sum(0)),
    "mean": (aggr.MeanAggregation, lambda s: s.mean(0)),
    "max": (aggr.MaxAggregation, lambda s: s.max(0).values),
    "min": (aggr.MinAggregation, lambda s: s.min(0).values),
    "mul": (aggr.MulAggregation, _prod),
    "var": (aggr.VarAggregation, _var),
    "std": (aggr.StdAggregation,
            lambda s: torch.where(_var(s) > EPS_STD, _var(s).sqrt(), torch.zeros_like(s[0]))),
    "softmax": (lambda: aggr.SoftmaxAggregation(t=0.7), _softmax(0.7)),
    "powermean": (lambda: aggr.PowerMeanAggregation(p=2.5), _powermean(2.5)),
}


def loop_reference(x, index, dim_size, dim, group_fn):
    """``out[g] = group_fn(stack of the members of g)`` along ``dim``; empty groups give
    ``group_fn.empty`` (0 when it has none)."""
    moved = x.movedim(dim, 0)
    ids = [int(i) for i in index]
    rows = []
    for g in range(dim_size):
        members = [moved[e] for e in range(len(ids)) if ids[e] == g]
        rows.append(group_fn(torch.stack(members)) if members else
                    moved.new_full(moved.shape[1:], getattr(group_fn, "empty", 0.0)))
    return torch.stack(rows).movedim(0, dim) if rows else moved.new_zeros((0,) + moved.shape[1:])


def sorted_layout(x, index, dim_size, dim=0):
    """``(x sorted by group along dim, sorted index, CSR ptr)``."""
    order = torch.argsort(index, stable=True)
    counts = torch.bincount(index, minlength=dim_size)
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    return x.index_select(dim, order), index[order], ptr


def make_data(seed, n=13, groups=6, features=3, positive=False):
    """Random float64 ``x`` and an ``index`` whose group 1 is empty."""
    g = torch.Generator().manual_seed(seed)
    index = torch.randint(0, groups, (n,), generator=g)
    index[index == 1] = 0
    index[-1] = groups - 1
    x = torch.randn(n, features, generator=g, dtype=torch.float64)
    return (x.abs() + 0.5 if positive else x), index, groups


@pytest.mark.parametrize("name", list(CASES))
def test_matches_loop_with_index_and_ptr(name):
    make, group_fn = CASES[name]
    x, index, groups = make_data(0, positive=name == "powermean")
    expected = loop_reference(x, index, groups, 0, group_fn)
    out = make()(x, index, dim_size=groups)
    torch.testing.assert_close(out, expected)
    empty = getattr(group_fn, "empty", 0.0)
    assert (out[1] == empty).all()  # the empty group
    x_sorted, index_sorted, ptr = sorted_layout(x, index, groups)
    torch.testing.assert_close(make()(x_sorted, ptr=ptr), expected)
    torch.testing.assert_close(make()(x_sorted, index_sorted, ptr=ptr, dim_size=groups), expected)
    torch.testing.assert_close(make()(x_sorted, index_sorted), expected)  # dim_size inferred


@pytest.mark.parametrize("name", list(CASES))
def test_single_group_without_index(name):
    make, group_fn = CASES[name]
    x, _, _ = make_data(1, positive=name == "powermean")
    expected = group_fn(x).unsqueeze(0)
    torch.testing.assert_close(make()(x), expected)
    padded = make()(x, dim_size=3)  # all elements in group 0, groups 1 and 2 empty
    torch.testing.assert_close(padded[:1], expected)
    assert padded.shape == (3, 3) and (padded[1:] == getattr(group_fn, "empty", 0.0)).all()


@pytest.mark.parametrize("name", list(CASES))
def test_dim_minus_two_on_batched_input(name):
    make, group_fn = CASES[name]
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 9, 4, generator=g, dtype=torch.float64)
    x = x.abs() + 0.5 if name == "powermean" else x
    index = torch.tensor([0, 3, 0, 2, 3, 3, 0, 2, 0])
    expected = loop_reference(x, index, 5, 1, group_fn)
    torch.testing.assert_close(make()(x, index, dim_size=5, dim=-2), expected)
    x_sorted, _, ptr = sorted_layout(x, index, 5, dim=1)
    torch.testing.assert_close(make()(x_sorted, ptr=ptr, dim=-2), expected)
    # Reducing the first axis instead (dim=0 of a [6, 2, 4] tensor).
    y = x.transpose(0, 1)[:6]
    expected0 = loop_reference(y, index[:6], 4, 0, group_fn)
    torch.testing.assert_close(make()(y, index[:6], dim_size=4, dim=0), expected0)


@given(n=st.integers(0, 12), groups=st.integers(1, 5), features=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16), name=st.sampled_from(sorted(CASES)))
def test_property_random_groups(n, groups, features, seed, name):
    make, group_fn = CASES[name]
    g = torch.Generator().manual_seed(seed)
    index = torch.randint(0, groups, (n,), generator=g)
    x = torch.randn(n, features, generator=g, dtype=torch.float64)
    if name == "powermean":
        x = x.abs() + 0.5
    expected = loop_reference(x, index, groups, 0, group_fn)
    torch.testing.assert_close(make()(x, index, dim_size=groups), expected)
    x_sorted, _, ptr = sorted_layout(x, index, groups)
    torch.testing.assert_close(make()(x_sorted, ptr=ptr), expected)


# -- gradients ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck(name):
    make, _ = CASES[name]
    x, index, groups = make_data(3, n=9, groups=4, positive=name == "powermean")
    module = make()
    x = x.requires_grad_()
    assert torch.autograd.gradcheck(lambda v: module(v, index, dim_size=groups), (x,))
    x_sorted, _, ptr = sorted_layout(x.detach(), index, groups)
    x_sorted.requires_grad_()
    assert torch.autograd.gradcheck(lambda v: module(v, ptr=ptr), (x_sorted,))


@pytest.mark.parametrize("module,param", [
    (aggr.SoftmaxAggregation(t=0.8, learn=True), "t"),
    (aggr.SoftmaxAggregation(t=[0.5, 2.0], learn=True, channels=3), "t"),
    (aggr.PowerMeanAggregation(p=1.5, learn=True), "p"),
    (aggr.PowerMeanAggregation(p=2.0, learn=True, channels=3), "p"),
])
def test_gradcheck_learnable_parameter(module, param):
    x, index, groups = make_data(4, n=9, groups=4, positive=True)
    module = module.double()
    value = getattr(module, param).detach().clone().requires_grad_()

    def run(v, p):
        return torch.func.functional_call(module, {param: p}, (v, index), {"dim_size": groups})
    assert torch.autograd.gradcheck(run, (x.requires_grad_(), value))


def test_learnable_parameters_registered_and_receive_gradients():
    x, index, groups = make_data(5, positive=True)
    modules = {
        "t": aggr.SoftmaxAggregation(learn=True, channels=3),
        "p": aggr.PowerMeanAggregation(p=2.0, learn=True),
    }
    for name, module in modules.items():
        assert [n for n, _ in module.named_parameters()] == [name]
        module(x.float(), index).pow(2).sum().backward()
        grad = getattr(module, name).grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    for mode, kw in [("proj", dict(in_channels=3, out_channels=5)),
                     ("attn", dict(in_channels=3, out_channels=4, num_heads=2))]:
        multi = aggr.MultiAggregation(["mean", "max", aggr.SoftmaxAggregation(learn=True)],
                                      mode=mode, mode_kwargs=kw)
        multi(x.float(), index).pow(2).sum().backward()
        for n, p in multi.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, n
    assert list(dict(aggr.SoftmaxAggregation(t=[1, 2], learn=True, channels=3)
                     .named_parameters())["t"].shape) == [2, 3]
    assert len(list(aggr.SoftmaxAggregation().parameters())) == 0


def test_reset_parameters_restores_initial_values():
    soft = aggr.SoftmaxAggregation(t=[0.5, 2.0], learn=True, channels=2)
    power = aggr.PowerMeanAggregation(p=3.0, learn=True)
    with torch.no_grad():
        soft.t.fill_(9.0)
        power.p.fill_(9.0)
    multi = aggr.MultiAggregation([soft, power])
    multi.reset_parameters()
    torch.testing.assert_close(soft.t.detach(), torch.tensor([[0.5, 0.5], [2.0, 2.0]]))
    torch.testing.assert_close(power.p.detach(), torch.tensor([3.0]))


def test_semi_grad_gradients():
    x, index, groups = make_data(6)
    mean_ref = loop_reference(x, index, groups, 0, lambda s: s.mean(0))
    for cls in (aggr.VarAggregation, aggr.StdAggregation):
        full, semi = cls()(x, index), cls(semi_grad=True)(x, index)
        torch.testing.assert_close(semi, full)
    # Var with semi_grad: the gradient of -mean(X)^2 only.
    xa = x.clone().requires_grad_()
    aggr.VarAggregation(semi_grad=True)(xa, index).sum().backward()
    xb = x.clone().requires_grad_()
    loop_reference(xb, index, groups, 0, lambda s: -s.mean(0) ** 2).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad)
    assert not torch.allclose(mean_ref, torch.zeros_like(mean_ref))
    # Softmax with semi_grad: the softmax weights are constants.
    xa = x.clone().requires_grad_()
    aggr.SoftmaxAggregation(t=2.0, semi_grad=True)(xa, index).sum().backward()
    xb = x.clone().requires_grad_()
    loop_reference(xb, index, groups, 0,
                   lambda s: (torch.softmax(2.0 * s, 0).detach() * s).sum(0)).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad)


def test_gradients_stay_finite_at_degenerate_groups():
    index = torch.tensor([0, 0, 1, 2, 2])
    x = torch.tensor([[0.0], [0.0], [3.0], [1.5], [1.5]], requires_grad=True)
    std = aggr.StdAggregation()(x, index, dim_size=4)  # zero variance everywhere
    std.sum().backward()
    assert torch.isfinite(x.grad).all() and std.abs().max() == 0
    x.grad = None
    power = aggr.PowerMeanAggregation(p=2.0, learn=True)
    out = power(x, index, dim_size=4)  # group 0 is all zeros, group 3 empty
    out.sum().backward()
    # clamp_min=1e-4: an all-zero group and an empty group give 1e-4 ** (1/2) = 0.01.
    torch.testing.assert_close(out.detach(), torch.tensor([[0.01], [3.0], [1.5], [0.01]]))
    assert torch.isfinite(x.grad).all() and torch.isfinite(power.p.grad).all()


def test_powermean_clamps_inputs_and_the_mean():
    # Written from the formula: clamp(mean(clamp(x, 1e-4, 100) ** p), 1e-4, 100) ** (1/p).
    x = torch.tensor([[50.0], [50.0], [-4.0], [2.0], [500.0]])
    out = aggr.PowerMeanAggregation(p=2.0)(x, torch.tensor([0, 0, 1, 1, 3]), dim_size=4)
    expected = torch.tensor([[10.0], [math.sqrt((1e-8 + 4.0) / 2)], [0.01], [10.0]])
    torch.testing.assert_close(out, expected)
    # A fixed p=1 is the plain mean: no clamping, and an empty group gives 0.
    out = aggr.PowerMeanAggregation()(x[2:], torch.tensor([0, 0, 2]), dim_size=3)
    torch.testing.assert_close(out, torch.tensor([[-1.0], [0.0], [500.0]]))
    # A learnable p clamps even at p=1.
    learned = aggr.PowerMeanAggregation(learn=True)(x[2:4], torch.tensor([0, 0]))
    torch.testing.assert_close(learned, torch.tensor([[(1e-4 + 2.0) / 2]]), atol=1e-6, rtol=0)


def test_softmax_temperature_limits_and_channels():
    x, index, groups = make_data(7)
    mean = loop_reference(x, index, groups, 0, lambda s: s.mean(0))
    big = loop_reference(x, index, groups, 0, lambda s: s.max(0).values)
    torch.testing.assert_close(aggr.SoftmaxAggregation(t=1e-9)(x, index), mean)
    torch.testing.assert_close(aggr.SoftmaxAggregation(t=1e4)(x, index), big)
    per_channel = aggr.SoftmaxAggregation(learn=True, channels=3).double()
    with torch.no_grad():
        per_channel.t.copy_(torch.tensor([0.5, 1.0, -2.0]))
    out = per_channel(x, index)
    for c, t in enumerate([0.5, 1.0, -2.0]):
        torch.testing.assert_close(out[:, c:c + 1],
                                   loop_reference(x[:, c:c + 1], index, groups, 0, _softmax(t)))


def test_softmax_multiple_temperatures_concatenate():
    x, index, groups = make_data(8)
    module = aggr.SoftmaxAggregation(t=[0.1, 1.0, 5.0])
    out = module(x, index)
    expected = torch.cat([loop_reference(x, index, groups, 0, _softmax(t))
                          for t in (0.1, 1.0, 5.0)], dim=-1)
    torch.testing.assert_close(out, expected)
    assert module.get_out_channels(3) == 9 == out.shape[-1]
    with pytest.raises(ValueError, match="last axis"):
        module(torch.randn(5), torch.tensor([0, 0, 1, 1, 1]), dim=0)


# -- MultiAggregation ---------------------------------------------------------------------

MULTI_PARTS = ["mean", "max", "sum"]


def multi_parts_reference(x, index, groups):
    return [loop_reference(x, index, groups, 0, CASES[name][1]) for name in MULTI_PARTS]


@pytest.mark.parametrize("mode,combine", [
    ("cat", lambda s: torch.cat(list(s), dim=-1)),
    ("sum", lambda s: s[0] + s[1] + s[2]),
    ("mean", lambda s: (s[0] + s[1] + s[2]) / 3),
    ("max", lambda s: torch.maximum(torch.maximum(s[0], s[1]), s[2])),
    ("min", lambda s: torch.minimum(torch.minimum(s[0], s[1]), s[2])),
    ("logsumexp", lambda s: (s[0].exp() + s[1].exp() + s[2].exp()).log()),
    ("var", lambda s: sum((h - s.mean(0)) ** 2 for h in s) / 2),
    ("std", lambda s: (sum((h - s.mean(0)) ** 2 for h in s) / 2).sqrt()),
])
def test_multi_parameter_free_modes(mode, combine):
    x, index, groups = make_data(9, n=20, groups=4)
    index[index == 1] = 2  # no empty group: the std of three zeros has no gradient
    multi = aggr.MultiAggregation(MULTI_PARTS, mode=mode)
    expected = combine(torch.stack(multi_parts_reference(x, index, groups)))
    torch.testing.assert_close(multi(x, index, dim_size=groups), expected)
    x_sorted, _, ptr = sorted_layout(x, index, groups)
    torch.testing.assert_close(multi(x_sorted, ptr=ptr), expected)
    assert multi.get_out_channels(3) == (9 if mode == "cat" else 3)
    assert torch.autograd.gradcheck(lambda v: multi(v, index, dim_size=groups),
                                    (x.requires_grad_(),))


def test_multi_proj_is_a_linear_map_of_the_concatenation():
    x, index, groups = make_data(10)
    multi = aggr.MultiAggregation(MULTI_PARTS, mode="proj",
                                  mode_kwargs=dict(in_channels=3, out_channels=5)).double()
    cat = torch.cat(multi_parts_reference(x, index, groups), dim=-1)
    expected = cat @ multi.lin.weight.detach().t() + multi.lin.bias.detach()
    torch.testing.assert_close(multi(x, index), expected)
    assert multi.get_out_channels(3) == 5 and multi.lin.weight.shape == (5, 9)


def attention_reference(multi, heads_in, num_heads):
    """Self-attention over the A aggregation outputs of one group, averaged over A."""
    attn = multi.multihead_attn
    h = torch.stack([lin.weight.detach() @ v + lin.bias.detach()
                     for lin, v in zip(multi.lin_heads, heads_in)])  # [A, C]
    w_q, w_k, w_v = attn.in_proj_weight.detach().chunk(3)
    b_q, b_k, b_v = attn.in_proj_bias.detach().chunk(3)
    q, k, v = h @ w_q.t() + b_q, h @ w_k.t() + b_k, h @ w_v.t() + b_v
    d = h.shape[1] // num_heads
    per_head = []
    for j in range(num_heads):
        cols = slice(j * d, (j + 1) * d)
        weights = torch.softmax(q[:, cols] @ k[:, cols].t() / math.sqrt(d), dim=-1)
        per_head.append(weights @ v[:, cols])
    out = torch.cat(per_head, dim=1) @ attn.out_proj.weight.detach().t() + attn.out_proj.bias
    return out.detach().mean(0)


def test_multi_attn_matches_explicit_attention():
    x, index, groups = make_data(11)
    x = torch.stack([x, 2 * x])  # [2, N, 3], aggregated along dim=-2
    multi = aggr.MultiAggregation(MULTI_PARTS, mode="attn", mode_kwargs=dict(
        in_channels=3, out_channels=4, num_heads=2)).double().eval()
    out = multi(x, index, dim_size=groups)
    assert out.shape == (2, groups, 4) and multi.get_out_channels(3) == 4
    for b in range(2):
        parts = multi_parts_reference(x[b], index, groups)
        for g in range(groups):
            torch.testing.assert_close(out[b, g], attention_reference(
                multi, [p[g] for p in parts], 2))


def test_multi_get_out_channels_and_in_channels():
    soft2 = aggr.SoftmaxAggregation(t=[1.0, 2.0])
    assert aggr.MultiAggregation(["mean", soft2]).get_out_channels(4) == 12
    proj = aggr.MultiAggregation(["mean", soft2], mode="proj",
                                 mode_kwargs=dict(in_channels=4, out_channels=6, bias=False))
    assert proj.in_channels == [4, 8] and proj.lin.weight.shape == (6, 12) and proj.lin.bias is None
    x, index, _ = make_data(12, features=4)
    assert proj(x.float(), index).shape == (6, 6)
    tuple_in = aggr.MultiAggregation(["mean", "max"], mode="attn", mode_kwargs=dict(
        in_channels=(4, 4), out_channels=8, num_heads=4, dropout=0.25))
    assert tuple_in.multihead_attn.dropout == 0.25
    with pytest.raises(ValueError, match="needs equal output sizes"):
        aggr.MultiAggregation(["mean", soft2], mode="sum").get_out_channels(4)
    with pytest.raises(ValueError, match="outputs of one shape"):
        aggr.MultiAggregation(["mean", soft2], mode="sum")(x, index)


def test_multi_errors():
    with pytest.raises(ValueError, match="unknown mode 'concat'.*cat, proj, attn"):
        aggr.MultiAggregation(["mean"], mode="concat")
    with pytest.raises(ValueError, match=r"needs \['out_channels'\]"):
        aggr.MultiAggregation(["mean"], mode="proj", mode_kwargs=dict(in_channels=3))
    with pytest.raises(ValueError, match=r"needs \['num_heads'\]"):
        aggr.MultiAggregation(["mean"], mode="attn",
                              mode_kwargs=dict(in_channels=3, out_channels=4))
    with pytest.raises(ValueError, match="only used by mode 'proj' and 'attn'"):
        aggr.MultiAggregation(["mean"], mode_kwargs=dict(in_channels=3))
    with pytest.raises(ValueError, match="at least two aggregations"):
        aggr.MultiAggregation(["mean"], mode="std")
    with pytest.raises(ValueError, match="must not be empty"):
        aggr.MultiAggregation([])
    with pytest.raises(ValueError, match="'aggrs_kwargs' has 2 entries but 'aggrs' has 1"):
        aggr.MultiAggregation(["mean"], aggrs_kwargs=[{}, {}])
    with pytest.raises(ValueError, match="'in_channels' lists 1 sizes"):
        aggr.MultiAggregation(["mean", "max"], mode="proj",
                              mode_kwargs=dict(in_channels=[3], out_channels=4))
    with pytest.raises(ValueError, match="last \\(feature\\) axis"):
        aggr.MultiAggregation(["mean", "max"])(torch.randn(4), torch.tensor([0, 0, 1, 1]), dim=0)


# -- validation --------------------------------------------------------------------------

def test_call_errors_name_the_problem():
    sum_aggr = aggr.SumAggregation()
    x = torch.randn(5, 3)
    index = torch.tensor([0, 0, 1, 2, 2])
    with pytest.raises(ValueError, match=r"dim_size=2 is smaller than index.max\(\) \+ 1 = 3"):
        sum_aggr(x, index, dim_size=2)
    with pytest.raises(ValueError, match="'index' has 4 entries but 'x' has 5"):
        sum_aggr(x, index[:4])
    with pytest.raises(ValueError, match=r"dim=2 is invalid.*2 dimensions"):
        sum_aggr(x, index, dim=2)
    with pytest.raises(ValueError, match="'ptr' ends at 4 but 'x' has 5"):
        sum_aggr(x, ptr=torch.tensor([0, 2, 4]))
    with pytest.raises(ValueError, match="dim_size=3 but 'ptr' has 3 entries"):
        sum_aggr(x, ptr=torch.tensor([0, 2, 5]), dim_size=3)
    with pytest.raises(TypeError, match="'index' must be int64 or int32"):
        sum_aggr(x, index.float())
    with pytest.raises(ValueError, match="'index' must be 1-D"):
        sum_aggr(x, index.view(1, 5))
    with pytest.raises(ValueError, match="scalar"):
        sum_aggr(torch.tensor(1.0))
    with pytest.raises(ValueError, match="smaller than 1"):
        sum_aggr(x, dim_size=0)
    with pytest.raises(ValueError, match="channels=3 but 'x' has 4 features"):
        aggr.SoftmaxAggregation(learn=True, channels=3)(torch.randn(5, 4), index)
    with pytest.raises(TypeError, match="Can't instantiate abstract class"):
        Aggregation()


def test_constructor_errors():
    with pytest.raises(ValueError, match="channels > 1 needs learn=True"):
        aggr.SoftmaxAggregation(channels=2)
    with pytest.raises(ValueError, match="semi_grad=True cannot be combined"):
        aggr.SoftmaxAggregation(learn=True, semi_grad=True)
    with pytest.raises(ValueError, match="at least one temperature"):
        aggr.SoftmaxAggregation(t=[])
    with pytest.raises(ValueError, match="channels > 1 needs learn=True"):
        aggr.PowerMeanAggregation(channels=2)
    with pytest.raises(ValueError, match="'p' must be non-zero"):
        aggr.PowerMeanAggregation(p=0.0)


def test_empty_input_and_int32_index():
    out = aggr.MeanAggregation()(torch.randn(0, 4), torch.zeros(0, dtype=torch.long), dim_size=3)
    assert out.shape == (3, 4) and out.abs().max() == 0
    x = torch.randn(4, 2)
    torch.testing.assert_close(aggr.SumAggregation()(x, torch.tensor([1, 0, 1, 1],
                                                                     dtype=torch.int32)),
                               torch.stack([x[1], x[0] + x[2] + x[3]]))


def test_primitive_reduce_and_repr():
    expected = {"sum": "sum", "mean": "mean", "max": "max", "min": "min"}
    for name, (make, _) in CASES.items():
        assert make().primitive_reduce == expected.get(name), name
    assert aggr.MultiAggregation(["sum"]).primitive_reduce is None

    class Doubled(aggr.SumAggregation):
        def forward(self, x, index=None, ptr=None, dim_size=None, dim=-2):
            return 2 * super().forward(x, index, ptr, dim_size, dim)

    class Renamed(aggr.SumAggregation):
        pass

    assert Doubled.primitive_reduce is None and Renamed.primitive_reduce == "sum"
    assert repr(aggr.MeanAggregation()) == "MeanAggregation()"
    assert repr(aggr.SoftmaxAggregation(learn=True)) == "SoftmaxAggregation(learn=True)"
    assert repr(aggr.PowerMeanAggregation(p=3.0)) == "PowerMeanAggregation(learn=False)"
    assert repr(aggr.MultiAggregation(["mean", "std"])) == \
        "MultiAggregation([\n  MeanAggregation(),\n  StdAggregation(),\n], mode=cat)"


def test_fx_leaf_call_is_recorded_unchanged():
    class Readout(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.pool = aggr.MaxAggregation()

        def forward(self, x, batch):
            return self.pool(x, batch) + 1

    class LeafTracer(torch.fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return isinstance(m, Aggregation) or super().is_leaf_module(m, qualname)

    model = Readout()
    graph = LeafTracer().trace(model)
    traced = torch.fx.GraphModule(model, graph)
    assert [n.target for n in graph.nodes if n.op == "call_module"] == ["pool"]
    x, batch = torch.randn(6, 2), torch.tensor([0, 0, 1, 1, 1, 2])
    torch.testing.assert_close(traced(x, batch), model(x, batch))


TRACEABLE = [
    aggr.SumAggregation(), aggr.MulAggregation(), aggr.VarAggregation(),
    aggr.StdAggregation(semi_grad=True), aggr.SoftmaxAggregation(t=[1.0, 2.0]),
    aggr.SoftmaxAggregation(learn=True, channels=4), aggr.PowerMeanAggregation(learn=True),
    aggr.MultiAggregation(["mean", "std"], mode="std"),
    aggr.MultiAggregation(["mean", "max"], mode="attn",
                          mode_kwargs=dict(in_channels=4, out_channels=4, num_heads=2)),
]


@pytest.mark.parametrize("module", TRACEABLE, ids=lambda m: repr(m).split("(")[0])
@pytest.mark.parametrize("layout", ["index", "ptr"])
def test_forward_is_fx_traceable(module, layout):
    # Lowering traces through forward (not as a leaf): no control flow on traced values.
    class Wrapper(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.aggr = module

        def forward(self, x, groups):
            if layout == "index":
                return self.aggr(x, groups, dim_size=5)
            return self.aggr(x, ptr=groups, dim_size=5)

    wrapper = Wrapper().eval()
    traced = torch.fx.symbolic_trace(wrapper)
    assert not [n for n in traced.graph.nodes if n.op == "call_module" and n.target == "aggr"]
    x = torch.rand(8, 4) + 0.5
    groups = torch.tensor([0, 0, 1, 1, 1, 3, 4, 4]) if layout == "index" \
        else torch.tensor([0, 2, 5, 5, 6, 8])
    torch.testing.assert_close(traced(x, groups), wrapper(x, groups))


# -- resolver and registry ---------------------------------------------------------------

def test_resolver_names_aliases_and_classes():
    for query, cls in [("sum", aggr.SumAggregation), ("add", aggr.SumAggregation),
                       ("ADD", aggr.SumAggregation), ("Mean", aggr.MeanAggregation),
                       ("max", aggr.MaxAggregation), ("min", aggr.MinAggregation),
                       ("mul", aggr.MulAggregation), ("var", aggr.VarAggregation),
                       ("std", aggr.StdAggregation), ("softmax", aggr.SoftmaxAggregation),
                       ("PowerMean", aggr.PowerMeanAggregation),
                       ("SumAggregation", aggr.SumAggregation),
                       ("powermeanaggregation", aggr.PowerMeanAggregation),
                       (aggr.StdAggregation, aggr.StdAggregation)]:
        assert type(aggregation_resolver(query)) is cls, query
    soft = aggregation_resolver("softmax", t=0.3, learn=True)
    assert soft.learn and soft.t.item() == pytest.approx(0.3)
    instance = aggr.MaxAggregation()
    assert aggregation_resolver(instance) is instance
    with pytest.raises(TypeError, match="together with constructor arguments"):
        aggregation_resolver(instance, semi_grad=True)
    with pytest.raises(TypeError, match="got int"):
        aggregation_resolver(3)


def test_resolver_list_gives_multi():
    multi = aggregation_resolver(["mean", "max", aggr.StdAggregation()], mode="sum")
    assert isinstance(multi, aggr.MultiAggregation) and multi.mode == "sum"
    assert [type(a).__name__ for a in multi.aggrs] == \
        ["MeanAggregation", "MaxAggregation", "StdAggregation"]
    multi = aggregation_resolver(["softmax", "powermean"],
                                 aggrs_kwargs=[dict(learn=True), dict(p=2.0)])
    assert multi.aggrs[0].learn and multi.aggrs[1].p == 2.0


def test_resolver_typo_lists_every_name():
    with pytest.raises(ValueError) as info:
        aggregation_resolver("meen")
    message = str(info.value)
    assert "'meen'" in message
    for name in ["sum", "add", "mean", "max", "min", "mul", "var", "std", "softmax",
                 "powermean", "multi", "SumAggregation", "PowerMeanAggregation"]:
        assert name in message, name


def test_registry_refuses_duplicates():
    before = dict(AGGREGATIONS)

    class Again(aggr.SumAggregation):
        pass

    with pytest.raises(ValueError, match="'sum' -> SumAggregation"):
        register_aggregation("sum")(Again)
    with pytest.raises(TypeError, match="not an Aggregation subclass"):
        register_aggregation("module")(torch.nn.Linear)
    assert AGGREGATIONS == before
    try:
        register_aggregation("again_sum")(Again)
        assert type(aggregation_resolver("AGAIN_SUM")) is Again
        assert type(aggregation_resolver("again")) is Again  # the class name
    finally:
        AGGREGATIONS.pop("again_sum", None)
        AGGREGATIONS.pop("again", None)
    assert AGGREGATIONS == before
