"""GraphNorm: per-graph normalisation with a learnable share of the mean."""
import pytest
import torch
from hypothesis import given

from gfx.nn import GraphNorm
from tests.nn.test_glob import assert_lowered_matches_eager, batches


@given(batches())
def test_graph_norm_matches_formula(data):
    batch, size = data
    torch.manual_seed(0)
    norm = GraphNorm(3).double()
    with torch.no_grad():
        for p in norm.parameters():
            p.uniform_()
    x = torch.randn(batch.numel(), 3, dtype=torch.float64) * 2 + 1
    expected = torch.empty_like(x)
    for b in range(size):
        rows = x[batch == b]
        if rows.numel():
            shifted = rows - norm.mean_scale * rows.mean(0)
            expected[batch == b] = (norm.weight * shifted / ((shifted ** 2).mean(0) + 1e-5).sqrt()
                                    + norm.bias)
    torch.testing.assert_close(norm(x, batch, size), expected)
    torch.testing.assert_close(norm(x, batch), expected)
    if size == 1:
        torch.testing.assert_close(norm(x), expected)


def test_graph_norm_state_dict_and_errors():
    assert set(GraphNorm(4).state_dict()) == {"weight", "bias", "mean_scale"}
    with pytest.raises(ValueError, match=r"GraphNorm: expected 'x' of shape \[num_nodes, 4\]"):
        GraphNorm(4)(torch.randn(5, 3))
    with pytest.raises(TypeError, match="GraphNorm: 'batch' must be int64 or int32"):
        GraphNorm(4)(torch.randn(5, 4), torch.zeros(5))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = GraphNorm(3)

    def forward(self, x, batch):
        return self.norm(x, batch)


def test_graph_norm_lowers():
    torch.manual_seed(0)
    model = Model().double()
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_()
    assert_lowered_matches_eager(model, torch.randn(6, 3, dtype=torch.float64),
                                 torch.tensor([0, 0, 1, 1, 1, 2]))
