"""Metrics against brute-force definitions; compute_loss against the formulas; optimizers
and schedulers by name."""
import itertools

import pytest
import torch

import gfx.graphgym as gg
from gfx.graphgym import metrics, register


def auc_by_pairs(true, score):
    """P(score of a positive > score of a negative), ties counting one half."""
    pos = [s for t, s in zip(true, score) if t == 1]
    neg = [s for t, s in zip(true, score) if t == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_auc_matches_pair_counting_with_ties():
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        true = torch.randint(2, (40,), generator=generator)
        score = torch.randint(6, (40,), generator=generator).float() / 5  # many ties
        assert metrics.roc_auc(true, score) == pytest.approx(
            auc_by_pairs(true.tolist(), score.tolist()))
    assert metrics.roc_auc(torch.ones(4), torch.rand(4)) == 0.0  # one class only


def test_binary_metrics_by_counting():
    true = torch.tensor([1, 1, 1, 0, 0, 0, 1, 0])
    score = torch.tensor([0.9, 0.4, 0.7, 0.6, 0.2, 0.1, 0.8, 0.3])
    stats = metrics.classification_binary(true, score, thresh=0.5)
    # predictions: 1 0 1 1 0 0 1 0 -> tp 3, fp 1, fn 1, tn 3
    assert stats["accuracy"] == pytest.approx(6 / 8)
    assert stats["precision"] == pytest.approx(3 / 4)
    assert stats["recall"] == pytest.approx(3 / 4)
    assert stats["f1"] == pytest.approx(3 / 4)
    assert stats["auc"] == pytest.approx(auc_by_pairs(true.tolist(), score.tolist()))


def test_multiclass_and_regression_metrics():
    true = torch.tensor([0, 2, 1, 2])
    score = torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]])
    assert metrics.classification_multi(true, score)["accuracy"] == pytest.approx(0.75)
    stats = metrics.regression(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.5, 2.0, 2.0]))
    assert stats["mae"] == pytest.approx(0.5)
    assert stats["mse"] == pytest.approx((0.25 + 0 + 1) / 3)
    assert stats["rmse"] == pytest.approx(((0.25 + 1) / 3) ** 0.5)
    assert stats["r2"] == pytest.approx(1 - ((0.25 + 1) / 3) / (2 / 3))


def test_cross_entropy_multiclass(fresh_cfg):
    pred, true = torch.randn(6, 4), torch.tensor([0, 3, 1, 1, 2, 0])
    loss, score = gg.compute_loss(pred, true)
    expected = -sum(torch.log_softmax(pred[i], 0)[true[i]] for i in range(6)) / 6
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.allclose(score.sum(1), torch.ones(6))
    fresh_cfg.model.size_average = "sum"
    assert gg.compute_loss(pred, true)[0].item() == pytest.approx(6 * expected.item(), rel=1e-5)


def test_binary_cross_entropy_and_mse(fresh_cfg):
    pred, true = torch.randn(5, 1), torch.tensor([1, 0, 0, 1, 1])
    loss, score = gg.compute_loss(pred, true)
    p = torch.sigmoid(pred.view(-1))
    expected = -(true * p.log() + (1 - true) * (1 - p).log()).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.allclose(score, p)
    fresh_cfg.model.loss_fun = "mse"
    pred, target = torch.randn(5), torch.randn(5)
    loss, score = gg.compute_loss(pred, target)
    assert loss.item() == pytest.approx(((pred - target) ** 2).mean().item(), rel=1e-5)
    fresh_cfg.model.loss_fun = "hinge"
    with pytest.raises(ValueError, match="cfg.model.loss_fun must be one of"):
        gg.compute_loss(pred, target)


def test_registered_loss_takes_precedence(fresh_cfg, registry_guard):
    @gg.register_loss(registry_guard(register.loss_dict, "test_l1"))
    def l1(pred, true):
        if fresh_cfg.model.loss_fun != "l1":
            return None
        return (pred - true).abs().mean(), pred

    pred, target = torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0])
    fresh_cfg.model.loss_fun = "l1"
    assert gg.compute_loss(pred, target)[0].item() == pytest.approx(1.5)
    fresh_cfg.model.loss_fun = "mse"  # the registered loss declines: built-in mse
    assert gg.compute_loss(pred, target)[0].item() == pytest.approx(2.5)


def test_optimizers_and_schedulers_from_config(fresh_cfg, registry_guard):
    model = torch.nn.Linear(3, 2)
    model.bias.requires_grad_(False)
    fresh_cfg.optim.optimizer, fresh_cfg.optim.base_lr = "sgd", 0.5
    optimizer = gg.create_optimizer(model.parameters(), fresh_cfg.optim)
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.param_groups[0]["lr"] == 0.5 and optimizer.param_groups[0]["momentum"] == 0.9
    assert len(optimizer.param_groups[0]["params"]) == 1  # frozen bias left out
    fresh_cfg.optim.scheduler, fresh_cfg.optim.steps = "step", [2, 4]
    scheduler = gg.create_scheduler(optimizer, fresh_cfg.optim)
    rates = []
    for _ in range(5):
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    assert rates == pytest.approx([0.5, 0.05, 0.05, 0.005, 0.005])
    fresh_cfg.optim.scheduler, fresh_cfg.optim.max_epoch = "cos", 4
    optimizer = gg.create_optimizer(model.parameters(), fresh_cfg.optim)
    scheduler = gg.create_scheduler(optimizer, fresh_cfg.optim)
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.25 * (1 + 2 ** -0.5))

    @gg.register_optimizer(registry_guard(register.optimizer_dict, "test_rms"))
    def rms(params, base_lr):
        return torch.optim.RMSprop(params, lr=base_lr)

    fresh_cfg.optim.optimizer = "test_rms"
    assert isinstance(gg.create_optimizer(model.parameters(), fresh_cfg.optim),
                      torch.optim.RMSprop)
    fresh_cfg.optim.optimizer = "adamw"
    with pytest.raises(KeyError, match="no optimizer named 'adamw'.*adam, sgd"):
        gg.create_optimizer(model.parameters(), fresh_cfg.optim)
