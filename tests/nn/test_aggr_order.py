"""Order-statistic and sequence aggregations against per-group loops written from the
formulas: Quantile/Median, Sort, VariancePreserving, LSTM, GRU, LCM, MLP.

Every case draws groups with hypothesis (empty groups, single elements, unsorted
``index``), checks the ``index`` form against the loop, and the CSR ``ptr`` form of the
sorted input against the ``index`` form.
"""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gfx.nn.aggr as aggr
from gfx.nn.aggr import aggregation_resolver

from .aggr_groups import grouped, largest_group, members, padded, sorted_form

SETTINGS = dict(max_examples=10, deadline=None)


def check_ptr_form(module, x, index, num_groups, **kwargs):
    xs, _, ptr = sorted_form(x, index, num_groups)
    by_index = module(xs, torch.sort(index, stable=True).values, dim_size=num_groups, **kwargs)
    by_ptr = module(xs, ptr=ptr, **kwargs)
    torch.testing.assert_close(by_ptr, by_index)


def quantile_loop(x, index, num_groups, q, interpolation, fill=0.0):
    out = torch.full((num_groups, x.size(1)), fill, dtype=x.dtype)
    for g in range(num_groups):
        rows = members(x, index, g)
        n = rows.size(0)
        if n == 0:
            continue
        for f in range(x.size(1)):
            v = sorted(rows[:, f].tolist())
            p = q * (n - 1)
            i, j = math.floor(p), math.ceil(p)
            out[g, f] = {"linear": v[i] + (v[j] - v[i]) * (p - i), "lower": v[i],
                         "higher": v[j], "nearest": v[round(p)],
                         "midpoint": (v[i] + v[j]) / 2}[interpolation]
    return out


@settings(**SETTINGS)
@given(grouped(), st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]), min_size=1,
                           max_size=3),
       st.sampled_from(["linear", "lower", "higher", "nearest", "midpoint"]))
def test_quantile_matches_sorted_values(data, qs, interpolation):
    x, index, b = data
    module = aggr.QuantileAggregation(qs, interpolation=interpolation, fill_value=-3.0)
    expected = torch.cat([quantile_loop(x, index, b, q, interpolation, -3.0) for q in qs], 1)
    torch.testing.assert_close(module(x, index, dim_size=b), expected)
    check_ptr_form(module, x, index, b)
    assert module.get_out_channels(3) == 3 * len(qs)


@settings(**SETTINGS)
@given(grouped())
def test_median_is_the_lower_median(data):
    x, index, b = data
    expected = torch.zeros(b, x.size(1), dtype=x.dtype)
    for g in range(b):
        rows = members(x, index, g)
        if rows.numel():
            expected[g] = rows.median(dim=0).values
    torch.testing.assert_close(aggr.MedianAggregation()(x, index, dim_size=b), expected)
    assert str(aggr.MedianAggregation()) == "MedianAggregation()"
    assert str(aggr.QuantileAggregation([0.2, 0.5])) == "QuantileAggregation(q=[0.2, 0.5])"


def test_quantile_along_a_middle_axis_and_gradcheck():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    index = torch.tensor([1, 0, 1, 1, 0])
    module = aggr.QuantileAggregation(0.3)
    out = module(x, index, dim=1)
    for batch in range(2):
        torch.testing.assert_close(out[batch], quantile_loop(x[batch].detach(), index, 2, 0.3,
                                                             "linear"))
    torch.autograd.gradcheck(lambda t: module(t, index, dim=1), (x,))


def test_quantile_rejects_bad_arguments():
    with pytest.raises(ValueError, match="'q'"):
        aggr.QuantileAggregation(1.5)
    with pytest.raises(ValueError, match="'q'"):
        aggr.QuantileAggregation([])
    with pytest.raises(ValueError, match="'interpolation'"):
        aggr.QuantileAggregation(0.5, interpolation="cubic")


@settings(**SETTINGS)
@given(grouped())
def test_variance_preserving_is_sum_over_root_size(data):
    x, index, b = data
    expected = torch.zeros(b, x.size(1), dtype=x.dtype)
    for g in range(b):
        rows = members(x, index, g)
        if rows.numel():
            expected[g] = rows.sum(0) / math.sqrt(rows.size(0))
    module = aggr.VariancePreservingAggregation()
    torch.testing.assert_close(module(x, index, dim_size=b), expected)
    check_ptr_form(module, x, index, b)


@settings(**SETTINGS)
@given(grouped(), st.integers(1, 4))
def test_sort_keeps_the_k_largest_by_last_channel(data, k):
    x, index, b = data
    expected = torch.zeros(b, k * x.size(1), dtype=x.dtype)
    for g in range(b):
        rows = members(x, index, g)
        order = sorted(range(rows.size(0)), key=lambda i: -float(rows[i, -1]))[:k]
        kept = padded(rows[order], k, x.size(1))
        expected[g] = kept.reshape(-1)
    module = aggr.SortAggregation(k)
    torch.testing.assert_close(module(x, index, dim_size=b), expected)
    check_ptr_form(module, x, index, b)
    assert module.get_out_channels(3) == 3 * k


def test_sort_gradcheck_and_errors():
    x = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    index = torch.tensor([0, 0, 1, 1, 1, 0])
    torch.autograd.gradcheck(lambda t: aggr.SortAggregation(2)(t, index), (x,))
    with pytest.raises(ValueError, match="'k'"):
        aggr.SortAggregation(0)
    with pytest.raises(ValueError, match="2-D 'x'"):
        aggr.SortAggregation(2)(torch.randn(2, 6, 2), index, dim=1)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@settings(**SETTINGS)
@given(data=grouped())
def test_recurrent_reads_zero_padded_sequences(kind, data):
    x, index, b = data
    module = (aggr.LSTMAggregation if kind == "lstm" else aggr.GRUAggregation)(3, 4).double()
    network = getattr(module, kind)
    width = largest_group(index, b)
    expected = torch.zeros(b, 4, dtype=x.dtype)
    for g in range(b):
        seq = padded(members(x, index, g), width, 3)
        expected[g] = network(seq.unsqueeze(0))[0][0, -1]
    torch.testing.assert_close(module(x, index, dim_size=b), expected)
    check_ptr_form(module, x, index, b)


def test_recurrent_repr_state_and_errors():
    module = aggr.LSTMAggregation(3, 4, num_layers=2)
    assert str(module) == "LSTMAggregation(3, 4)"
    assert "lstm.weight_ih_l1" in module.state_dict()
    assert str(aggr.GRUAggregation(2, 5)) == "GRUAggregation(2, 5)"
    with pytest.raises(ValueError, match="'out_channels'"):
        aggr.GRUAggregation(3, 0)
    with pytest.raises(ValueError, match="bidirectional"):
        aggr.LSTMAggregation(3, 4, bidirectional=True)


def lcm_loop(module, rows, width):
    """The binary tree of the symmetrised GRU operator over zero-padded ``rows``."""
    cell = module.gru_cell

    def op(a, b):
        return 0.5 * (cell(a[None], b[None])[0] + cell(b[None], a[None])[0])

    level = list(padded(rows, width, rows.size(1)))
    while len(level) > 1:
        nxt = [op(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2 == 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]


@settings(**SETTINGS)
@given(grouped(), st.booleans())
def test_lcm_tree_of_symmetrised_gru(data, project):
    x, index, b = data
    module = aggr.LCMAggregation(3, 4 if project else 3, project=project).double()
    h = torch.relu(module.lin(x)) if project else x
    width = largest_group(index, b)
    expected = torch.stack([lcm_loop(module, members(h, index, g), width) for g in range(b)])
    torch.testing.assert_close(module(x, index, dim_size=b), expected)
    check_ptr_form(module, x, index, b)


def test_lcm_errors_and_repr():
    with pytest.raises(ValueError, match="project=True"):
        aggr.LCMAggregation(3, 4, project=False)
    assert str(aggr.LCMAggregation(3, 4)) == "LCMAggregation(3, 4, project=True)"


@settings(**SETTINGS)
@given(grouped(max_elements=8))
def test_mlp_aggregation_flattens_padded_groups(data):
    x, index, b = data
    module = aggr.MLPAggregation(3, 2, max_num_elements=8, num_layers=1).double()
    lin = module.mlp.lins[0]
    expected = torch.stack([lin(padded(members(x, index, g), 8, 3).reshape(-1))
                            for g in range(b)])
    torch.testing.assert_close(module(x, index, dim_size=b), expected)
    check_ptr_form(module, x, index, b)


def test_mlp_aggregation_rejects_oversized_groups():
    module = aggr.MLPAggregation(3, 2, max_num_elements=2, num_layers=1)
    assert str(module) == "MLPAggregation(3, 2, max_num_elements=2)"
    with pytest.raises(ValueError, match="max_num_elements=2"):
        module(torch.randn(3, 3), torch.tensor([0, 0, 0]))
    with pytest.raises(ValueError, match="max_num_elements=2"):
        module(torch.randn(3, 3), ptr=torch.tensor([0, 3]))


@pytest.mark.parametrize("name, cls", [
    ("median", aggr.MedianAggregation), ("quantile", aggr.QuantileAggregation),
    ("lstm", aggr.LSTMAggregation), ("gru", aggr.GRUAggregation), ("sort", aggr.SortAggregation),
    ("set2set", aggr.Set2Set), ("gmt", aggr.GraphMultisetTransformer),
    ("attentional", aggr.AttentionalAggregation), ("equilibrium", aggr.EquilibriumAggregation),
    ("mlp", aggr.MLPAggregation), ("deep_sets", aggr.DeepSetsAggregation),
    ("set_transformer", aggr.SetTransformerAggregation), ("lcm", aggr.LCMAggregation),
    ("variance_preserving", aggr.VariancePreservingAggregation),
    ("patch_transformer", aggr.PatchTransformerAggregation),
    ("MedianAggregation", aggr.MedianAggregation),
])
def test_resolver_knows_every_name(name, cls):
    from gfx.nn.aggr import AGGREGATIONS
    assert AGGREGATIONS[name.lower()] is cls


def test_resolver_builds_with_arguments_and_degree_scaler_is_exported():
    assert isinstance(aggregation_resolver("median"), aggr.MedianAggregation)
    assert aggregation_resolver("sort", k=3).k == 3
    from gfx.nn.aggr.scaler import DegreeScalerAggregation
    assert aggr.DegreeScalerAggregation is DegreeScalerAggregation
    assert "DegreeScalerAggregation" in aggr.__all__


def test_as_message_passing_aggregation():
    from gfx.nn import SimpleConv
    x = torch.randn(5, 3, dtype=torch.float64)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 2], [1, 1, 1, 0, 0, 3]])
    out = SimpleConv(aggr="median")(x, edge_index)
    expected = torch.zeros(5, 3, dtype=x.dtype)
    for i in range(5):
        src = edge_index[0, edge_index[1] == i]
        if src.numel():
            expected[i] = x[src].median(dim=0).values
    torch.testing.assert_close(out, expected)
