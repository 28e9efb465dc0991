"""GraphSizeNorm: divide by the square root of the graph's node count."""
import torch
from hypothesis import given

from gfx.nn import GraphSizeNorm
from tests.nn.test_glob import assert_lowered_matches_eager, batches


@given(batches())
def test_graph_size_norm_matches_formula(data):
    batch, size = data
    x = torch.randn(batch.numel(), 3, dtype=torch.float64)
    counts = [int((batch == b).sum()) for b in range(size)]
    expected = torch.stack([x[n] / counts[batch[n]] ** 0.5 for n in range(x.shape[0])]) \
        if x.shape[0] else x
    torch.testing.assert_close(GraphSizeNorm()(x, batch, size), expected)
    torch.testing.assert_close(GraphSizeNorm()(x, batch), expected)


def test_graph_size_norm_without_batch():
    x = torch.randn(9, 2, dtype=torch.float64)
    torch.testing.assert_close(GraphSizeNorm()(x), x / 3.0)
    assert GraphSizeNorm()(torch.zeros(0, 2)).shape == (0, 2)
    assert dict(GraphSizeNorm().state_dict()) == {}


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = GraphSizeNorm()

    def forward(self, x, batch):
        return self.norm(x, batch)


def test_graph_size_norm_lowers():
    assert_lowered_matches_eager(Model(), torch.randn(6, 3, dtype=torch.float64),
                                 torch.tensor([0, 0, 1, 1, 1, 2]))
