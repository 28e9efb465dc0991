"""ViSNet: bases from their formulas, equivariance of the vector features, forces."""
import math

import pytest
import torch

from gfx.nn import ViSNet
from gfx.nn.models.visnet import (CosineCutoff, ExpNormalSmearing, GatedEquivariantBlock,
                                  Sphere, ViS_MP, VecLayerNorm)


def test_radial_basis_formula():
    d = torch.tensor([0.0, 1.0, 2.5, 4.9, 5.0, 6.0], dtype=torch.float64)
    cut = CosineCutoff(5.0)(d)
    torch.testing.assert_close(cut[:4], 0.5 * (torch.cos(d[:4] * math.pi / 5) + 1))
    assert cut[4:].tolist() == [0.0, 0.0]
    rbf = ExpNormalSmearing(5.0, 4, trainable=False).double()(d)
    mu = torch.linspace(math.exp(-5.0), 1.0, 4, dtype=torch.float64)
    beta = (2 / 4 * (1 - math.exp(-5.0))) ** -2
    expected = cut.view(-1, 1) * torch.exp(-beta * (torch.exp(-d.view(-1, 1)) - mu) ** 2)
    torch.testing.assert_close(rbf, expected)


def test_sphere_is_equivariant():
    """Degree-1 and degree-2 harmonics rotate by orthogonal matrices (their norms per
    degree are preserved; on a z-rotation degree 1 rotates like the vector)."""
    torch.manual_seed(0)
    v = torch.nn.functional.normalize(torch.randn(6, 3, dtype=torch.float64), dim=1)
    rot, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    a, b = Sphere(2)(v), Sphere(2)(v @ rot.t())
    torch.testing.assert_close(b[:, :3], a[:, :3] @ rot.t())
    torch.testing.assert_close(a[:, 3:].norm(dim=1), b[:, 3:].norm(dim=1))
    # for unit vectors the five degree-2 components have unit norm
    torch.testing.assert_close(a[:, 3:].norm(dim=1), torch.ones(6, dtype=torch.float64))


def test_vector_rejection_and_norm():
    vec, d = torch.randn(5, 3, 4), torch.nn.functional.normalize(torch.randn(5, 3), dim=1)
    rej = ViS_MP.vector_rejection(vec, d)
    torch.testing.assert_close((rej * d.unsqueeze(2)).sum(1), torch.zeros(5, 4), atol=1e-6,
                               rtol=0)
    normed = VecLayerNorm(4, trainable=False, norm_type="max_min")(vec)
    lengths = normed.norm(dim=1)
    torch.testing.assert_close(lengths.max(dim=1).values, torch.ones(5))
    torch.testing.assert_close(lengths.min(dim=1).values, torch.zeros(5), atol=1e-6, rtol=0)
    x, out = GatedEquivariantBlock(4, 2)(torch.randn(2, 4), torch.zeros(2, 3, 4))
    assert torch.isfinite(x).all() and not out.any()


@pytest.mark.parametrize("lmax", [1, 2])
def test_invariant_energy_and_equivariant_forces(lmax):
    torch.manual_seed(0)
    model = ViSNet(lmax=lmax, num_heads=2, num_layers=2, hidden_channels=8, num_rbf=6,
                   cutoff=3.0, derivative=True).double()
    z = torch.tensor([1, 6, 8, 1, 7, 1])
    pos = torch.rand(6, 3, dtype=torch.float64) * 2
    batch = torch.tensor([0, 0, 0, 1, 1, 1])
    y, forces = model(z, pos.clone(), batch)
    assert y.shape == (2, 1) and forces.shape == (6, 3)
    rot, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    y2, forces2 = model(z, pos @ rot.t() + 1.0, batch)
    torch.testing.assert_close(y2, y)
    torch.testing.assert_close(forces2, forces @ rot.t())
    # forces are minus the gradient of the energy (finite differences)
    eps = 1e-6
    shifted = pos.clone()
    shifted[2, 0] += eps
    y3, _ = model(z, shifted, batch)
    fd = -(y3.sum() - y.sum()) / eps
    torch.testing.assert_close(fd.detach(), forces[2, 0].detach(), atol=1e-4, rtol=1e-3)


def test_errors():
    with pytest.raises(ValueError, match="vertex"):
        ViSNet(vertex=True)
    with pytest.raises(ValueError, match="num_heads"):
        ViSNet(num_heads=3, hidden_channels=8)
    with pytest.raises(ValueError, match="lmax"):
        ViSNet(lmax=3)
    with pytest.raises(ValueError, match="reduce_op"):
        ViSNet(reduce_op="max")
    model = ViSNet(num_heads=2, num_layers=1, hidden_channels=4, num_rbf=3)
    with pytest.raises(ValueError, match="'pos'"):
        model(torch.tensor([1, 2]), torch.randn(2, 2), torch.tensor([0, 0]))
