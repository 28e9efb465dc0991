"""SchNet against a loop written from the formula, plus its symmetries."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from gfx.nn import SchNet


def ssp(x):
    return F.softplus(x) - math.log(2.0)


def dense_schnet(model, z, pos, batch, cutoff, readout="add"):
    """Loop over atom pairs of one molecule closer than the cutoff."""
    n = len(z)
    mu = torch.linspace(0, cutoff, model.num_gaussians, dtype=pos.dtype)
    gamma = 0.5 / (mu[1] - mu[0]) ** 2
    h = model.embedding.weight[z]
    for block in model.interactions:
        conv = block.conv
        xw = h @ conv.lin1.weight.t()
        agg = torch.zeros(n, xw.shape[1], dtype=pos.dtype)
        for i in range(n):
            for j in range(n):
                d = (pos[i] - pos[j]).norm()
                if i == j or batch[i] != batch[j] or d >= cutoff:
                    continue
                e = torch.exp(-gamma * (d - mu) ** 2)
                w = block.mlp[2](ssp(block.mlp[0](e))) * 0.5 * (torch.cos(d * math.pi / cutoff) + 1)
                agg[i] += xw[j] * w
        h = h + block.lin(ssp(conv.lin2(agg)))
    atom = model.lin2(ssp(model.lin1(h)))
    num_graphs = int(batch.max()) + 1
    out = torch.stack([atom[batch == k].sum(0) for k in range(num_graphs)])
    if readout == "mean":
        out = out / torch.bincount(batch, minlength=num_graphs).view(-1, 1)
    return out


@st.composite
def molecules(draw):
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    g = torch.Generator().manual_seed(draw(st.integers(0, 999)))
    n = sum(sizes)
    return (torch.randint(1, 10, (n,), generator=g),
            torch.randn(n, 3, generator=g, dtype=torch.float64) * 1.5,
            torch.cat([torch.full((s,), k) for k, s in enumerate(sizes)]))


@pytest.mark.parametrize("readout", ["add", "mean"])
@settings(max_examples=8, deadline=None)
@given(molecules())
def test_formula_with_radius_graph(readout, mol):
    z, pos, batch = mol
    model = SchNet(hidden_channels=6, num_filters=4, num_interactions=2, num_gaussians=5,
                   cutoff=2.0, readout=readout).double()
    torch.testing.assert_close(model(z, pos, batch),
                               dense_schnet(model, z, pos, batch, 2.0, readout))


def test_invariances_and_gradcheck():
    torch.manual_seed(0)
    z, pos = torch.tensor([1, 6, 8, 1]), torch.randn(4, 3, dtype=torch.float64)
    model = SchNet(hidden_channels=6, num_filters=4, num_interactions=1, num_gaussians=5,
                   cutoff=5.0).double()
    rot, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    out = model(z, pos)
    torch.testing.assert_close(model(z, pos @ rot.t() + 3.0), out)
    perm = torch.tensor([2, 0, 3, 1])
    torch.testing.assert_close(model(z[perm], pos[perm]), out)
    pos.requires_grad_()
    assert torch.autograd.gradcheck(lambda p: model(z, p), (pos,))


def test_atomref_mean_std_and_errors():
    atomref = torch.arange(100, dtype=torch.float)
    model = SchNet(hidden_channels=4, num_filters=4, num_interactions=1, num_gaussians=3,
                   mean=1.0, std=2.0, atomref=atomref)
    plain = SchNet(hidden_channels=4, num_filters=4, num_interactions=1, num_gaussians=3)
    plain.load_state_dict(model.state_dict(), strict=False)
    z, pos = torch.tensor([1, 2]), torch.randn(2, 3)
    # per atom: h * std + mean + atomref[z]; summed over the two atoms
    torch.testing.assert_close(model(z, pos), plain(z, pos) * 2.0 + 2 * 1.0 + 3.0)
    assert str(plain) == ("SchNet(hidden_channels=4, num_filters=4, num_interactions=1, "
                          "num_gaussians=3, cutoff=10.0)")
    with pytest.raises(ValueError, match="'z'"):
        model(pos[:, 0], pos)
    with pytest.raises(ValueError, match="'pos'"):
        model(z, pos[:1])
    with pytest.raises(ValueError, match="readout"):
        SchNet(readout="max")
