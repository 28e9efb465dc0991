"""``python -m gfx bench`` runs end to end on a tiny graph and writes its table and plot."""
import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_bench_cli_tiny(tmp_path):
    out = tmp_path / "bench"
    done = subprocess.run(
        [sys.executable, "-m", "gfx", "bench", "--workloads", "gcn", "--modes", "inference,train",
         "--size", "tiny", "--repeat", "2", "--variants", "gfx-eager,gfx-compiled",
         "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    table = (out / "bench.md").read_text()
    assert "| gcn | inference |" in table and "| gcn | train |" in table
    results = json.loads((out / "bench.json").read_text())
    assert results["gcn/train"]["gfx-compiled"]["seconds"] > 0
    assert results["gcn/train"]["pyg-eager"] == {"skipped": "not run"}


def test_bench_rejects_unknown_workloads():
    done = subprocess.run([sys.executable, "-m", "gfx", "bench", "--workloads", "resnet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "unknown workloads" in done.stderr


def test_sage_neighbor_workload_runs_the_mini_batch_benchmark(capsys):
    import pytest

    from gfx.bench import main
    with pytest.raises(SystemExit) as info:
        main(["--workloads", "sage-neighbor", "--help"])
    assert info.value.code == 0 and "--fanout" in capsys.readouterr().out
