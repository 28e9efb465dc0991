"""DimeNet / DimeNet++: bases against scipy.special, triplets against brute force,
blocks against loops, symmetries of the full models."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from gfx.nn import DimeNet, DimeNetPlusPlus
from gfx.nn.models.dimenet import Envelope, InteractionBlock, triplets
from gfx.nn.models.dimenet_utils import basis_functions, spherical_bessel_zeros
from tests.graphs import edge_lists

scipy_special = pytest.importorskip("scipy.special")


def test_radial_basis_matches_scipy():
    num_spherical, num_radial = 5, 4
    radial, _, sources = basis_functions(num_spherical, num_radial)
    zeros = spherical_bessel_zeros(num_spherical, num_radial)
    x = np.linspace(0.1, 1.0, 13)
    for l in range(num_spherical):
        for n in range(num_radial):
            # the roots are roots, increasing, and interlace with those of j_{l-1}
            assert abs(scipy_special.spherical_jn(l, zeros[l, n])) < 1e-10
            if l:
                assert zeros[l - 1, n] < zeros[l, n] < zeros[l - 1, n + 1] \
                    if n + 1 < num_radial else zeros[l - 1, n] < zeros[l, n]
            norm = 1.0 / math.sqrt(0.5 * scipy_special.spherical_jn(l + 1, zeros[l, n]) ** 2)
            expected = norm * scipy_special.spherical_jn(l, zeros[l, n] * x)
            got = radial[l * num_radial + n](torch.tensor(x, dtype=torch.float64))
            np.testing.assert_allclose(got.numpy(), expected, atol=1e-7)
    assert zeros[0].tolist() == pytest.approx([math.pi * (n + 1) for n in range(num_radial)])
    assert "sin" in sources[0]


def test_angular_basis_matches_scipy():
    _, angular, _ = basis_functions(5, 2)
    theta = np.linspace(0.0, math.pi, 11)
    for l, f in enumerate(angular):
        expected = scipy_special.sph_harm_y(l, 0, theta, 0.0).real
        got = f(torch.tensor(theta, dtype=torch.float64))
        assert got.shape == (11,)
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-12)


def test_envelope_vanishes_smoothly_at_the_cutoff():
    env = Envelope(5)
    x = torch.tensor([1.0 - 1e-9], dtype=torch.float64, requires_grad=True)
    u = env(x)
    (du,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    (d2u,) = torch.autograd.grad(du.sum(), x)
    assert abs(u.item()) < 1e-6 and abs(du.item()) < 1e-6 and abs(d2u.item()) < 1e-4
    assert env(torch.tensor([1.0, 1.5])).tolist() == [0.0, 0.0]
    torch.testing.assert_close(env(torch.tensor([0.5], dtype=torch.float64)),
                               torch.tensor([2 - 28 * 0.5 ** 5 + 48 * 0.5 ** 6 - 21 * 0.5 ** 7],
                                            dtype=torch.float64))


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14, False))
def test_triplets_brute_force(graph):
    edge_index, n, _ = graph
    i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji = triplets(edge_index, max(n, 1))
    assert torch.equal(i, edge_index[1]) and torch.equal(j, edge_index[0])
    src, dst = edge_index.tolist() if edge_index.numel() else ([], [])
    expected = sorted((dst[b], src[b], src[a], a, b)
                      for b in range(len(src)) for a in range(len(src))
                      if dst[a] == src[b] and src[a] != dst[b])
    got = sorted(zip(idx_i.tolist(), idx_j.tolist(), idx_k.tolist(), idx_kj.tolist(),
                     idx_ji.tolist()))
    assert got == expected


def test_interaction_block_by_loop():
    torch.manual_seed(0)
    block = InteractionBlock(4, 3, 2, 3, 1, 1, F.silu).double()
    x, rbf = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    sbf = torch.randn(7, 6, dtype=torch.float64)
    idx_kj, idx_ji = torch.randint(5, (7,)), torch.randint(5, (7,))
    s, r = block.lin_sbf(sbf), block.lin_rbf(rbf)
    x_kj = F.silu(block.lin_kj(x)) * r
    agg = torch.zeros(5, 4, dtype=torch.float64)
    for t in range(7):
        for a in range(4):
            agg[idx_ji[t], a] += sum(s[t, b] * x_kj[idx_kj[t], c] * block.W[a, b, c]
                                     for b in range(3) for c in range(4))
    h = F.silu(block.lin_ji(x)) + agg
    h = block.layers_before_skip[0](h)
    h = F.silu(block.lin(h)) + x
    h = block.layers_after_skip[0](h)
    torch.testing.assert_close(block(x, rbf, sbf, idx_kj, idx_ji), h)


@pytest.mark.parametrize("cls", [DimeNet, DimeNetPlusPlus])
def test_symmetries_and_gradcheck(cls):
    torch.manual_seed(0)
    kwargs = dict(num_bilinear=2) if cls is DimeNet else dict(
        int_emb_size=3, basis_emb_size=2, out_emb_channels=4)
    model = cls(hidden_channels=4, out_channels=2, num_blocks=1, num_spherical=3,
                num_radial=3, cutoff=3.0, output_initializer="glorot_orthogonal",
                **kwargs).double()
    z = torch.tensor([1, 6, 8, 1, 7])
    pos = torch.randn(5, 3, dtype=torch.float64)
    batch = torch.tensor([0, 0, 0, 1, 1])
    out = model(z, pos, batch)
    assert out.shape == (2, 2)
    rot, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    torch.testing.assert_close(model(z, pos @ rot.t() - 1.0, batch), out)
    perm = torch.tensor([2, 0, 1, 4, 3])
    torch.testing.assert_close(model(z[perm], pos[perm], batch), out)
    torch.testing.assert_close(model(z[:3], pos[:3]), out[0])
    pos.requires_grad_()
    assert torch.autograd.gradcheck(lambda p: model(z, p, batch), (pos,))


def test_errors():
    with pytest.raises(ValueError, match="output_initializer"):
        DimeNet(4, 2, 1, 2, 3, 3, output_initializer="ones")
    with pytest.raises(ValueError, match="num_spherical"):
        DimeNet(4, 2, 1, 2, 1, 3)
    model = DimeNet(4, 2, 1, 2, 2, 2)
    with pytest.raises(ValueError, match="'pos'"):
        model(torch.tensor([1, 2]), torch.randn(2, 2))
