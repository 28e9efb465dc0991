"""Smoke tests of ``python -m gfx.bench_neighbor`` on tiny graphs."""
import argparse

import pytest
import torch

from gfx import bench_neighbor as bench


def args_for(**changes):
    parser = bench._parser()
    args = parser.parse_args(["--nodes", "300", "--edges", "3000", "--features", "8",
                              "--classes", "3", "--hidden", "8", "--batch", "16",
                              "--batches", "3", "--warmup", "1", "--fanout", "4,3"])
    bench._check(args, parser)
    for key, value in changes.items():
        setattr(args, key, value)
    return args


def test_power_law_graph_is_seeded_and_skewed():
    graph = bench.power_law_graph(2000, 40000, 5, 7, seed=3)
    again = bench.power_law_graph(2000, 40000, 5, 7, seed=3)
    assert all(torch.equal(graph[k], again[k]) for k in graph)
    assert not torch.equal(graph["edge_index"],
                           bench.power_law_graph(2000, 40000, 5, 7, seed=4)["edge_index"])
    edge_index = graph["edge_index"]
    assert edge_index.shape == (2, 40000) and edge_index.dtype == torch.long
    assert int(edge_index.min()) >= 0 and int(edge_index.max()) < 2000
    assert graph["x"].shape == (2000, 5) and int(graph["y"].max()) < 7
    # Weights (r + 1)^-0.8: the top 1% of nodes holds sum_{r<20} w_r / sum w of the
    # edge ends, about 0.18 here; uniform ends would give 0.01.
    ends = torch.bincount(edge_index.view(-1), minlength=2000).sort(descending=True).values
    weights = torch.arange(1, 2001, dtype=torch.float64).pow(-0.8)
    expected = float(weights[:20].sum() / weights.sum())
    assert abs(float(ends[:20].sum()) / ends.sum().item() - expected) < 0.03
    with pytest.raises(ValueError, match="'num_edges'"):
        bench.power_law_graph(10, 0, 2, 2)


def test_eager_variant_measures_its_batches():
    row = bench.run_variant("eager", args_for())
    assert row["batches"] == 3 and row["edges_per_s"] > 0
    assert 0 < row["sampling_ms"] <= row["ms_per_batch"]
    assert row["epoch_batches"] == 2  # ceil(0.08 * 300 / 16)
    assert row["epoch_s"] == pytest.approx(2 * row["ms_per_batch"] / 1e3)
    assert row["peak_rss_gib"] > 0


def test_compiled_variant_counts_kernel_builds_of_timed_batches():
    from gfx.codegen import cpp_build
    if not cpp_build.available():
        pytest.skip("no C compiler with OpenMP for the cpp backend")
    # A child process: kernels loaded earlier in this process would not be asked for.
    rows = bench.main(["--nodes", "300", "--edges", "3000", "--features", "8",
                       "--classes", "3", "--hidden", "8", "--batch", "16", "--batches", "3",
                       "--warmup", "1", "--fanout", "4,3", "--variants", "compiled",
                       "--threads", "1"])
    row = rows[0]
    assert row["batches"] == 3
    assert row["kernel_builds_all"] > 0  # the model runs C++ kernels (warm-up requests)
    # Batches of other sizes reuse them (fan-out [4, 3] over 300 nodes: sizes vary).
    assert row["kernel_builds"] == 0


def test_counter_is_removed_after_a_run():
    from gfx.codegen import cpp_build
    if not cpp_build.available():
        pytest.skip("no C compiler with OpenMP for the cpp backend")
    original = cpp_build.build
    row = bench.run_variant("compiled", args_for())
    assert cpp_build.build is original and row["kernel_builds"] == 0


def test_reference_variant_runs_or_says_why_not():
    pytest.importorskip("torch_geometric")
    row = bench.run_variant("reference", args_for())
    if "skipped" in row:
        assert "pyg-lib" in row["skipped"] or "torch-sparse" in row["skipped"]
    else:
        assert row["batches"] == 3 and row["edges_per_s"] > 0


def test_table_lists_measured_and_skipped_rows():
    rows = [{"variant": "eager", "edges_per_s": 12345.6, "ms_per_batch": 2.5,
             "sampling_ms": 1.25, "epoch_s": 30.0, "peak_rss_gib": 1.5},
            {"variant": "reference", "skipped": "ImportError: no sampler"}]
    lines = bench.table(rows).splitlines()
    assert lines[2] == "| gfx eager | 12,346 | 2.5 | 1.2 | 30.0 | 1.50 | - |"
    assert lines[3].startswith("| reference NeighborLoader + GraphSAGE | skipped: "
                               "ImportError: no sampler |")
    assert all(line.count("|") == 8 for line in lines)
    compiled = dict(rows[0], variant="compiled", kernel_builds=0)
    assert bench.table([compiled]).splitlines()[2].endswith("| 1.50 | 0 |")


@pytest.mark.parametrize("argv, message", [
    (["--fanout", "15,x"], "--fanout"), (["--batch", "0"], "--batch"),
    (["--variants", "eager,jit"], "--variants"), (["--train-fraction", "2"], "--train")])
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit):
        bench.main(argv)
    assert message in capsys.readouterr().err


def test_main_runs_a_variant_in_a_child_process(capsys):
    rows = bench.main(["--nodes", "200", "--edges", "1000", "--features", "4",
                       "--classes", "2", "--hidden", "4", "--batch", "16", "--batches", "2",
                       "--variants", "eager", "--threads", "1"])
    assert [r["variant"] for r in rows] == ["eager"] and "skipped" not in rows[0]
    out = capsys.readouterr().out
    assert "| gfx eager |" in out and "200 nodes, 1,000 edges" in out
