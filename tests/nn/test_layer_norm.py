"""LayerNorm: one mean and variance per graph (over nodes and channels), or per node."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given

from gfx.nn import LayerNorm
from tests.nn.test_glob import assert_lowered_matches_eager, batches


@given(batches())
def test_graph_layer_norm_matches_formula(data):
    batch, size = data
    torch.manual_seed(0)
    norm = LayerNorm(3).double()
    with torch.no_grad():
        norm.weight.uniform_()
        norm.bias.uniform_()
    x = torch.randn(batch.numel(), 3, dtype=torch.float64) * 2 + 1
    expected = torch.empty_like(x)
    for b in range(size):
        rows = x[batch == b]
        if rows.numel():
            mean = rows.mean()
            expected[batch == b] = (rows - mean) / (((rows - mean) ** 2).mean() + 1e-5).sqrt()
    expected = expected * norm.weight + norm.bias
    torch.testing.assert_close(norm(x, batch, size), expected)
    torch.testing.assert_close(norm(x, batch), expected)


def test_layer_norm_without_batch_and_node_mode():
    x = torch.randn(6, 4, dtype=torch.float64)
    norm = LayerNorm(4, affine=False).double()
    # batch=None divides by std + eps, a batch vector by sqrt(var + eps).
    torch.testing.assert_close(norm(x), (x - x.mean()) / (x.var(unbiased=False).sqrt() + 1e-5))
    torch.testing.assert_close(norm(x, torch.zeros(6, dtype=torch.long)),
                               (x - x.mean()) / (x.var(unbiased=False) + 1e-5).sqrt())
    node = LayerNorm(4, mode="node").double()
    with torch.no_grad():
        node.weight.uniform_()
    expected = (x - x.mean(1, keepdim=True)) / (x.var(1, unbiased=False, keepdim=True)
                                                + 1e-5).sqrt() * node.weight
    torch.testing.assert_close(node(x, torch.tensor([0, 0, 1, 1, 1, 2])), expected)


def test_layer_norm_state_dict_and_errors():
    assert set(LayerNorm(4).state_dict()) == {"weight", "bias"}
    assert set(LayerNorm(4, affine=False).state_dict()) == set()
    with pytest.raises(ValueError, match="LayerNorm: unknown mode 'edge'"):
        LayerNorm(4, mode="edge")
    with pytest.raises(ValueError, match=r"LayerNorm: expected 'x' of shape \[num_nodes, 4\]"):
        LayerNorm(4)(torch.randn(5, 3))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.per_graph = LayerNorm(3)
        self.node = LayerNorm(3, mode="node")

    def forward(self, x, batch):
        return self.node(self.per_graph(x, batch)), self.per_graph(x)


def test_layer_norm_lowers():
    torch.manual_seed(0)
    model = Model().double()
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_()
    assert_lowered_matches_eager(model, torch.randn(6, 3, dtype=torch.float64),
                                 torch.tensor([0, 0, 1, 1, 1, 2]))
