"""The catalogue's status, measured: does each convolution lower, and what fuses?

``python -m gfx catalogue`` builds every entry of :data:`EXAMPLES` on a small random graph,
lowers it, runs the fusion pass (reference kernels) and prints a markdown table: how many
message-passing reductions became fused nodes (``fused_message_reduce`` or ``fused_attention``) and how many stay as
primitives.  Every column is measured by this run; the formula and oracle tests of each
component live in tests/nn and tests/oracle.  docs/catalogue.md holds the table and a
test keeps the two equal.
"""
from __future__ import annotations

from dataclasses import dataclass
import importlib
import pkgutil
from typing import Callable, Dict, List, Optional, Tuple

import torch

N, E, F_IN = 8, 24, 6


@dataclass(frozen=True)
class Example:
    """How to build one component and its inputs on the small example graph.

    ``resize(edge_index, num_nodes, generator)``, when given, builds inputs of the same
    kinds for another graph (the hypothesis tests use it); without it, tensors with
    ``N`` rows become node features, a ``[2, E]`` long tensor the edge index, a long
    vector edge types and other ``E``-row tensors edge features.
    """
    build: Callable[[], torch.nn.Module]
    inputs: Callable[[torch.Generator], tuple]
    resize: Optional[Callable[[torch.Tensor, int, torch.Generator], tuple]] = None


def _graph(g):
    return torch.randn(N, F_IN, generator=g), torch.randint(0, N, (2, E), generator=g)


def _xe(g):
    return _graph(g)


def _xe_attr(dim):
    def inputs(g):
        x, ei = _graph(g)
        return x, ei, torch.randn(E, dim, generator=g)
    return inputs


def _xe_type(g):
    x, ei = _graph(g)
    return x, ei, torch.randint(0, 3, (E,), generator=g)


def _gcn2(g):
    x, ei = _graph(g)
    return x, x.clone(), ei


def _n(name):
    import gfx.nn as gnn
    return getattr(gnn, name)


def _mlp():
    from gfx.nn import Linear
    return torch.nn.Sequential(Linear(F_IN, 8), torch.nn.ReLU(), Linear(8, 8))


EXAMPLES: Dict[str, Example] = {
    "SimpleConv": Example(lambda: _n("SimpleConv")(), _xe),
    "GCNConv": Example(lambda: _n("GCNConv")(F_IN, 8), _xe),
    "ChebConv": Example(lambda: _n("ChebConv")(F_IN, 8, K=3), _xe),
    "SAGEConv": Example(lambda: _n("SAGEConv")(F_IN, 8), _xe),
    "GraphConv": Example(lambda: _n("GraphConv")(F_IN, 8), _xe),
    "GatedGraphConv": Example(lambda: _n("GatedGraphConv")(8, num_layers=2), _xe),
    "ResGatedGraphConv": Example(lambda: _n("ResGatedGraphConv")(F_IN, 8), _xe),
    "GATConv": Example(lambda: _n("GATConv")(F_IN, 4, heads=2), _xe),
    "GATv2Conv": Example(lambda: _n("GATv2Conv")(F_IN, 4, heads=2), _xe),
    "TransformerConv": Example(lambda: _n("TransformerConv")(F_IN, 4, heads=2), _xe),
    "AGNNConv": Example(lambda: _n("AGNNConv")(), _xe),
    "TAGConv": Example(lambda: _n("TAGConv")(F_IN, 8), _xe),
    "GINConv": Example(lambda: _n("GINConv")(_mlp()), _xe),
    "GINEConv": Example(lambda: _n("GINEConv")(_mlp(), edge_dim=3), _xe_attr(3)),
    "ARMAConv": Example(lambda: _n("ARMAConv")(F_IN, 8, num_stacks=2), _xe),
    "SGConv": Example(lambda: _n("SGConv")(F_IN, 8, K=2), _xe),
    "SSGConv": Example(lambda: _n("SSGConv")(F_IN, 8, alpha=0.1, K=2), _xe),
    "APPNP": Example(lambda: _n("APPNP")(K=3, alpha=0.1), _xe),
    "MFConv": Example(lambda: _n("MFConv")(F_IN, 8), _xe),
    "EdgeConv": Example(lambda: _n("EdgeConv")(torch.nn.Sequential(
        torch.nn.Linear(2 * F_IN, 8), torch.nn.ReLU())), _xe),
    "GeneralConv": Example(lambda: _n("GeneralConv")(F_IN, 8), _xe),
    "LGConv": Example(lambda: _n("LGConv")(), _xe),
    "GCN2Conv": Example(lambda: _n("GCN2Conv")(F_IN, alpha=0.1), _gcn2),
    "PNAConv": Example(lambda: _n("PNAConv")(F_IN, 8, ["mean", "max"], ["identity", "amplification"],
                                             torch.tensor([0, 2, 3, 2, 1])), _xe),
    "ClusterGCNConv": Example(lambda: _n("ClusterGCNConv")(F_IN, 8), _xe),
    "GENConv": Example(lambda: _n("GENConv")(F_IN, 8), _xe),
    "LEConv": Example(lambda: _n("LEConv")(F_IN, 8), _xe),
    "FiLMConv": Example(lambda: _n("FiLMConv")(F_IN, 8), _xe),
    "RGCNConv": Example(lambda: _n("RGCNConv")(F_IN, 8, num_relations=3), _xe_type),
    "FastRGCNConv": Example(lambda: _n("FastRGCNConv")(F_IN, 8, num_relations=3), _xe_type),
}


def _collect_families() -> None:
    """Add the entries of every module in :mod:`gfx.catalogue_examples` (one per family)."""
    import gfx.catalogue_examples as families
    for info in sorted(pkgutil.iter_modules(families.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{families.__name__}.{info.name}")
        for name in module.EXAMPLES:
            if name in EXAMPLES:
                raise ValueError(f"catalogue example {name!r} is defined twice "
                                 f"(gfx.catalogue_examples.{info.name})")
        EXAMPLES.update(module.EXAMPLES)
        NOTES.update(getattr(module, "NOTES", {}))


def _is(node, name: str) -> bool:
    parts = str(node.target).split(".")
    return node.op == "call_function" and parts[0] == "gfx" and parts[1:2] == [name]


def measure(name: str) -> Tuple[str, str]:
    """``(lowers, fuses)`` for one entry: checks against eager, counts fused reductions."""
    import inspect

    from gfx.compile import build_graph, constant_arguments
    from gfx.passes.fusion import fuse_message_reduce
    from gfx.passes.fusion_attention import fuse_attention
    from gfx.pipeline import CLEANUP, Pass, run_passes

    example = EXAMPLES[name]
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = example.build().eval()
    inputs = example.inputs(g)
    with torch.no_grad():
        expected = model(*inputs)
        try:
            constants = constant_arguments(inspect.signature(model.forward), inputs, {})
            gm = build_graph(model, concrete_args=constants)
            if not torch.allclose(gm(*inputs), expected, atol=1e-5):
                return "differs", "-"
        except Exception as exc:  # noqa: BLE001 - reported in the table
            return f"no ({type(exc).__name__})", "-"
        fused = run_passes(gm, [Pass("fuse_attention", fuse_attention("reference")),
                                Pass("fuse", fuse_message_reduce("reference"))] + CLEANUP)
        if not torch.allclose(fused(*inputs), expected, atol=1e-5):
            return "yes", "differs"
    done = sum(1 for n in fused.graph.nodes
               if _is(n, "fused_message_reduce") or _is(n, "fused_attention"))
    left = sum(1 for n in fused.graph.nodes if _is(n, "scatter") or _is(n, "segment"))
    if done and not left:
        return "yes", "yes"
    if done:
        return "yes", f"partly ({done} of {done + left} reductions)"
    return "yes", "no"


# Where a component's eager and oracle checks deviate from "formula-tested, oracle-checked
# with copied weights", the note says how (details in the class docstring).
NOTES: Dict[str, str] = {
    "GATConv": "kernel backends fuse scores, softmax and messages into one fused_attention node",
    "GATv2Conv": "the score reads x_j and sums over channels: not fused",
    "TransformerConv": "the query-key dot product stays unfused; softmax and messages fuse (fused_attention)",
    "EdgeConv": "message is an MLP on edges: not fused",
    "GeneralConv": "per-edge linear messages: not fused",
    "PNAConv": "multiple aggregations and degree scalers: not fused",
    "GENConv": "softmax aggregation fuses as fused_attention",
    "FiLMConv": "per-relation edge selection: not fused",
    "MFConv": "the degree-bucket reduction stays a plain scatter",
    "FastRGCNConv": "per-edge weight gather: not fused",
}


_collect_families()


def table(names: Optional[List[str]] = None) -> str:
    """The markdown table of :func:`measure` over ``names`` (default: every example)."""
    lines = ["| component | lowers (equals eager) | fuses (equals eager) | note |",
             "|---|---|---|---|"]
    for name in (list(EXAMPLES) if names is None else names):
        lowers, fuses = measure(name)
        lines.append(f"| {name} | {lowers} | {fuses} | {NOTES.get(name, '')} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m gfx catalogue [--list] [--only NAMES]``; returns the exit status."""
    import argparse
    import sys

    from gfx.__main__ import debug_requested, run_guarded
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m gfx catalogue",
        description="Build every catalogue example on an 8-node graph, lower it, run the "
                    "fusion passes and print a markdown table: does it lower, what fuses. "
                    "docs/catalogue.md holds the full table.")
    parser.add_argument("--list", action="store_true",
                        help="print the example names and exit, without measuring")
    parser.add_argument("--only", metavar="NAMES", default=None,
                        help="comma-separated example names to measure, e.g. "
                             "GCNConv,GATConv (default: all; see --list)")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks on errors (also: GFX_DEBUG=1)")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(EXAMPLES))
        return 0
    names = list(EXAMPLES)
    if args.only is not None:
        names = [n for n in args.only.split(",") if n]
        unknown = [n for n in names if n not in EXAMPLES]
        if unknown or not names:
            parser.error(f"--only: unknown example(s) {', '.join(unknown) or '(none given)'}; "
                         f"'python -m gfx catalogue --list' lists the {len(EXAMPLES)} names")

    def body() -> int:
        print(table(names), end="")
        return 0
    return run_guarded("python -m gfx catalogue", body, debug_requested(argv))
