"""BatchNorm: per-channel statistics over all rows; the reference checkpoint layout."""
import pytest
import torch

from gfx.nn import BatchNorm
from tests.nn.test_glob import assert_lowered_matches_eager


def test_batch_norm_training_and_eval_match_formula():
    torch.manual_seed(0)
    norm = BatchNorm(3, momentum=0.2).double()
    with torch.no_grad():
        norm.module.weight.uniform_()
        norm.module.bias.uniform_()
    x = torch.randn(9, 3, dtype=torch.float64) * 2 + 1
    mean, var = x.mean(0), x.var(0, unbiased=False)
    expected = (x - mean) / (var + 1e-5).sqrt() * norm.module.weight + norm.module.bias
    torch.testing.assert_close(norm(x), expected)
    torch.testing.assert_close(norm.module.running_mean, 0.2 * mean)
    torch.testing.assert_close(norm.module.running_var, 0.8 + 0.2 * x.var(0))
    norm.eval()
    rm, rv = norm.module.running_mean, norm.module.running_var
    torch.testing.assert_close(norm(x), (x - rm) / (rv + 1e-5).sqrt() * norm.module.weight
                               + norm.module.bias)


def test_batch_norm_single_row():
    x = torch.randn(1, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="more than 1 value"):
        BatchNorm(3).double()(x)
    norm = BatchNorm(3, allow_single_element=True).double()
    with torch.no_grad():
        norm.module.running_mean.fill_(0.5)
        norm.module.running_var.fill_(2.0)
    torch.testing.assert_close(norm(x), (x - 0.5) / (2.0 + 1e-5) ** 0.5)
    assert norm.module.num_batches_tracked.item() == 0  # the statistics were not updated
    with pytest.raises(ValueError, match="allow_single_element=True needs track_running_stats"):
        BatchNorm(3, allow_single_element=True, track_running_stats=False)


def test_batch_norm_state_dict_and_errors():
    assert set(BatchNorm(4).state_dict()) == {
        "module.weight", "module.bias", "module.running_mean", "module.running_var",
        "module.num_batches_tracked"}
    assert set(BatchNorm(4, affine=False, track_running_stats=False).state_dict()) == set()
    with pytest.raises(ValueError, match=r"BatchNorm: expected 'x' of shape \[N, 4\]"):
        BatchNorm(4)(torch.randn(5, 3))


def test_batch_norm_lowers():
    torch.manual_seed(0)
    norm = BatchNorm(3).double()
    norm(torch.randn(8, 3, dtype=torch.float64))  # non-trivial running statistics
    assert_lowered_matches_eager(norm, torch.randn(6, 3, dtype=torch.float64))
