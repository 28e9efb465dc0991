"""``python -m gfx bench``: time and peak memory of gfx eager, gfx compiled, and the
reference library (eager and ``torch.compile``) when it is installed, side by side.

Each measurement runs in a fresh subprocess (``--one``) so that peak memory is the
process's own: CUDA's ``max_memory_allocated``, or on CPU the growth of the peak resident
set size while the measured calls run.  Ratios are taken within one run of this command;
machines are noisy, so compare ratios, not absolute times across runs.

The reference library's models are built by ``tests/oracle/pyg_models.py`` in a source
checkout (the only place gfx touches it, as a black-box oracle), loaded from the path
given by ``--pyg-models`` or found next to this package.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

VARIANTS = ("gfx-eager", "gfx-compiled", "pyg-eager", "pyg-compile")
MODES = ("inference", "train")
SIZES = {"full": dict(nodes=50_000, edges=500_000, features=64),
         "small": dict(nodes=2_000, edges=20_000, features=32),
         "tiny": dict(nodes=60, edges=300, features=8)}


@dataclass
class Workload:
    name: str
    build: Callable[[dict], Tuple[torch.nn.Module, tuple]]  # size -> (gfx model, inputs)


def _graph(size: dict, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    n, e, f = size["nodes"], size["edges"], size["features"]
    return (torch.randn(n, f, generator=g), torch.randint(0, n, (2, e), generator=g))


class TwoLayer(torch.nn.Module):
    """``conv1 -> ReLU -> conv2``, the benchmark's model shape for every conv."""

    def __init__(self, conv1, conv2):
        super().__init__()
        self.conv1, self.conv2 = conv1, conv2

    def forward(self, x, edge_index):
        return self.conv2(F.relu(self.conv1(x, edge_index)), edge_index)


def _conv_workload(name: str, factory: Callable[[int], Tuple[torch.nn.Module, torch.nn.Module]]):
    def build(size):
        x, edge_index = _graph(size)
        conv1, conv2 = factory(size["features"])
        return TwoLayer(conv1, conv2), (x, edge_index)
    return Workload(name, build)


def _gcn(f):
    from gfx.nn import GCNConv
    return GCNConv(f, f), GCNConv(f, f)


def _sage(f):
    from gfx.nn import SAGEConv
    return SAGEConv(f, f), SAGEConv(f, f)


def _gin(f):
    from gfx.nn import GINConv
    from gfx.nn import Linear
    mlp = lambda: torch.nn.Sequential(Linear(f, f), torch.nn.ReLU(), Linear(f, f))  # noqa: E731
    return GINConv(mlp()), GINConv(mlp())


def _gat(f):
    from gfx.nn import GATConv
    return GATConv(f, f // 4, heads=4), GATConv(f, f // 4, heads=4)


WORKLOADS: Dict[str, Workload] = {w.name: w for w in (
    _conv_workload("gcn", _gcn), _conv_workload("sage", _sage),
    _conv_workload("gin", _gin), _conv_workload("gat", _gat))}


def _hetero_workload(relations: int) -> Workload:
    def build(size):
        from gfx.passes.to_hetero import to_hetero
        x, edge_index = _graph(size)
        g = torch.Generator().manual_seed(1)
        # Every node type must receive messages: one relation is a -> a, more alternate
        # between two types.  Total nodes and edges stay the same for every count.
        node_types = ["a"] if relations == 1 else ["a", "b"]
        edge_types = [(node_types[r % len(node_types)], f"r{r}",
                       node_types[(r + 1) % len(node_types)]) for r in range(relations)]
        per = size["edges"] // relations
        count = size["nodes"] // len(node_types)
        x_dict = {t: x[:count] for t in node_types}
        ei_dict = {et: torch.randint(0, count, (2, per), generator=g) for et in edge_types}
        model = TwoLayer(*_sage(size["features"]))
        hetero = to_hetero(model, (node_types, edge_types), aggr="sum")
        return hetero, (x_dict, ei_dict)
    return Workload(f"hetero-sage-{relations}", build)


for _r in (1, 4, 16, 64):
    WORKLOADS[f"hetero-sage-{_r}"] = _hetero_workload(_r)


def _load_pyg_models(path: Optional[str]):
    if path is None:
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        path = os.path.join(here, "tests", "oracle", "pyg_models.py")
    if not os.path.isfile(path) or importlib.util.find_spec("torch_geometric") is None:
        return None
    spec = importlib.util.spec_from_file_location("gfx_bench_pyg_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _loss(out) -> torch.Tensor:
    if isinstance(out, dict):
        return sum(v.float().square().mean() for v in out.values())
    return out.float().square().mean()


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _to(value, device):
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value


def measure_one(workload: str, variant: str, mode: str, size: str, device: str,
                backend: str, repeat: int, pyg_models: Optional[str]) -> dict:
    """One measurement, in this process: median seconds per call and peak extra bytes."""
    torch.manual_seed(0)
    model, inputs = WORKLOADS[workload].build(SIZES[size])
    model = model.to(device)
    inputs = tuple(_to(t, device) for t in inputs)
    if variant.startswith("pyg"):
        pyg = _load_pyg_models(pyg_models)
        if pyg is None:
            return {"skipped": "torch_geometric (or tests/oracle/pyg_models.py) not available"}
        model = pyg.build(workload, model).to(device)
        if variant == "pyg-compile":
            model = torch.compile(model)
    elif variant == "gfx-compiled":
        import gfx
        model = gfx.compile(model, backend=backend)
    model.train(mode == "train")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3) if mode == "train" else None

    def step():
        if optimizer is None:
            with torch.no_grad():
                model(*inputs)
        else:
            optimizer.zero_grad()
            _loss(model(*inputs)).backward()
            optimizer.step()
        _sync(device)

    step()  # warm-up: compilation, caches, lazy allocation
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _reset_peak_rss()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = _peak_rss() - base if base is not None else None
    result = {"seconds": statistics.median(times)}
    if peak is not None:
        result["peak_bytes"] = max(peak, 0)
    return result


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss() -> Optional[int]:
    """Reset the kernel's peak-RSS mark (Linux ``clear_refs`` 5); return current RSS bytes.

    Large tensors are returned to the system when freed, so after the reset the peak
    mark measures what the measured calls themselves hold at their high point.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kib("VmRSS") * 1024
    except OSError:
        return None


def _peak_rss() -> int:
    return _status_kib("VmHWM") * 1024


def _run_subprocess(args, workload, variant, mode) -> dict:
    cmd = [sys.executable, "-m", "gfx", "bench", "--one", workload, variant, mode,
           "--size", args.size, "--device", args.device, "--backend", args.backend,
           "--repeat", str(args.repeat), "--debug"]  # --debug: the last line names the error
    if args.pyg_models:
        cmd += ["--pyg-models", args.pyg_models]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fmt_time(r: dict) -> str:
    if "seconds" in r:
        return f"{r['seconds'] * 1e3:.1f} ms"
    return "skipped" if "skipped" in r else "error"


def _ratio(a: dict, b: dict, key: str, style: str = "times") -> str:
    """``b / a`` as ``2.50x`` (a speed-up) or ``0.25`` (a fraction)."""
    if key in a and key in b and a[key] > 0:
        value = b[key] / a[key]
        return f"{value:.2f}x" if style == "times" else f"{value:.2f}"
    return "-"


def render_table(results: Dict[Tuple[str, str], Dict[str, dict]]) -> str:
    """Markdown: times per variant, then speed-up of compiled gfx over each other variant."""
    head = ("| workload | mode | gfx eager | gfx compiled | pyg eager | pyg compile | "
            "speed-up vs gfx eager | vs pyg eager | vs pyg compile | "
            "peak memory, compiled / pyg eager |")
    lines = [head, "|" + "---|" * 10]
    for (workload, mode), r in results.items():
        c = r["gfx-compiled"]
        lines.append(
            f"| {workload} | {mode} | " + " | ".join(_fmt_time(r[v]) for v in VARIANTS) +
            f" | {_ratio(c, r['gfx-eager'], 'seconds')} | {_ratio(c, r['pyg-eager'], 'seconds')}"
            f" | {_ratio(c, r['pyg-compile'], 'seconds')} | "
            f"{_ratio(r['pyg-eager'], c, 'peak_bytes', 'fraction')} |")
    errors = [f"- {w}/{m}/{v}: {res['error']}" for (w, m), r in results.items()
              for v, res in r.items() if "error" in res]
    return "\n".join(lines + ([""] + errors if errors else [])) + "\n"


def render_plot(results, path: str) -> Optional[str]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels, series = [], {v: [] for v in VARIANTS[1:]}
    for (workload, mode), r in results.items():
        labels.append(f"{workload}\n{mode}")
        base = r["gfx-eager"].get("seconds")
        for v in series:
            s = r[v].get("seconds")
            series[v].append(base / s if base and s else 0.0)
    fig, ax = plt.subplots(figsize=(max(6, len(labels) * 0.9), 4))
    width = 0.8 / len(series)
    for k, (v, values) in enumerate(series.items()):
        ax.bar([i + k * width for i in range(len(labels))], values, width, label=v)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks([i + width for i in range(len(labels))], labels, fontsize=7)
    ax.set_ylabel("speed-up over gfx eager")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


# What a bare ``python -m gfx bench`` measures at each size: a quick look by default, the
# documented tables with ``--size full`` (docs/benchmarks.md).
# torch.compile of the reference model (pyg-compile) costs most of a quick run's time, so
# only the full tables include it by default.
NEIGHBOR_WORKLOAD = "sage-neighbor"
QUICK = dict(workloads="gcn,sage", modes="inference", repeat=1,
             variants="gfx-eager,gfx-compiled,pyg-eager")
DEFAULTS = {"tiny": QUICK, "small": QUICK,
            "full": dict(workloads=",".join(WORKLOADS), modes="inference,train", repeat=10,
                         variants=",".join(VARIANTS))}


def describe_choices() -> str:
    """The text of ``--list``: workloads, variants, modes and sizes."""
    sizes = [f"  {name:<6} {s['nodes']} nodes, {s['edges']} edges, {s['features']} features"
             for name, s in SIZES.items()]
    return "\n".join([
        "workloads (--workloads):", *(f"  {w}" for w in WORKLOADS),
        "  (gcn/sage/gin/gat: two layers of that convolution; hetero-sage-R: to_hetero "
        "GraphSAGE with R relations)",
        f"  {NEIGHBOR_WORKLOAD}  neighbour-sampled GraphSAGE training (alone; its options: "
        f"python -m gfx.bench_neighbor --help)",
        "variants (--variants):",
        "  gfx-eager     gfx layers, eager PyTorch",
        "  gfx-compiled  gfx.compile(model, backend=--backend)",
        "  pyg-eager     torch_geometric's layers with the same weights (skipped when not "
        "installed)",
        "  pyg-compile   torch.compile of the torch_geometric model",
        "modes (--modes):", "  inference     forward under torch.no_grad()",
        "  train         forward, backward and an SGD step",
        "sizes (--size):", *sizes])


def _parser() -> argparse.ArgumentParser:
    quick = DEFAULTS["small"]
    parser = argparse.ArgumentParser(
        prog="python -m gfx bench", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Time and peak memory of gfx eager, gfx compiled and torch_geometric\n"
                    "(eager and torch.compile), one fresh process per measurement.\n\n"
                    f"A bare run is quick (well under a minute of CPU): size small, "
                    f"workloads {quick['workloads']},\nmode {quick['modes']}, "
                    f"{quick['repeat']} repeat, variants {quick['variants']}.\n"
                    "'--size full' gives the tables of docs/benchmarks.md (every workload, "
                    "both modes,\nevery variant, 10 repeats; tens of minutes).",
        epilog="python -m gfx bench --list  shows every workload, variant, mode and size.")
    parser.add_argument("--list", action="store_true",
                        help="list workloads, variants, modes and sizes, and exit")
    parser.add_argument("--size", choices=list(SIZES), default="small",
                        help="graph size: " + "; ".join(
                            f"{k} = {v['nodes']} nodes, {v['edges']} edges" for k, v in
                            SIZES.items()) + " (default: small)")
    parser.add_argument("--workloads", metavar="LIST", default=None,
                        help="comma-separated workloads (see --list) (default: "
                             f"{quick['workloads']}; every workload with --size full)")
    parser.add_argument("--modes", metavar="LIST", default=None,
                        help="comma-separated, from: " + ", ".join(MODES) +
                             f" (default: {quick['modes']}; both with --size full)")
    parser.add_argument("--variants", metavar="LIST", default=None,
                        help="comma-separated, from: " + ", ".join(VARIANTS) +
                             f" (default: {quick['variants']}; all with --size full)")
    parser.add_argument("--repeat", metavar="N", type=int, default=None,
                        help="timed calls per measurement, after one warm-up; the median "
                             f"is reported (default: {quick['repeat']}; 10 with --size full)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="torch device, e.g. cpu, cuda, cuda:1 (default: cuda when "
                             "available, else cpu)")
    parser.add_argument("--backend", default="auto",
                        help="gfx.compile backend: auto, cpp, triton, reference "
                             "(default: auto)")
    parser.add_argument("--out", metavar="DIR", default=os.path.join("out", "bench"),
                        help="folder for bench.md, bench.json and bench.png "
                             "(default: out/bench)")
    parser.add_argument("--pyg-models", metavar="PATH", default=None,
                        help="tests/oracle/pyg_models.py of a source checkout, which builds "
                             "the torch_geometric models (default: found next to gfx)")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks on errors (also: GFX_DEBUG=1)")
    parser.add_argument("--one", nargs=3, metavar=("WORKLOAD", "VARIANT", "MODE"),
                        help=argparse.SUPPRESS)  # internal: one measurement, JSON out
    return parser


def _choose(parser: argparse.ArgumentParser, option: str, value: str,
            known) -> List[str]:
    chosen = [v for v in value.split(",") if v]
    unknown = [v for v in chosen if v not in known]
    if unknown or not chosen:
        kind = option.split()[-1].lstrip("-").lower()
        parser.error(f"{option}: unknown {kind} {', '.join(unknown) or '(empty list)'}; choose "
                     f"from {', '.join(known)} (python -m gfx bench --list)")
    return chosen


def main(argv=None) -> int:
    """``python -m gfx bench [options]``; returns the exit status."""
    from gfx.__main__ import debug_requested, run_guarded
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(argv[:-1]):  # the mini-batch workload has its own tool
        if arg == "--workloads" and argv[i + 1] == NEIGHBOR_WORKLOAD:
            from gfx.bench_neighbor import main as neighbor_main
            neighbor_main(argv[:i] + argv[i + 2:])
            return 0
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        print(describe_choices())
        return 0
    for key, value in DEFAULTS[args.size].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    workloads: List[str] = []
    modes: List[str] = []
    variants: List[str] = []
    if args.one:
        workload, variant, mode = args.one
        _choose(parser, "--one WORKLOAD", workload, list(WORKLOADS))
        _choose(parser, "--one VARIANT", variant, VARIANTS)
        _choose(parser, "--one MODE", mode, MODES)
    else:
        workloads = _choose(parser, "--workloads", args.workloads, list(WORKLOADS))
        modes = _choose(parser, "--modes", args.modes, MODES)
        variants = _choose(parser, "--variants", args.variants, VARIANTS)
    return run_guarded("python -m gfx bench",
                       lambda: _run(args, workloads, modes, variants) if not args.one
                       else _run_one(args), debug_requested(argv))


def _run_one(args) -> int:
    print(json.dumps(measure_one(*args.one, args.size, args.device, args.backend,
                                 args.repeat, args.pyg_models)))
    return 0


def _run(args, workloads: List[str], modes: List[str], variants: List[str]) -> int:
    from tqdm import tqdm
    jobs = [(w, m, v) for w in workloads for m in modes for v in VARIANTS]
    results: Dict[Tuple[str, str], Dict[str, dict]] = {}
    for w, m, v in tqdm(jobs, desc="bench", unit="run", disable=not sys.stderr.isatty()):
        cell = results.setdefault((w, m), {})
        cell[v] = _run_subprocess(args, w, v, m) if v in variants else {"skipped": "not run"}
    os.makedirs(args.out, exist_ok=True)
    table = render_table(results)
    header = (f"device: {args.device}, size: {args.size} {SIZES[args.size]}, "
              f"repeat: {args.repeat}, "
              f"backend: {args.backend}, torch {torch.__version__}, threads "
              f"{torch.get_num_threads()}\n\n")
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(header + table)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump({f"{w}/{m}": r for (w, m), r in results.items()}, f, indent=1)
    plot = render_plot(results, os.path.join(args.out, "bench.png"))
    print(header + table)
    if args.repeat < 3:
        print(f"note: {args.repeat} timed call per cell is a quick look, not a measurement; "
              "use --repeat 10 (or --size full) for numbers to compare")
    print(f"written under {args.out}/: bench.md, bench.json"
          + (f", {os.path.basename(plot)}" if plot else ""))
    return 0
