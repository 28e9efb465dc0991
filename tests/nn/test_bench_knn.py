"""gfx.bench_knn: both methods find the same neighbours on a small set; the table reads
as documented.  (The command line spawns two processes importing gfx; too slow here.)"""
import torch

from gfx import bench_knn


def test_worker_methods_agree_in_process(tmp_path):
    a = bench_knn.worker("gfx.nn.pool.knn", 500, 4, 128, str(tmp_path / "a.pt"))
    b = bench_knn.worker("cdist+topk", 500, 4, 128, str(tmp_path / "b.pt"))
    assert a["seconds"] >= 0 and b["peak_mib"] >= 0
    ia, ib = torch.load(tmp_path / "a.pt"), torch.load(tmp_path / "b.pt")
    assert ia.shape == ib.shape == (500, 4)
    assert bench_knn._agreement(ia, ib) > 0.99


def test_table_layout():
    rows = [{"method": "gfx.nn.pool.knn", "seconds": 1.5, "peak_mib": 10.0},
            {"method": "cdist+topk", "seconds": 2.25, "peak_mib": 1600.4}]
    lines = bench_knn.table(rows, 1000, 16, 4096, 0.5).splitlines()
    assert lines[2] == "| method | time (s) | peak memory growth (MiB) |"
    assert lines[4] == "| gfx.nn.pool.knn | 1.50 | 10 |"
    assert lines[5] == "| torch.cdist + topk, chunks of 4,096 queries | 2.25 | 1600 |"
    assert lines[-1] == "Rows with the same neighbour set in both: 50.0000%"
