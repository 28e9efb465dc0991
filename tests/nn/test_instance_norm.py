"""InstanceNorm: every graph normalised with its own statistics."""
import pytest
import torch
from hypothesis import given

from gfx.nn import InstanceNorm
from tests.nn.test_glob import assert_lowered_matches_eager, batches

EPS = 1e-5


def per_graph_stats(x, batch, size):
    """Per-graph mean, biased and unbiased variance (unbiased is 0 for one node)."""
    means, biased, unbiased = [], [], []
    for b in range(size):
        rows = x[batch == b]
        n = rows.shape[0]
        mean = rows.mean(0) if n else torch.zeros(x.shape[1], dtype=x.dtype)
        var = ((rows - mean) ** 2).mean(0) if n else torch.zeros(x.shape[1], dtype=x.dtype)
        means.append(mean)
        biased.append(var)
        unbiased.append(var * n / max(n - 1, 1))
    return torch.stack(means), torch.stack(biased), torch.stack(unbiased)


@given(batches())
def test_instance_norm_matches_per_graph_formula(data):
    batch, size = data
    torch.manual_seed(0)
    norm = InstanceNorm(3, affine=True, track_running_stats=True, momentum=0.3).double()
    with torch.no_grad():
        norm.weight.uniform_()
        norm.bias.uniform_()
    x = torch.randn(batch.numel(), 3, dtype=torch.float64) * 2 + 1
    means, biased, unbiased = per_graph_stats(x, batch, size)
    expected = torch.stack([(x[n] - means[batch[n]]) / (biased[batch[n]] + EPS).sqrt()
                            for n in range(x.shape[0])]) if x.shape[0] else x
    torch.testing.assert_close(norm(x, batch, size), expected * norm.weight + norm.bias)
    torch.testing.assert_close(norm.running_mean, 0.3 * means.mean(0))
    torch.testing.assert_close(norm.running_var, 0.7 + 0.3 * unbiased.mean(0))
    assert norm.num_batches_tracked.item() == 0  # the reference counts only for momentum=None
    norm.eval()
    expected = (x - norm.running_mean) / (norm.running_var + EPS).sqrt()
    torch.testing.assert_close(norm(x, batch), expected * norm.weight + norm.bias)


def test_instance_norm_without_batch_and_cumulative_average():
    x = torch.randn(5, 2, dtype=torch.float64)
    norm = InstanceNorm(2).double()
    expected = (x - x.mean(0)) / (x.var(0, unbiased=False) + EPS).sqrt()
    torch.testing.assert_close(norm(x), expected)
    single = norm(x[:1])  # one node: 0, where torch's instance_norm would refuse
    assert torch.equal(single, torch.zeros(1, 2, dtype=torch.float64))
    norm = InstanceNorm(2, track_running_stats=True, momentum=None).double()
    y = torch.randn(4, 2, dtype=torch.float64) + 3
    norm(x)
    norm(y)
    torch.testing.assert_close(norm.running_mean, (x.mean(0) + y.mean(0)) / 2)


def test_instance_norm_state_dict_and_errors():
    assert set(InstanceNorm(4).state_dict()) == set()
    assert set(InstanceNorm(4, affine=True, track_running_stats=True).state_dict()) == {
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    with pytest.raises(ValueError, match=r"InstanceNorm: expected 'x' of shape \[num_nodes, 4\]"):
        InstanceNorm(4)(torch.randn(5, 3))
    with pytest.raises(ValueError, match="InstanceNorm: 'batch' has 2 entries but 'x' has 5"):
        InstanceNorm(4)(torch.randn(5, 4), torch.tensor([0, 1]))


class Model(torch.nn.Module):
    def __init__(self, **kwargs):
        super().__init__()
        self.norm = InstanceNorm(3, affine=True, **kwargs)

    def forward(self, x, batch):
        return self.norm(x, batch)


@pytest.mark.parametrize("track", [False, True])
def test_instance_norm_lowers(track):
    torch.manual_seed(0)
    model = Model(track_running_stats=track).double()
    batch = torch.tensor([0, 0, 0, 1, 1, 3])
    model(torch.randn(6, 3, dtype=torch.float64), batch)  # running statistics, if tracked
    assert_lowered_matches_eager(model, torch.randn(6, 3, dtype=torch.float64), batch)
