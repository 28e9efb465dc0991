"""Neighbour-sampled GraphSAGE training on a synthetic power-law graph.

``python -m gfx.bench_neighbor [--nodes N --edges E --fanout 15,10 --batch 1024
--batches K]`` trains a two-layer GraphSAGE for ``K`` mini-batches (after two warm-up
batches) with each variant and prints a markdown table:

* ``gfx eager``: :class:`gfx.loader.NeighborLoader` + ``gfx.nn.GraphSAGE``;
* ``gfx compiled``: the same model through ``gfx.compile(model, backend="cpp")``;
* ``reference``: the reference library's ``NeighborLoader`` and ``GraphSAGE`` when it
  is installed and can sample (it needs pyg-lib or torch-sparse); otherwise the row
  says why it was skipped.

Each variant runs in its own Python process, which builds the graph from the same seed,
so that its peak resident memory (``ru_maxrss``) is its own.  The graph has ``N`` nodes
and ``E`` directed edges whose two ends are drawn independently with probability
proportional to :math:`(r + 1)^{-\\alpha}` over a random ranking :math:`r` of the nodes
(a Chung-Lu-style power law; :math:`\\alpha = 0.8` by default), ``F`` random features
and ``C`` classes.  The defaults (2.4M nodes, 60M edges, 100 features, 47 classes) are
the size of the largest product co-purchase benchmark graph.

Reported per variant: sampled edges per second (edges of the sampled subgraphs divided
by the wall time of sampling + forward + backward + optimiser step), milliseconds per
batch and the part of them spent sampling, the epoch time extrapolated to
``ceil(train_fraction * N / batch)`` batches, the peak RSS of the process (graph
construction included) and, for the compiled model, how many C++ kernel libraries it
asked for during the timed batches (0: no per-batch specialisation).
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from typing import Dict, List, Optional

import torch

VARIANTS = ("eager", "compiled", "reference")
LABELS = {"eager": "gfx eager", "compiled": "gfx compiled (cpp)",
          "reference": "reference NeighborLoader + GraphSAGE"}


def power_law_graph(num_nodes: int, num_edges: int, num_features: int, num_classes: int,
                    alpha: float = 0.8, seed: int = 0) -> Dict[str, torch.Tensor]:
    """``x``, ``edge_index`` and ``y`` of the synthetic power-law graph (module doc).

    Args:
        num_nodes (int): nodes.
        num_edges (int): directed edges.
        num_features (int): feature columns (standard normal).
        num_classes (int): classes (uniform labels).
        alpha (float, optional): the power-law exponent. (default: ``0.8``)
        seed (int, optional): the random seed. (default: ``0``)
    """
    for name, value in (("num_nodes", num_nodes), ("num_edges", num_edges),
                        ("num_features", num_features), ("num_classes", num_classes)):
        if value <= 0:
            raise ValueError(f"power_law_graph: '{name}' must be positive, got {value}")
    generator = torch.Generator().manual_seed(seed)
    weight = torch.arange(1, num_nodes + 1, dtype=torch.float64).pow_(-alpha)
    cdf = weight.cumsum_(0)
    cdf /= cdf[-1].clone()
    cdf = cdf.float()
    rank_to_node = torch.randperm(num_nodes, generator=generator)
    ends = []
    for _ in range(2):
        rank = torch.searchsorted(cdf, torch.rand(num_edges, generator=generator))
        ends.append(rank_to_node[rank.clamp_(max=num_nodes - 1)])
    x = torch.randn(num_nodes, num_features, generator=generator)
    y = torch.randint(num_classes, (num_nodes,), generator=generator)
    return {"x": x, "edge_index": torch.stack(ends), "y": y}


def _peak_rss_gib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def _loader_and_model(variant: str, graph: Dict[str, torch.Tensor], args):
    fanout = args.fanout
    if variant == "reference":  # built by tests/oracle/pyg_models.py (see gfx.bench)
        from gfx.bench import _load_pyg_models
        reference = _load_pyg_models(None)
        if reference is None:
            raise ImportError("torch_geometric (or tests/oracle/pyg_models.py) not available")
        loader, model = reference.neighbor_loader_and_model(
            graph, fanout, args.batch, args.features, args.hidden, args.classes)
        return loader, model, model
    from gfx.data import Data
    from gfx.loader import NeighborLoader
    from gfx.nn import GraphSAGE
    data = Data(**graph)
    loader = NeighborLoader(data, num_neighbors=fanout, batch_size=args.batch, shuffle=True)
    model = GraphSAGE(args.features, args.hidden, len(fanout), args.classes)
    step = model
    if variant == "compiled":
        import gfx
        step = gfx.compile(model, backend="cpp")
    return loader, model, step


class _CountBuilds:
    """Counts the requests for a C++ kernel library (compiled now or found in the cache)
    while ``counting`` is set: a compiled model that specialises per batch shows them in
    every batch."""

    def __init__(self):
        from gfx.codegen import cpp_build
        self.module, self.build = cpp_build, cpp_build.build
        self.counting, self.count, self.total = False, 0, 0
        cpp_build.build = self

    def __call__(self, source: str):
        self.count += self.counting
        self.total += 1
        return self.build(source)

    def close(self) -> None:
        self.module.build = self.build


def run_variant(variant: str, args) -> Dict[str, object]:
    """Train ``args.batches`` batches with ``variant`` in this process; the measured row."""
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    graph = power_law_graph(args.nodes, args.edges, args.features, args.classes,
                            seed=args.seed)
    try:
        loader, model, step = _loader_and_model(variant, graph, args)
        batches = iter(loader)
        next(batches)  # the reference fails here when it has no sampling backend
    except (ImportError, RuntimeError, ModuleNotFoundError) as error:
        if variant != "reference":
            raise
        return {"variant": variant, "skipped": f"{type(error).__name__}: {error}"}
    del graph
    setup = time.perf_counter() - start
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    builds = _CountBuilds() if variant == "compiled" else None
    edges, done, elapsed, sampling = 0, 0, 0.0, 0.0
    total = args.batches + args.warmup
    tick = time.perf_counter()
    for i in range(total):
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        sampled = time.perf_counter()
        optimizer.zero_grad()
        out = step(batch.x, batch.edge_index)[:batch.batch_size]
        loss = torch.nn.functional.cross_entropy(out, batch.y[:batch.batch_size])
        loss.backward()
        optimizer.step()
        now = time.perf_counter()
        if builds is not None:
            builds.counting = i + 1 >= args.warmup  # from the first timed batch on
        if i >= args.warmup:  # warm-up batches (and compilation) are not timed
            edges += int(batch.edge_index.shape[1])
            done += 1
            elapsed += now - tick
            sampling += sampled - tick
        tick = now
    per_batch = elapsed / max(done, 1)
    if builds is not None:
        builds.close()
    epoch_batches = math.ceil(args.train_fraction * args.nodes / args.batch)
    return {"variant": variant, "edges_per_s": edges / elapsed if elapsed else 0.0,
            "ms_per_batch": 1e3 * per_batch,
            "sampling_ms": 1e3 * sampling / max(done, 1), "epoch_s": per_batch * epoch_batches,
            "epoch_batches": epoch_batches, "setup_s": setup,
            "peak_rss_gib": _peak_rss_gib(), "batches": done,
            "kernel_builds": builds.count if builds is not None else None,
            "kernel_builds_all": builds.total if builds is not None else None}


def _child(variant: str, argv: List[str], timeout: Optional[float]) -> Dict[str, object]:
    command = [sys.executable, "-m", "gfx.bench_neighbor", *argv, "--variant", variant]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"variant": variant, "skipped": f"ran past --timeout {timeout} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"variant": variant, "skipped": f"failed (exit {done.returncode}): {tail[0]}"}
    return json.loads(lines[-1])


def table(rows: List[Dict[str, object]]) -> str:
    """The markdown table of the measured (or skipped) variants."""
    lines = ["| variant | sampled edges/s | ms/batch | of which sampling (ms) | epoch (s) "
             "| peak RSS (GiB) | kernel builds (timed) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        label = LABELS[str(row["variant"])]
        if "skipped" in row:
            lines.append(f"| {label} | skipped: {row['skipped']} | | | | | |")
            continue
        lines.append(f"| {label} | {row['edges_per_s']:,.0f} | {row['ms_per_batch']:.1f} | "
                     f"{row['sampling_ms']:.1f} | {row['epoch_s']:.1f} | {row['peak_rss_gib']:.2f} | "
                     f"{'-' if row.get('kernel_builds') is None else row['kernel_builds']} |")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gfx.bench_neighbor",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2_400_000)
    parser.add_argument("--edges", type=int, default=60_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--classes", type=int, default=47)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--fanout", default="15,10",
                        help="neighbours per hop, comma-separated (default: 15,10)")
    parser.add_argument("--batch", type=int, default=1024, help="seed nodes per batch")
    parser.add_argument("--batches", type=int, default=20, help="timed batches")
    parser.add_argument("--warmup", type=int, default=2, help="untimed first batches")
    parser.add_argument("--train-fraction", type=float, default=0.08,
                        help="seed share of the nodes in an epoch (products: 0.08)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (0: torch's default)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per variant before it is reported as skipped")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    return parser


def _check(args, parser) -> None:
    try:
        args.fanout = [int(f) for f in str(args.fanout).split(",")]
    except ValueError:
        parser.error(f"--fanout must be comma-separated integers, got {args.fanout!r}")
    for name in ("nodes", "edges", "features", "classes", "hidden", "batch", "batches"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive, got {getattr(args, name)}")
    if not 0 < args.train_fraction <= 1:
        parser.error(f"--train-fraction must lie in (0, 1], got {args.train_fraction}")
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        parser.error(f"--variants: unknown {sorted(unknown)}; choose from {VARIANTS}")


def main(argv: Optional[List[str]] = None) -> List[Dict[str, object]]:
    """Run the benchmark (see the module doc); returns the rows it printed."""
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    _check(args, parser)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.variant is not None:  # a child process: one variant, one JSON line
        print(json.dumps(run_variant(args.variant, args)), flush=True)
        return []
    rows = [_child(v, argv, args.timeout) for v in args.variants.split(",")]
    print(f"GraphSAGE, {args.nodes:,} nodes, {args.edges:,} edges, fan-out "
          f"{args.fanout}, batch {args.batch}, {args.batches} timed batches, epoch = "
          f"{math.ceil(args.train_fraction * args.nodes / args.batch)} batches\n")
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
