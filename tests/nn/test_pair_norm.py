"""PairNorm: centre per graph, then rescale (per graph or per node)."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import PairNorm
from tests.nn.test_glob import assert_lowered_matches_eager, batches


@given(batches(), st.booleans())
def test_pair_norm_matches_formula(data, individually):
    batch, size = data
    norm = PairNorm(scale=1.7, scale_individually=individually)
    x = torch.randn(batch.numel(), 3, dtype=torch.float64) * 2 + 1
    expected = torch.empty_like(x)
    for b in range(size):
        rows = x[batch == b]
        if rows.numel():
            centred = rows - rows.mean(0)
            if individually:
                denom = 1e-5 + centred.norm(dim=-1, keepdim=True)
            else:
                denom = (1e-5 + (centred ** 2).sum(-1).mean()).sqrt()
            expected[batch == b] = 1.7 * centred / denom
    torch.testing.assert_close(norm(x, batch, size), expected)
    torch.testing.assert_close(norm(x, batch), expected)


def test_pair_norm_without_batch():
    x = torch.randn(5, 3, dtype=torch.float64)
    centred = x - x.mean(0)
    torch.testing.assert_close(PairNorm()(x),
                               centred / (1e-5 + (centred ** 2).sum(-1).mean()).sqrt())
    with pytest.raises(ValueError, match="PairNorm: 'batch' has 4 entries but 'x' has 5"):
        PairNorm()(x, torch.zeros(4, dtype=torch.long))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = PairNorm(scale=2.0)
        self.each = PairNorm(scale_individually=True)

    def forward(self, x, batch):
        return self.norm(x, batch), self.each(x, batch)


def test_pair_norm_lowers():
    assert_lowered_matches_eager(Model(), torch.randn(6, 3, dtype=torch.float64),
                                 torch.tensor([0, 0, 1, 1, 1, 2]))
