"""Checkpoints: save/load round trip (model, optimizer, scheduler), weights-only files,
epoch indexing, removal and cleaning."""
import os

import pytest
import torch

import gfx.graphgym as gg
from gfx.graphgym.checkpoint import get_ckpt_dir, get_ckpt_epochs


def make_training_state(seed):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8),
                                torch.nn.Linear(8, 2))
    optimizer = gg.create_optimizer(model.parameters(), gg.OptimizerConfig(base_lr=0.1))
    scheduler = gg.create_scheduler(optimizer, gg.SchedulerConfig(scheduler="cos",
                                                                  max_epoch=10))
    return model, optimizer, scheduler


def train_steps(model, optimizer, scheduler, steps):
    for _ in range(steps):
        loss = model(torch.randn(16, 4)).pow(2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()


def test_round_trip_restores_model_optimizer_and_scheduler(fresh_cfg):
    model, optimizer, scheduler = make_training_state(0)
    train_steps(model, optimizer, scheduler, 3)
    gg.save_ckpt(model, optimizer, scheduler, epoch=2)

    other, other_opt, other_sched = make_training_state(1)
    assert not torch.equal(other[0].weight, model[0].weight)
    assert gg.load_ckpt(other, other_opt, other_sched, epoch=2) == 3
    for (name, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        assert torch.equal(a, b), name
    assert other_sched.last_epoch == scheduler.last_epoch == 3
    assert other_opt.param_groups[0]["lr"] == pytest.approx(optimizer.param_groups[0]["lr"])
    state, other_state = optimizer.state_dict()["state"], other_opt.state_dict()["state"]
    assert torch.equal(state[0]["exp_avg"], other_state[0]["exp_avg"])
    # Continuing from the restored state is continuing the original run.
    torch.manual_seed(5)
    train_steps(model, optimizer, scheduler, 1)
    torch.manual_seed(5)
    train_steps(other, other_opt, other_sched, 1)
    assert torch.allclose(model[2].weight, other[2].weight)


def test_checkpoints_load_as_weights_only(fresh_cfg):
    model, optimizer, scheduler = make_training_state(0)
    gg.save_ckpt(model, optimizer, scheduler, epoch=4)
    ckpt = torch.load(os.path.join(get_ckpt_dir(), "4.ckpt"), weights_only=True)
    assert ckpt["epoch"] == 4 and set(ckpt) == {"epoch", "model_state", "optimizer_state",
                                                "scheduler_state"}


def test_latest_epoch_remove_and_clean(fresh_cfg):
    model, _, _ = make_training_state(0)
    assert gg.load_ckpt(model) == 0  # nothing saved yet
    for epoch in (9, 19, 29):
        with torch.no_grad():
            model[0].weight.fill_(epoch)
        gg.save_ckpt(model, epoch=epoch)
    assert get_ckpt_epochs() == [9, 19, 29]
    assert gg.load_ckpt(model) == 30 and float(model[0].weight[0, 0].detach()) == 29
    assert gg.load_ckpt(model, epoch=-2) == 20 and float(model[0].weight[0, 0].detach()) == 19
    gg.remove_ckpt(-1)
    assert get_ckpt_epochs() == [9, 19]
    gg.save_ckpt(model, epoch=39)
    gg.clean_ckpt()
    assert get_ckpt_epochs() == [39]
    with pytest.raises(FileNotFoundError, match="epoch 5"):
        gg.load_ckpt(model, epoch=5)
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        gg.save_ckpt(model, epoch=-1)
