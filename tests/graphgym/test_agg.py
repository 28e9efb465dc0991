"""agg_runs and agg_batch on generated run folders, with expected values computed here."""
import csv
import json
import os

import pytest

import gfx.graphgym as gg
from gfx.graphgym.utils.agg_runs import name_to_dict

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_run(root, seed, split, records):
    folder = os.path.join(root, str(seed), split)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "stats.json"), "w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def read_json_lines(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


# (epoch, val accuracy, test accuracy, train loss) for two seeds: seed 0 is best on
# validation at epoch 1, seed 1 at epoch 2.
RUNS = {
    0: [(0, 0.50, 0.40, 1.0), (1, 0.80, 0.70, 0.6), (2, 0.70, 0.90, 0.4)],
    1: [(0, 0.60, 0.50, 1.2), (1, 0.65, 0.60, 0.8), (2, 0.90, 0.80, 0.2)],
}


def make_experiment(root, shift=0.0):
    for seed, rows in RUNS.items():
        write_run(root, seed, "train", [{"epoch": e, "loss": l, "accuracy": 1.0}
                                        for e, _, _, l in rows])
        write_run(root, seed, "val", [{"epoch": e, "loss": 1 - v, "accuracy": v + shift}
                                      for e, v, _, _ in rows])
        write_run(root, seed, "test", [{"epoch": e, "loss": 1 - t, "accuracy": t + shift}
                                       for e, _, t, _ in rows])


def test_agg_runs_picks_each_seeds_best_validation_epoch(tmp_path):
    root = str(tmp_path / "exp")
    make_experiment(root)
    results = gg.agg_runs(root, "accuracy")
    # seed 0 -> epoch 1 (test 0.70), seed 1 -> epoch 2 (test 0.80)
    assert results["test"]["accuracy"] == pytest.approx(0.75)
    assert results["test"]["accuracy_std"] == pytest.approx(0.05)
    assert results["val"]["accuracy"] == pytest.approx((0.80 + 0.90) / 2)
    assert results["train"]["loss"] == pytest.approx((0.6 + 0.2) / 2)
    best = read_json_lines(os.path.join(root, "agg", "test", "best.json"))
    assert best == [results["test"]]
    per_epoch = read_json_lines(os.path.join(root, "agg", "val", "stats.json"))
    assert [r["epoch"] for r in per_epoch] == [0, 1, 2]
    assert per_epoch[1]["accuracy"] == pytest.approx((0.80 + 0.65) / 2)
    assert per_epoch[1]["accuracy_std"] == pytest.approx(0.075)
    with open(os.path.join(root, "agg", "curves.png"), "rb") as handle:
        assert handle.read(8) == PNG_MAGIC


def test_auto_metric_and_minimised_error_metrics(tmp_path):
    root = str(tmp_path / "reg")
    for seed in (0, 1):
        write_run(root, seed, "val", [{"epoch": 0, "mae": 0.5 + seed},
                                      {"epoch": 1, "mae": 0.2 + seed},
                                      {"epoch": 2, "mae": 0.9}])
    results = gg.agg_runs(root)  # auto -> mae, minimised
    assert results["val"]["mae"] == pytest.approx((0.2 + 0.9) / 2)  # seed 1: epoch 2
    assert results["val"]["epoch"] in (1, 2)
    root = str(tmp_path / "cls")
    write_run(root, 0, "val", [{"epoch": 0, "accuracy": 0.9, "auc": 0.5},
                               {"epoch": 1, "accuracy": 0.5, "auc": 0.8}])
    assert gg.agg_runs(root)["val"]["auc"] == pytest.approx(0.8)  # auto prefers auc
    with pytest.raises(ValueError, match="'f1' is not among"):
        gg.agg_runs(root, "f1")


def test_agg_runs_needs_runs(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run folder"):
        gg.agg_runs(str(tmp_path))


def test_agg_batch_tabulates_experiments(tmp_path):
    batch = tmp_path / "grid"
    names = ["base-l_mp=2-lr=1e-3", "base-l_mp=4-lr=1e-3"]
    make_experiment(str(batch / names[0]))
    make_experiment(str(batch / names[1]), shift=0.05)
    for name in names:
        gg.agg_runs(str(batch / name), "accuracy")
    rows = gg.agg_batch(str(batch), "accuracy")
    assert [r["l_mp"] for r in rows["test"]] == ["2", "4"]
    assert [r["lr"] for r in rows["test"]] == ["1e-3", "1e-3"]
    assert rows["test"][1]["accuracy"] == pytest.approx(0.80)
    with open(batch / "agg" / "test_best.csv") as handle:
        table = list(csv.DictReader(handle))
    assert [t["config"] for t in table] == ["base", "base"]
    assert float(table[0]["accuracy"]) == pytest.approx(0.75)
    with open(batch / "agg" / "val.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 6  # 3 epochs x 2 experiments
    # Best epoch of the mean validation curve: (0.55, 0.725, 0.80) -> epoch 2,
    # where the mean test accuracy is (0.90 + 0.80) / 2.
    with open(batch / "agg" / "test_bestepoch.csv") as handle:
        first = next(csv.DictReader(handle))
    assert int(first["epoch"]) == 2 and float(first["accuracy"]) == pytest.approx(0.85)
    with open(batch / "agg" / "val_curves.png", "rb") as handle:
        assert handle.read(8) == PNG_MAGIC


def test_experiment_names_parse_with_dashes_in_values():
    assert name_to_dict("cfg-l_mp=2-lr=1e-3-act=lrelu_01-stage=skip-sum") == {
        "config": "cfg", "l_mp": "2", "lr": "1e-3", "act": "lrelu_01", "stage": "skip-sum"}
