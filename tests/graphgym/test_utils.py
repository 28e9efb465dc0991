"""Utilities: budgets, devices, epochs, I/O, initialisation, printing and the Logger."""
import json
import logging
import math
import os

import pytest
import torch

import gfx.graphgym as gg
from gfx.graphgym.utils.io import json_to_dict_list


def linear_params(fan_in, fan_out):
    return fan_in * fan_out + fan_out


def test_params_count_counts_shared_parameters_once():
    layer = torch.nn.Linear(3, 4)
    model = torch.nn.Sequential(layer, torch.nn.ReLU(), layer)
    assert gg.params_count(model) == 3 * 4 + 4


def test_match_baseline_cfg_matches_the_parameter_budget(fresh_cfg):
    fresh_cfg.share.dim_in, fresh_cfg.share.dim_out = 10, 3
    base = {"gnn": {"layer_type": "linear", "layers_mp": 1, "layers_post_mp": 1,
                    "batchnorm": False, "dim_inner": 64}}
    deeper = {"gnn": {"layer_type": "linear", "layers_mp": 3, "layers_post_mp": 1,
                      "batchnorm": False}}
    # linear message passing layers: 10*d + d, then (d*d + d) per extra layer; head d*3 + 3
    budget = linear_params(10, 64) + linear_params(64, 3)

    def params(d):
        return linear_params(10, d) + 2 * linear_params(d, d) + linear_params(d, 3)

    matched = gg.match_baseline_cfg(deeper, base, verbose=False)
    d = matched["gnn"]["dim_inner"]
    assert params(d) >= budget > params(d - 1)
    assert "dim_inner" not in deeper["gnn"]  # the input dict is not modified
    fresh_cfg.model.match_upper = False
    d = gg.match_baseline_cfg(deeper, base, verbose=False)["gnn"]["dim_inner"]
    assert params(d) <= budget < params(d + 1)
    assert fresh_cfg.share.dim_in == 10 and fresh_cfg.gnn.layers_mp == 2  # cfg restored


def test_devices(fresh_cfg):
    gg.auto_select_device()
    assert fresh_cfg.accelerator == ("cuda" if torch.cuda.is_available() else "cpu")
    fresh_cfg.accelerator, fresh_cfg.device = "auto", "cpu"
    gg.auto_select_device()
    assert fresh_cfg.accelerator == "cpu"
    assert gg.get_current_gpu_usage() == -1  # cfg.gpu_mem is off
    if not torch.cuda.is_available():
        fresh_cfg.accelerator = "cuda"
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            gg.auto_select_device()


def test_eval_and_checkpoint_epochs(fresh_cfg):
    fresh_cfg.train.eval_period, fresh_cfg.train.ckpt_period = 4, 5
    fresh_cfg.optim.max_epoch = 11
    assert [e for e in range(11) if gg.is_eval_epoch(e)] == [0, 3, 7, 10]
    assert [e for e in range(11) if gg.is_ckpt_epoch(e)] == [4, 9, 10]


def test_json_and_tensorboard_io(tmp_path):
    fname = str(tmp_path / "stats.json")
    gg.dict_to_json({"epoch": 0, "loss": 0.5}, fname)
    gg.dict_to_json({"epoch": 1, "loss": 0.25}, fname)
    assert json_to_dict_list(fname) == [{"epoch": 0, "loss": 0.5}, {"epoch": 1, "loss": 0.25}]
    gg.dict_list_to_json([{"a": 1}], fname)
    assert json_to_dict_list(fname) == [{"a": 1}]

    class Writer:
        def __init__(self):
            self.scalars = []

        def add_scalar(self, name, value, step):
            self.scalars.append((name, value, step))

    writer = Writer()
    gg.dict_to_tb({"loss": 0.5, "accuracy": 1, "name": "x", "flag": True}, writer, 3)
    assert writer.scalars == [("loss", 0.5, 3), ("accuracy", 1, 3)]


def test_makedirs_rm_exist_and_dummy_context(tmp_path):
    folder = tmp_path / "out"
    os.makedirs(folder / "old")
    gg.makedirs_rm_exist(str(folder))
    assert folder.is_dir() and os.listdir(folder) == []
    with gg.dummy_context() as value:
        assert value is None


def test_init_weights():
    torch.manual_seed(0)
    linear, bn = torch.nn.Linear(30, 20), torch.nn.BatchNorm1d(5)
    torch.nn.init.normal_(bn.weight)
    linear.apply(gg.init_weights)
    bn.apply(gg.init_weights)
    bound = math.sqrt(2.0) * math.sqrt(6.0 / (30 + 20))
    largest = float(linear.weight.detach().abs().max())
    assert 0.8 * bound < largest <= bound
    assert torch.equal(linear.bias, torch.zeros(20))
    assert torch.equal(bn.weight, torch.ones(5)) and torch.equal(bn.bias, torch.zeros(5))


def test_set_printing_and_logger(fresh_cfg, tmp_path):
    fresh_cfg.out_dir, fresh_cfg.print = str(tmp_path / "exp"), "file"
    fresh_cfg.run_dir = str(tmp_path / "exp" / "0")
    gg.set_printing()
    logging.info("hello graphgym")
    logging.getLogger().handlers[0].flush()
    assert "hello graphgym" in (tmp_path / "exp" / "logging.log").read_text()
    fresh_cfg.share.dim_out, fresh_cfg.share.num_splits = 1, 2
    loggers = gg.create_logger()
    assert [lg.name for lg in loggers] == ["train", "val"]
    logger = loggers[1]
    assert logger.task_type == "classification_binary"
    logger.update_stats(true=torch.tensor([1, 0]), pred=torch.tensor([0.9, 0.2]), loss=0.5,
                        lr=0.1, time_used=0.2, params=7)
    logger.update_stats(true=torch.tensor([1, 1]), pred=torch.tensor([0.4, 0.8]), loss=1.0,
                        lr=0.1, time_used=0.2, params=7)
    stats = logger.write_epoch(0)
    assert stats["loss"] == pytest.approx(0.75) and stats["accuracy"] == pytest.approx(0.75)
    assert stats["auc"] == pytest.approx(1.0) and stats["params"] == 7
    assert json.loads((tmp_path / "exp" / "0" / "val" / "stats.json").read_text()) == stats
