"""MeanSubtractionNorm: subtract each graph's mean."""
import torch
from hypothesis import given

from gfx.nn import MeanSubtractionNorm
from tests.nn.test_glob import assert_lowered_matches_eager, batches


@given(batches())
def test_mean_subtraction_matches_formula(data):
    batch, size = data
    x = torch.randn(batch.numel(), 3, dtype=torch.float64)
    expected = torch.empty_like(x)
    for b in range(size):
        if (batch == b).any():
            expected[batch == b] = x[batch == b] - x[batch == b].mean(0)
    torch.testing.assert_close(MeanSubtractionNorm()(x, batch, size), expected)
    torch.testing.assert_close(MeanSubtractionNorm()(x, batch), expected)


def test_mean_subtraction_without_batch():
    x = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(MeanSubtractionNorm()(x), x - x.mean(0))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = MeanSubtractionNorm()

    def forward(self, x, batch):
        return self.norm(x, batch)


def test_mean_subtraction_lowers():
    assert_lowered_matches_eager(Model(), torch.randn(6, 3, dtype=torch.float64),
                                 torch.tensor([0, 0, 1, 1, 1, 2]))
