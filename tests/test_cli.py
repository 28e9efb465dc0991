"""Every command line a newcomer meets: ``--help`` documents the options, a usage error is
a short message naming the fix (exit status 2, no traceback), a quick run works.

Most commands run in this process through :func:`gfx.__main__.main` (fast); one test per
entry point starts a real process to check ``python -m gfx`` and ``python -m
gfx.graphgym`` themselves.
"""
import logging
import os
import subprocess
import sys

import pytest
import yaml

from gfx.__main__ import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(argv, capsys):
    """``(exit status, stdout, stderr)`` of ``python -m gfx <argv>`` run in-process."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def squeeze(text):
    """``text`` without whitespace: help wraps lines, even at hyphens."""
    return "".join(text.split())


def assert_short_error(err, *needles):
    assert "Traceback" not in err, err
    # argparse's usage block (first line "usage:", then indented lines) may come first.
    lines = [line for line in err.splitlines()
             if line.strip() and not line.startswith(("usage:", " "))]
    assert 1 <= len(lines) <= 2, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.fixture(autouse=True)
def no_debug_env(monkeypatch):
    """No GFX_DEBUG from the caller; GraphGym's logging handlers restored afterwards."""
    monkeypatch.delenv("GFX_DEBUG", raising=False)
    handlers, level = logging.root.handlers[:], logging.root.level
    yield
    logging.root.handlers[:] = handlers
    logging.root.setLevel(level)


# python -m gfx

def test_top_level_help_lists_every_subcommand_without_markup(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0
    for command in ("demo", "inspect", "bench", "catalogue", "graphgym", "--debug"):
        assert command in out, command
    assert "``" not in out and ":func:" not in out and ":class:" not in out


def test_top_level_usage_errors(capsys):
    status, _, err = run([], capsys)
    assert status == 2
    assert_short_error(err, "COMMAND")
    status, _, err = run(["frobnicate"], capsys)
    assert status == 2
    assert_short_error(err, "invalid choice", "demo", "graphgym")


@pytest.mark.slow
def test_real_process_entry_points():
    env = {**os.environ, "PYTHONPATH": ROOT}
    env.pop("GFX_DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "gfx", "inspect", "--list"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "gfx.examples:gcn" in done.stdout, done.stderr
    done = subprocess.run([sys.executable, "-m", "gfx.graphgym", "--cfg", "nope"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert_short_error(done.stderr, "built-in configs: cora")


# demo

def test_demo_help_and_usage_error(capsys):
    status, out, _ = run(["demo", "--help"], capsys)
    assert status == 0
    assert "--out DIR" in out and "(default: out/demo)" in out and "--epochs" in out
    status, _, err = run(["demo", "--epochs", "0"], capsys)
    assert status == 2
    assert_short_error(err, "--epochs must be >= 1")


def test_demo_quick_run(tmp_path, capsys):
    out_dir = tmp_path / "demo-out"
    status, out, err = run(["demo", "--epochs", "2", "--out", str(out_dir)], capsys)
    assert status == 0, err
    assert "Traceback" not in err
    # Honest timings: training, compilation and inference reported separately.
    assert "trained 2 epochs (eager) in" in out
    assert "compilation (first call" in out and "inference, median of 10" in out
    assert "outputs equal: True" in out
    # The fused graph, with the getattr/getitem plumbing folded away.
    table = out.split("fused graph")[1].split("graph drawn to")[0]
    assert "fused_message_reduce" in table
    rows = [line.split()[1] for line in table.splitlines()[3:] if line.strip()]
    assert rows and "getattr" not in rows and "getitem" not in rows
    # Output files live under the folder it names, and it says where.
    assert str(out_dir) in out
    assert {p.name for p in out_dir.iterdir()} & {"demo-gcn.svg", "demo-gcn.dot"}
    assert "gfx hetero demo" in out and "author" in out
    assert "\r" not in out + err  # no progress bar when the output is not a terminal


# inspect

def test_inspect_list_and_usage_errors(capsys):
    status, out, _ = run(["inspect", "--list"], capsys)
    assert status == 0
    assert all(f"gfx.examples:{name}" in out for name in ("gcn", "sage", "gat"))
    status, _, err = run(["inspect"], capsys)
    assert status == 2
    assert_short_error(err, "MODULE:FACTORY", "--list")
    status, _, err = run(["inspect", "no_such_module:factory"], capsys)
    assert status == 2
    assert_short_error(err, "cannot import module 'no_such_module'")


BRANCHY = """\
import torch
from gfx.nn import GCNConv


class Branchy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GCNConv(4, 4)

    def forward(self, x, edge_index):
        if x.sum() > 0:
            return self.conv(x, edge_index)
        return x


def factory():
    return Branchy(), (torch.randn(5, 4), torch.tensor([[0, 1], [1, 2]]))
"""


def test_inspect_capture_failure_is_short_unless_debug(tmp_path, capsys, monkeypatch):
    path = tmp_path / "branchy.py"
    path.write_text(BRANCHY)
    status, _, err = run(["inspect", f"{path}:factory"], capsys)
    assert status == 1
    assert_short_error(err, "could not capture Branchy.forward", "if x.sum() > 0", "--debug")
    with pytest.raises(Exception, match="could not capture"):
        main(["inspect", f"{path}:factory", "--debug"])
    monkeypatch.setenv("GFX_DEBUG", str(tmp_path / "dumps"))
    with pytest.raises(Exception, match="could not capture"):
        main(["inspect", f"{path}:factory"])


def test_inspect_quick_run(capsys):
    status, out, _ = run(["inspect", "gfx.examples:sage"], capsys)
    assert status == 0
    assert out.startswith("GraphSAGE (lowered") and "gfx.scatter" in out


# bench

def test_bench_help_documents_values_and_defaults(capsys):
    status, out, _ = run(["bench", "--help"], capsys)
    assert status == 0
    for text in ("--size", "(default: small)", "--size full", "--list", "--workloads",
                 "inference, train", "gfx-eager, gfx-compiled, pyg-eager, pyg-compile",
                 "(default: 1; 10 with --size full)"):
        assert squeeze(text) in squeeze(out), text
    status, out, _ = run(["bench", "--list"], capsys)
    assert status == 0
    for text in ("gcn", "hetero-sage-64", "pyg-compile", "train", "50000 nodes"):
        assert text in out, text


def test_bench_usage_errors(capsys):
    status, _, err = run(["bench", "--workloads", "resnet"], capsys)
    assert status == 2
    assert_short_error(err, "--workloads: unknown workloads resnet", "gcn, sage", "--list")
    status, _, err = run(["bench", "--size", "huge"], capsys)
    assert status == 2
    assert_short_error(err, "invalid choice: 'huge'", "tiny")
    status, _, err = run(["bench", "--repeat", "0"], capsys)
    assert status == 2
    assert_short_error(err, "--repeat must be >= 1")


@pytest.mark.slow
def test_bench_quick_run(tmp_path, capsys):
    out_dir = tmp_path / "bench"
    status, out, err = run(["bench", "--size", "tiny", "--workloads", "gcn", "--variants",
                            "gfx-eager", "--out", str(out_dir)], capsys)
    assert status == 0, err
    assert "| gcn | inference |" in out and "repeat: 1" in out
    assert "| gcn | train |" not in out  # the quick default measures inference only
    assert "--repeat 10" in out  # one call per cell is flagged as a quick look
    assert (out_dir / "bench.md").is_file() and str(out_dir) in out


# catalogue

def test_catalogue_help_does_not_measure(capsys):
    status, out, _ = run(["catalogue", "--help"], capsys)
    assert status == 0
    assert "--only NAMES" in out and "--list" in out and "| component |" not in out
    status, out, _ = run(["catalogue", "--list"], capsys)
    assert status == 0 and "GCNConv" in out.split() and "| component |" not in out


def test_catalogue_usage_error_and_quick_run(capsys):
    status, _, err = run(["catalogue", "--only", "GCNConvv"], capsys)
    assert status == 2
    assert_short_error(err, "unknown example(s) GCNConvv", "--list")
    status, out, _ = run(["catalogue", "--only", "GCNConv"], capsys)
    assert status == 0
    assert out.splitlines()[2].startswith("| GCNConv | yes | yes |")
    assert len(out.splitlines()) == 3


# graphgym (as python -m gfx graphgym)

def register_tiny_node():
    from gfx.data import SyntheticNodeDataset
    from gfx.graphgym import register
    if "TinyNode" not in register.dataset_dict:  # also registered by tests/graphgym
        register.register_dataset("TinyNode", lambda d: SyntheticNodeDataset(
            num_nodes=120, num_features=8, avg_degree=6, feature_noise=1.0))


def tiny_config(tmp_path, **dataset):
    register_tiny_node()
    config = {"dataset": {"format": "gfx", "name": "TinyNode", **dataset},
              "gnn": {"layer_type": "gcnconv", "batchnorm": False, "dim_inner": 8},
              "optim": {"max_epoch": 2}, "train": {"eval_period": 1, "enable_ckpt": False},
              "num_threads": 1, "out_dir": str(tmp_path / "results")}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_graphgym_help_and_usage_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(["graphgym", "--help"], capsys)
    assert status == 0
    assert "--cfg" in out and "(default: 1)" in out
    assert squeeze("cora, graph, karate, link, node") in squeeze(out)
    cfg = tiny_config(tmp_path)
    status, _, err = run(["graphgym", "--cfg", cfg, "gnn.layers_mpp", "2"], capsys)
    assert status == 2
    assert_short_error(err, "unknown config key 'gnn.layers_mpp'", "did you mean gnn.layers_mp")
    status, _, err = run(["graphgym", "--cfg", cfg, "optim.max_epoch", "2", "--repeat", "2"],
                         capsys)
    assert status == 2
    assert_short_error(err, "--repeat comes after", "put options first")


def test_graphgym_missing_dataset_names_dataset_dir(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cora.yaml"
    path.write_text(yaml.safe_dump({
        "dataset": {"format": "PyG", "name": "Cora", "dir": "no_such_folder",
                    "task": "node", "task_type": "classification"},
        "optim": {"max_epoch": 1}, "out_dir": str(tmp_path / "results")}))
    status, _, err = run(["graphgym", "--cfg", str(path)], capsys)
    assert status == 1
    assert_short_error(err, "FileNotFoundError", "set dataset.dir", "no_such_folder")


def test_graphgym_quick_run_prints_epoch_lines_summary_and_plots(tmp_path, capsys,
                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(["graphgym", "--cfg", tiny_config(tmp_path), "--repeat", "2"],
                           capsys)
    assert status == 0, err
    lines = out.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    # One line per split and epoch, training first: 2 runs x 2 epochs x 3 splits.
    assert len(epoch_lines) == 12
    assert [line.split()[2] for line in epoch_lines[:3]] == ["train", "val", "test"]
    assert all("loss " in line and "accuracy " in line and line.endswith(" s)")
               for line in epoch_lines)
    assert "{" not in out and "\r" not in out + err  # no dicts, no progress bars
    assert "GNN(" not in out  # the model's repr goes to model.txt
    assert lines[-1].startswith("best val epoch ") and "test accuracy" in lines[-1]
    assert "+-" in lines[-1]  # mean +- std over the two runs
    folder = tmp_path / "results" / "tiny"
    for png in (folder / "0" / "curves.png", folder / "1" / "curves.png",
                folder / "agg" / "curves.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    assert "GNN(" in (folder / "0" / "model.txt").read_text()
