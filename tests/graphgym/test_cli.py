"""The command line: a built-in config on embedded data, grid search, and multi-process
(DDP) training that matches a single process with the same global batch."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from gfx.graphgym.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cli(args, cwd):
    env = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run([sys.executable, "-m", "gfx.graphgym", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def json_lines(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.mark.slow
def test_builtin_node_config_runs_from_the_command_line(tmp_path):
    run_cli(["--cfg", "node", "--repeat", "2", "optim.max_epoch", "3", "train.eval_period",
             "1", "num_threads", "1"], tmp_path)
    folder = tmp_path / "results" / "node"
    best = json_lines(folder / "agg" / "test" / "best.json")[0]
    assert 0.0 <= best["accuracy"] <= 1.0 and best["epoch"] in (0, 1, 2)
    assert [r["epoch"] for r in json_lines(folder / "1" / "val" / "stats.json")] == [0, 1, 2]


GRID = """\
# two independent grids: 2 + 1 points
gnn.layers_mp l_mp [1,2]

gnn.layer_type layer ['sageconv']
optim.base_lr lr [1e-3]
"""


def test_grid_search_writes_configs_and_aggregates(tmp_path):
    base = {"dataset": {"format": "gfx", "name": "TinyNode"},
            "gnn": {"layer_type": "gcnconv", "batchnorm": False, "dim_inner": 8},
            "optim": {"max_epoch": 2}, "train": {"eval_period": 1, "enable_ckpt": False},
            "print": "file", "num_threads": 1, "out_dir": str(tmp_path / "results")}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "grid.txt").write_text(GRID)
    assert main(["--cfg", "base.yaml", "--grid", "grid.txt", "--grid_only"]) == 0
    configs = sorted(os.listdir(tmp_path / "configs" / "base_grid_grid"))
    assert configs == ["base-l_mp=1.yaml", "base-l_mp=2.yaml",
                       "base-layer=sageconv-lr=0.001.yaml"]
    written = yaml.safe_load((tmp_path / "configs" / "base_grid_grid" / configs[2]).read_text())
    assert written["gnn"]["layer_type"] == "sageconv" and written["optim"]["base_lr"] == 1e-3
    assert main(["--cfg", "base.yaml", "--grid", "grid.txt", "--repeat", "1"]) == 0
    agg = tmp_path / "results" / "base_grid_grid" / "agg"
    with open(agg / "test_best.csv") as handle:
        header, *rows = handle.read().splitlines()
    assert header.startswith("config,l_mp,") and len(rows) == 3
    assert (agg / "val_curves.png").is_file()


def test_unknown_config_or_grid_is_a_usage_error(tmp_path, capsys):
    assert main(["--cfg", "no_such_config"]) == 2
    assert "built-in configs: cora, graph, karate, link, node" in capsys.readouterr().err
    assert main(["--cfg", "node", "--grid", "no_such_grid.txt"]) == 2
    assert "'no_such_grid.txt' is neither a file nor a built-in grid" in capsys.readouterr().err


def test_grid_with_an_unknown_key_fails_before_running(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text("optim:\n  max_epoch: 1\n")
    (tmp_path / "grid.txt").write_text("gnn.layers_mpp l_mp [1,2]\n")
    assert main(["--cfg", "base.yaml", "--grid", "grid.txt"]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'gnn.layers_mpp'" in err and "Traceback" not in err
    assert not (tmp_path / "configs").exists()
    with pytest.raises(KeyError, match="unknown config key 'gnn.layers_mpp'"):
        main(["--cfg", "base.yaml", "--grid", "grid.txt", "--debug"])


DDP_CONFIG = {
    "accelerator": "cpu", "num_threads": 1, "print": "file", "out_dir": "results",
    "dataset": {"format": "gfx", "name": "SyntheticGraph", "task": "graph",
                "split": [0.8, 0.1, 0.1]},
    "train": {"eval_period": 1, "enable_ckpt": False, "shuffle": False},
    "gnn": {"layers_pre_mp": 1, "layers_mp": 2, "dim_inner": 16, "layer_type": "gcnconv",
            "batchnorm": False, "l2norm": False},
    "model": {"graph_pooling": "mean"},
    "optim": {"max_epoch": 3},
}


@pytest.mark.slow
def test_ddp_with_two_processes_matches_one_process(tmp_path):
    (tmp_path / "single.yaml").write_text(yaml.safe_dump(
        {**DDP_CONFIG, "train": {**DDP_CONFIG["train"], "batch_size": 16}}))
    (tmp_path / "ddp.yaml").write_text(yaml.safe_dump(
        {**DDP_CONFIG, "devices": 2, "train": {**DDP_CONFIG["train"], "batch_size": 8}}))
    run_cli(["--cfg", "single.yaml"], tmp_path)
    run_cli(["--cfg", "ddp.yaml"], tmp_path)
    for split in ("train", "val", "test"):
        single = json_lines(tmp_path / "results" / "single" / "0" / split / "stats.json")
        ddp = json_lines(tmp_path / "results" / "ddp" / "0" / split / "stats.json")
        assert len(single) == len(ddp) == 3
        for a, b in zip(single, ddp):
            assert a["loss"] == pytest.approx(b["loss"], rel=1e-4, abs=1e-6), split
            assert a["accuracy"] == pytest.approx(b["accuracy"]), split
    # Each process took half of every batch: twice the steps per epoch would mean no DDP.
    single_log = (tmp_path / "results" / "single" / "logging.log").read_text()
    assert "run 1/1" in single_log
