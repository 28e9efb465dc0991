"""Command line: ``python -m gfx demo | inspect MODULE:FACTORY | catalogue | bench [options]``."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # the benchmark has its own options (python -m gfx bench -h)
        from gfx.bench import main as bench_main
        return bench_main(argv[1:])
    if argv[:1] == ["catalogue"]:
        from gfx.catalogue import main as catalogue_main
        return catalogue_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m gfx", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="train a 2-layer GCN on embedded data and print accuracy")
    sub.add_parser("catalogue", help="measure which convolutions lower and fuse (markdown)")
    sub.add_parser("bench", help="time and peak memory: gfx eager / compiled vs torch_geometric "
                   "(see python -m gfx bench -h)")
    inspect_parser = sub.add_parser(
        "inspect", help="print a model's lowered graph as a table (level, shape, source)")
    inspect_parser.add_argument(
        "factory", metavar="MODULE:FACTORY",
        help="a function returning (model, example_inputs), e.g. gfx.examples:gcn; "
             "MODULE is a dotted module name or a path to a .py file")
    inspect_parser.add_argument("--svg", metavar="PATH", help="also render the graph to SVG "
                                "(needs Graphviz's dot)")
    inspect_parser.add_argument("--dot", metavar="PATH", help="also write Graphviz DOT text")
    args = parser.parse_args(argv)
    if args.command == "inspect":
        from gfx.inspect import run_cli
        return run_cli(args.factory, svg=args.svg, dot=args.dot)
    if args.command == "demo":
        from gfx.demo import run_demo
        from gfx.hetero_demo import run_hetero_demo
        run_demo()
        print()
        run_hetero_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
