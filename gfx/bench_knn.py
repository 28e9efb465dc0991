"""k-NN search benchmark: :func:`gfx.nn.pool.knn` against chunked ``torch.cdist`` + ``topk``.

``python -m gfx.bench_knn`` searches, for each of ``N`` query points, the ``k`` nearest
of ``N`` candidate points in 3-D (uniform in the unit cube, seed 0), once with
``gfx.nn.pool.knn`` (exact, blocked: NOTE [blocked neighbour search]) and once with the
baseline ``torch.cdist(chunk, x).topk(k, largest=False)`` over chunks of ``--chunk``
query points.  Each method runs in its own subprocess, so its peak resident memory is
its own: the table reports the wall time of the search and the growth of the peak RSS
(``resource.getrusage``) during the search, over the process's peak after the points
were created.  It also reports how many query rows got the same neighbour set from
both (the baseline's matrix-multiply distances can reorder near ties).

Usage: ``python -m gfx.bench_knn [--n 100000] [--k 16] [--chunk 4096]``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import torch

METHODS = ("gfx.nn.pool.knn", "cdist+topk")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _points(n: int):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 3, generator=g), torch.rand(n, 3, generator=g)


def _run_gfx(x, y, k: int, chunk: int) -> torch.Tensor:
    from gfx.nn.pool import knn
    return knn(x, y, k)[1].view(-1, k)


def _run_cdist(x, y, k: int, chunk: int) -> torch.Tensor:
    parts = []
    for start in range(0, y.shape[0], chunk):
        dist = torch.cdist(y[start:start + chunk], x)
        parts.append(dist.topk(k, dim=1, largest=False, sorted=True)[1])
    return torch.cat(parts)


def worker(method: str, n: int, k: int, chunk: int, out_path: str) -> Dict:
    """Run one method in this process; save its neighbours; return time and memory."""
    if method == "gfx.nn.pool.knn":  # import before measuring: imports are not search
        import gfx.nn.pool  # noqa: F401
    x, y = _points(n)
    before = _peak_rss_mib()
    start = time.perf_counter()
    with torch.no_grad():
        index = (_run_gfx if method == "gfx.nn.pool.knn" else _run_cdist)(x, y, k, chunk)
    seconds = time.perf_counter() - start
    peak = _peak_rss_mib() - before
    torch.save(index, out_path)
    return {"method": method, "seconds": seconds, "peak_mib": peak}


def _agreement(a: torch.Tensor, b: torch.Tensor) -> float:
    same = (torch.sort(a, dim=1)[0] == torch.sort(b, dim=1)[0]).all(dim=1)
    return float(same.float().mean())


def table(rows: List[Dict], n: int, k: int, chunk: int, agree: float) -> str:
    lines = [f"k-NN search, {n:,} x {n:,} points in 3-D, k={k}, "
             f"{torch.get_num_threads()} threads, torch {torch.__version__}", "",
             "| method | time (s) | peak memory growth (MiB) |", "| --- | --- | --- |"]
    for row in rows:
        name = row["method"] if row["method"] != "cdist+topk" else \
            f"torch.cdist + topk, chunks of {chunk:,} queries"
        lines.append(f"| {name} | {row['seconds']:.2f} | {row['peak_mib']:.0f} |")
    lines += ["", f"Rows with the same neighbour set in both: {agree:.4%}"]
    return "\n".join(lines)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gfx.bench_knn", description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="points per set")
    parser.add_argument("--k", type=int, default=16, help="neighbours per query")
    parser.add_argument("--chunk", type=int, default=4096, help="baseline query chunk")
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.k, args.chunk, args.out)))
        return 0
    rows, results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, method in enumerate(METHODS):
            out = os.path.join(tmp, f"{i}.pt")
            proc = subprocess.run([sys.executable, "-m", "gfx.bench_knn", "--worker", method,
                                   "--n", str(args.n), "--k", str(args.k), "--chunk",
                                   str(args.chunk), "--out", out],
                                  capture_output=True, text=True, check=True)
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            results.append(torch.load(out))
    print(table(rows, args.n, args.k, args.chunk, _agreement(*results)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
