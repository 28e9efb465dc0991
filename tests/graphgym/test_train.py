"""Short training runs through Lightning: one per task type, gfx.compile on and off,
and resuming from a checkpoint."""
import argparse
import json
import os

import pytest
import torch
import yaml

import gfx.graphgym as gg
from gfx.data import Batch, Data
from gfx.graphgym.main import run_experiment

NODE = {
    "dataset": {"format": "gfx", "name": "TinyNode", "task": "node",
                "task_type": "classification"},
    "train": {"eval_period": 2, "ckpt_period": 100},
    "gnn": {"layers_pre_mp": 1, "layers_mp": 2, "layers_post_mp": 1, "dim_inner": 16,
            "layer_type": "gcnconv", "batchnorm": False, "l2norm": False},
    "optim": {"max_epoch": 12, "base_lr": 0.05},
    "print": "file", "num_threads": 1,
}


def with_changes(base, **groups):
    config = json.loads(json.dumps(base))
    for group, values in groups.items():
        if isinstance(values, dict):
            config.setdefault(group, {}).update(values)
        else:
            config[group] = values
    return config


def run(tmp_path, name, config, repeat=1):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**config, "out_dir": str(tmp_path / "results")}))
    results = run_experiment(argparse.Namespace(cfg_file=str(path), repeat=repeat, opts=[],
                                                mark_done=False))
    return results, tmp_path / "results" / name


def stats(folder, seed, split):
    with open(folder / str(seed) / split / "stats.json") as handle:
        return [json.loads(line) for line in handle]


def tensorboard_files(folder):
    return [name for name in os.listdir(folder) if name.startswith("events.out.tfevents")]


def test_node_classification_run_writes_the_documented_layout(tmp_path):
    results, folder = run(tmp_path, "node", {**NODE, "tensorboard_each_run": True}, repeat=2)
    assert results["test"]["accuracy"] > 0.6  # 4 classes
    assert (folder / "config.yaml").is_file() and (folder / "logging.log").is_file()
    for seed in (0, 1):
        assert [r["epoch"] for r in stats(folder, seed, "val")] == [0, 1, 3, 5, 7, 9, 11]
        assert len(stats(folder, seed, "train")) == 12
        assert os.listdir(folder / str(seed) / "ckpt") == ["11.ckpt"]  # cleaned to the last
    for split in ("train", "val", "test"):
        assert (folder / "agg" / split / "best.json").is_file()
        assert tensorboard_files(folder / "agg" / split)
        assert tensorboard_files(folder / "1" / split)
    assert (folder / "agg" / "curves.png").is_file()
    assert gg.cfg.params > 0


def test_link_prediction_run(tmp_path):
    config = with_changes(NODE, dataset={"task": "link_pred", "split": [0.7, 0.15, 0.15],
                                         "resample_negative": True},
                          model={"edge_decoding": "dot"}, optim={"max_epoch": 20})
    results, folder = run(tmp_path, "link", config)
    first = stats(folder, 0, "test")[0]
    assert {"accuracy", "precision", "recall", "f1", "auc"} <= set(first)
    assert results["test"]["auc"] > 0.6


def test_graph_classification_run(tmp_path):
    config = with_changes(NODE, dataset={"name": "TinyGraph", "task": "graph",
                                         "split": [0.5, 0.25, 0.25]},
                          train={"batch_size": 4, "eval_period": 3},
                          gnn={"layer_type": "ginconv", "stage_type": "skipsum"},
                          model={"graph_pooling": "mean"}, optim={"max_epoch": 6})
    results, folder = run(tmp_path, "graph", config)
    assert {"accuracy", "auc"} <= set(results["val"])
    assert len(stats(folder, 0, "train")) == 6


def test_graph_regression_run(tmp_path):
    config = with_changes(NODE, dataset={"name": "TinyRegression", "task": "graph",
                                         "task_type": "regression"},
                          train={"batch_size": 8, "eval_period": 1},
                          gnn={"layer_type": "generalconv"}, model={"graph_pooling": "add"},
                          optim={"max_epoch": 8, "scheduler": "none"})
    results, folder = run(tmp_path, "regression", config)
    assert {"mae", "mse", "rmse", "r2"} <= set(results["test"])
    losses = [r["loss"] for r in stats(folder, 0, "train")]
    assert losses[-1] < losses[0]
    assert gg.cfg.model.loss_fun == "mse"  # cross_entropy was switched for regression


def test_gfx_compile_switch_gives_equal_results(tmp_path):
    config = with_changes(NODE, optim={"max_epoch": 4}, train={"eval_period": 1})
    _, eager = run(tmp_path, "eager", config)
    _, compiled = run(tmp_path, "compiled", with_changes(config, gfx={"compile": True}))
    for split in ("train", "val", "test"):
        for a, b in zip(stats(eager, 0, split), stats(compiled, 0, split)):
            assert a["loss"] == pytest.approx(b["loss"], rel=1e-4, abs=1e-6)
            assert a["accuracy"] == pytest.approx(b["accuracy"])


def test_compiled_layers_share_parameters_and_run_compiled(fresh_cfg):
    fresh_cfg.gnn.layer_type = "gcnconv"
    fresh_cfg.gfx.compile = True
    fresh_cfg.share.dim_in, fresh_cfg.share.dim_out = 3, 4
    model = gg.create_model(to_device=False)
    layers = [m for m in model.modules() if isinstance(m, gg.GCNConv)]
    assert len(layers) == 2 and all(layer.is_compiled for layer in layers)
    assert not any("_compiled" in key for key in model.state_dict())
    graph = Data(x=torch.randn(6, 3), edge_index=torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]),
                 y=torch.arange(6) % 4)
    model.eval()
    first, _ = model(Batch.from_data_list([graph]))

    def eager_call(*args, **kwargs):
        raise AssertionError("the eager layer ran instead of the compiled one")

    for layer in layers:  # the compiled graphs exist now; eager forward must not run
        layer.model.forward = eager_call
    second, _ = model(Batch.from_data_list([graph]))
    assert torch.allclose(first, second)


def test_auto_resume_continues_the_interrupted_run(tmp_path):
    config = with_changes(NODE, optim={"max_epoch": 6, "scheduler": "cos"},
                          train={"ckpt_period": 3, "ckpt_clean": False, "eval_period": 1})
    _, full = run(tmp_path, "full", config)
    full_state = torch.load(full / "0" / "ckpt" / "5.ckpt", weights_only=True)["model_state"]
    # Interrupted after epoch 2: keep its checkpoint and statistics, then resume.
    _, part = run(tmp_path, "part", with_changes(config, optim={"max_epoch": 6}))
    os.remove(part / "0" / "ckpt" / "5.ckpt")
    for split in ("train", "val", "test"):
        lines = (part / "0" / split / "stats.json").read_text().splitlines()[:3]
        (part / "0" / split / "stats.json").write_text("\n".join(lines) + "\n")
    path = tmp_path / "part.yaml"
    resumed = with_changes(config, train={"auto_resume": True})
    path.write_text(yaml.safe_dump({**resumed, "out_dir": str(tmp_path / "results")}))
    run_experiment(argparse.Namespace(cfg_file=str(path), repeat=1, opts=[], mark_done=False))
    state = torch.load(part / "0" / "ckpt" / "5.ckpt", weights_only=True)["model_state"]
    for key, value in full_state.items():
        assert torch.allclose(value, state[key], atol=1e-6), key
    assert [r["epoch"] for r in stats(part, 0, "train")] == list(range(6))
