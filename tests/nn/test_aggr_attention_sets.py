"""Attention- and network-based aggregations against per-group loops written from the
formulas: Attentional, Set2Set, DeepSets, GraphMultisetTransformer,
SetTransformerAggregation, PatchTransformerAggregation, EquilibriumAggregation.

The set-transformer loops run every group unpadded through an attention block computed
from its parameters (``manual_mab``), so they also check the masking of the padded form;
an empty group's attention term is the output projection's bias
(``NOTE [attention over an empty set]``).  The biases are randomised so that this shows.
"""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gfx.nn.aggr as aggr
from gfx.nn.models import MLP

from .aggr_groups import grouped, largest_group, manual_mab, manual_pma, members, sorted_form

SETTINGS = dict(max_examples=10, deadline=None)


def check_ptr_form(module, x, index, num_groups, **kwargs):
    xs, _, ptr = sorted_form(x, index, num_groups)
    by_index = module(xs, torch.sort(index, stable=True).values, dim_size=num_groups, **kwargs)
    by_ptr = module(xs, ptr=ptr, **kwargs)
    torch.testing.assert_close(by_ptr, by_index)


@settings(**SETTINGS)
@given(grouped(), st.booleans())
def test_attentional_softmax_gated_sum(data, per_channel_gate):
    x, index, b = data
    gate = torch.nn.Linear(3, 2 if per_channel_gate else 1).double()
    net = torch.nn.Linear(3, 2).double()
    module = aggr.AttentionalAggregation(gate, net)
    expected = torch.zeros(b, 2, dtype=x.dtype)
    for g in range(b):
        rows = members(x, index, g)
        if rows.numel():
            expected[g] = (torch.softmax(gate(rows), dim=0) * net(rows)).sum(0)
    torch.testing.assert_close(module(x, index, dim_size=b), expected)
    check_ptr_form(module, x, index, b)


def test_attentional_errors_and_repr():
    with pytest.raises(TypeError, match="'gate_nn'"):
        aggr.AttentionalAggregation("gate")
    module = aggr.AttentionalAggregation(torch.nn.Linear(3, 2))
    with pytest.raises(ValueError, match="'gate_nn'"):
        module(torch.randn(4, 3), torch.tensor([0, 0, 1, 1]))
    assert str(aggr.AttentionalAggregation(torch.nn.Linear(3, 1))) == (
        "AttentionalAggregation(gate_nn=Linear(in_features=3, out_features=1, bias=True), "
        "nn=None)")


@settings(**SETTINGS)
@given(grouped(), st.integers(1, 3))
def test_set2set_iterates_lstm_attention(data, steps):
    x, index, b = data
    module = aggr.Set2Set(3, steps).double()
    q_star = torch.zeros(b, 6, dtype=x.dtype)
    state = (torch.zeros(1, b, 3, dtype=x.dtype), torch.zeros(1, b, 3, dtype=x.dtype))
    for _ in range(steps):
        q, state = module.lstm(q_star.unsqueeze(0), state)
        q = q[0]
        r = torch.zeros(b, 3, dtype=x.dtype)
        for g in range(b):
            rows = members(x, index, g)
            if rows.numel():
                alpha = torch.softmax(rows @ q[g], dim=0)
                r[g] = (alpha[:, None] * rows).sum(0)
        q_star = torch.cat([q, r], dim=1)
    torch.testing.assert_close(module(x, index, dim_size=b), q_star)
    check_ptr_form(module, x, index, b)
    assert str(module) == "Set2Set(3, 6)"


@settings(**SETTINGS)
@given(grouped(), st.booleans())
def test_deep_sets_phi_sum_rho(data, use_mlp):
    x, index, b = data
    local = (MLP([3, 4], norm=None) if use_mlp else torch.nn.Linear(3, 4)).double()
    glob = torch.nn.Linear(4, 2).double()
    module = aggr.DeepSetsAggregation(local, glob)
    expected = torch.stack([glob(local(members(x, index, g)).sum(0)) for g in range(b)])
    torch.testing.assert_close(module(x, index, dim_size=b), expected)
    check_ptr_form(module, x, index, b)
    keys = set(module.state_dict())
    assert ("local_mlp.lins.0.weight" if use_mlp else "local_nn.weight") in keys
    assert "global_nn.weight" in keys


def randomise_biases(module):
    """Attention biases start at 0; make them random so that every term is visible."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "bias" in name:
                p.copy_(torch.randn_like(p))
    return module


@settings(**SETTINGS)
@given(grouped(channels=4), st.booleans(), st.sampled_from([1, 2]))
def test_graph_multiset_transformer_per_group(data, layer_norm, heads):
    x, index, b = data
    module = randomise_biases(aggr.GraphMultisetTransformer(4, k=2, heads=heads,
                                                            layer_norm=layer_norm).double())
    expected = []
    for g in range(b):
        h = manual_pma(module.pma1, members(x, index, g))
        for encoder in module.encoders:
            h = manual_mab(encoder.mab, h, h)
        expected.append(manual_pma(module.pma2, h)[0])
    torch.testing.assert_close(module(x, index, dim_size=b), torch.stack(expected))
    check_ptr_form(module, x, index, b)


@settings(**SETTINGS)
@given(grouped(channels=4), st.booleans(), st.booleans(), st.integers(1, 2))
def test_set_transformer_per_group(data, concat, layer_norm, seeds):
    x, index, b = data
    module = randomise_biases(aggr.SetTransformerAggregation(
        4, num_seed_points=seeds, heads=2, concat=concat, layer_norm=layer_norm).double())
    expected = []
    for g in range(b):
        h = members(x, index, g)
        for encoder in module.encoders:
            h = manual_mab(encoder.mab, h, h)
        h = manual_pma(module.pma, h)
        for decoder in module.decoders:
            h = manual_mab(decoder.mab, h, h)
        expected.append(h.reshape(-1) if concat else h.mean(0))
    torch.testing.assert_close(module(x, index, dim_size=b), torch.stack(expected))
    check_ptr_form(module, x, index, b)
    assert module.get_out_channels(4) == (4 * seeds if concat else 4)


def test_set_transformer_repr_keys_and_no_nan_for_empty_groups():
    module = aggr.SetTransformerAggregation(4)
    assert str(module) == ("SetTransformerAggregation(4, num_seed_points=1, heads=1, "
                           "layer_norm=False, dropout=0.0)")
    assert "decoders.0.mab.attn.in_proj_weight" in module.state_dict()
    out = module(torch.randn(3, 4), torch.tensor([0, 0, 2]), dim_size=4)
    assert torch.isfinite(out).all()
    with pytest.raises(ValueError, match="'heads'"):
        aggr.GraphMultisetTransformer(4, k=2, heads=3)


def positional(position, channels):
    freq = torch.tensor([1e-4 ** (j / (channels // 2 - 1)) for j in range(channels // 2)],
                        dtype=torch.float64)
    angle = position * freq
    return torch.cat([angle.sin(), angle.cos()])


@settings(**SETTINGS)
@given(grouped(), st.sampled_from([1, 2, 3]), st.sampled_from(["mean", "max", "std"]))
def test_patch_transformer_per_group(data, patch_size, reduction):
    x, index, b = data
    module = aggr.PatchTransformerAggregation(3, 2, patch_size, 4, heads=2,
                                              aggr=reduction).double()
    width = patch_size * math.ceil(largest_group(index, b) / patch_size)
    expected = []
    for g in range(b):
        h = module.lin(members(x, index, g))
        h = torch.cat([h, torch.zeros(width - h.size(0), 4, dtype=x.dtype)])
        patches = module.pad_projector(h.reshape(-1, patch_size * 4))
        patches = patches + torch.stack([positional(p, 4) for p in range(patches.size(0))])
        for block in module.blocks:
            patches = manual_mab(block, patches, patches)
        if reduction == "mean":
            pooled = patches.mean(0)
        elif reduction == "max":
            pooled = patches.max(0).values
        else:
            n = patches.size(0)
            pooled = (((patches - patches.mean(0)) ** 2).sum(0) / max(n - 1, 1)).sqrt()
        expected.append(module.fc(pooled))
    torch.testing.assert_close(module(x, index, dim_size=b), torch.stack(expected))
    check_ptr_form(module, x, index, b)


def test_patch_transformer_errors():
    with pytest.raises(ValueError, match="'aggr'"):
        aggr.PatchTransformerAggregation(3, 2, 2, 4, aggr="median")
    module = aggr.PatchTransformerAggregation(3, 2, 2, 4)
    assert str(module) == "PatchTransformerAggregation(3, 2, patch_size=2)"
    with pytest.raises(ValueError, match="max_num_elements=2"):
        module(torch.randn(3, 3), torch.tensor([0, 0, 0]), max_num_elements=2)


def equilibrium_energy(module, x, y, index, b):
    """The energy written from the formula: per-group mean of the potential + regulariser."""
    pot = module.potential
    inp = torch.cat([x, y[index]], dim=1)
    h = inp
    for layer, res in zip(pot.layers, pot.res_trans):
        h = layer(h) + res(inp)
    energy = sum(h[index == g].mean() for g in range(b) if (index == g).any())
    return energy + torch.nn.functional.softplus(module.lamb) * (y ** 2).sum(1).mean()


@settings(**SETTINGS)
@given(grouped(), st.integers(0, 3))
def test_equilibrium_momentum_descent(data, steps):
    x, index, b = data
    module = aggr.EquilibriumAggregation(3, 2, [4], grad_iter=steps).double()
    lr = torch.nn.functional.softplus(module.optimizer._lr)
    mom = torch.sigmoid(module.optimizer._mom)
    y = torch.zeros(b, 2, dtype=x.dtype, requires_grad=True)
    buffer = torch.zeros_like(y)
    for _ in range(steps):
        energy = equilibrium_energy(module, x, y, index, b)
        grad = torch.autograd.grad(energy, y, create_graph=True)[0]
        buffer = mom * buffer - lr * grad
        y = y + buffer
    torch.testing.assert_close(module(x, index, dim_size=b), y)
    check_ptr_form(module, x, index, b)
    assert str(module) == "EquilibriumAggregation()"
