"""The ``python -m gfx`` command line: one entry point, one subcommand per tool.

Every subcommand follows the same conventions:

* ``--help`` documents each option with its valid values and default;
* a usage error (bad option, unknown name) exits with status 2 and one or two lines on
  stderr naming the cause and the fix;
* any other failure prints one short line (exit status 1); the full Python traceback is
  shown only with ``--debug`` (anywhere on the command line) or when the environment
  variable ``GFX_DEBUG`` is set.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, List, Optional

PROG = "python -m gfx"

SUBCOMMANDS = {
    "demo": "train a 2-layer GCN and a to_hetero GraphSAGE on embedded data; print "
            "accuracy, the fused graph and honest timings",
    "inspect": "print a model's lowered graph as a table (python -m gfx inspect --list "
               "shows the example factories)",
    "bench": "time and peak memory: gfx eager / compiled vs torch_geometric "
             "(quick by default, --size full for the documented tables)",
    "catalogue": "measure which convolutions lower and fuse (markdown table)",
    "graphgym": "run a GraphGym experiment or grid search (same as python -m gfx.graphgym)",
}

EPILOG = """\
examples:
  python -m gfx demo --out out/demo
  python -m gfx inspect gfx.examples:gcn
  python -m gfx bench --list
  python -m gfx graphgym --cfg node optim.max_epoch 5

Run 'python -m gfx COMMAND --help' for a command's options.  Add --debug (or set the
environment variable GFX_DEBUG) to see full tracebacks on errors."""


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit status 2."""


def debug_requested(argv: List[str]) -> bool:
    """Whether full tracebacks were asked for (``--debug`` or ``GFX_DEBUG`` set)."""
    return "--debug" in argv or bool(os.environ.get("GFX_DEBUG"))


def short_error(exc: BaseException) -> str:
    """``Type: message`` on one line: the message's first two lines joined, at most 400
    characters."""
    message = exc.args[0] if isinstance(exc, KeyError) and len(exc.args) == 1 and \
        isinstance(exc.args[0], str) else str(exc)  # str(KeyError) adds quotes
    lines = [line for line in message.strip().splitlines() if line.strip()]
    text = "; ".join(line.strip() for line in lines[:2]) or "(no message)"
    text = text if len(text) <= 400 else text[:397] + "..."
    return f"{type(exc).__name__}: {text}"


def run_guarded(prog: str, body: Callable[[], int], debug: bool,
                hint: Optional[Callable[[BaseException], Optional[str]]] = None) -> int:
    """Run a command's body; turn exceptions into a short message unless ``debug``.

    Args:
        prog (str): the command's name, the prefix of every error line.
        body (callable): runs the command, returns the exit status.
        debug (bool): re-raise exceptions (full traceback) instead.
        hint (callable, optional): maps an exception to a one-line fix, or ``None``.
            (default: ``None``)
    """
    try:
        return body()
    except UsageError as exc:
        if debug:
            raise
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the point: one line instead of a traceback
        if debug:
            raise
        print(f"{prog}: error: {short_error(exc)}", file=sys.stderr)
        fix = hint(exc) if hint else None
        print(f"{prog}: {fix}" if fix else
              f"{prog}: run again with --debug (or GFX_DEBUG=1) for the full traceback",
              file=sys.stderr)
        return 1


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=34, width=92)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m gfx`` (``demo`` and ``inspect`` options live here; the
    other subcommands parse their own)."""
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=_formatter, epilog=EPILOG,
        description="gfx: graph neural networks on PyTorch, with a compiler that fuses "
                    "message passing.")
    parser.add_argument("--debug", action="store_true",
                        help="show full Python tracebacks on errors (also: GFX_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True
    demo = sub.add_parser("demo", help=SUBCOMMANDS["demo"], formatter_class=_formatter,
                          description=SUBCOMMANDS["demo"] + ".")
    demo.add_argument("--out", metavar="DIR", default=os.path.join("out", "demo"),
                      help="folder for the output files (graph SVG or DOT); created when "
                           "missing (default: out/demo)")
    demo.add_argument("--epochs", metavar="N", type=int, default=None,
                      help="training epochs of each model, >= 1 (default: 200 for the GCN, "
                           "60 for the heterogeneous model)")
    demo.add_argument("--no-hetero", dest="hetero", action="store_false",
                      help="skip the heterogeneous (to_hetero) part (default: run it)")
    demo.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    inspect = sub.add_parser("inspect", help=SUBCOMMANDS["inspect"],
                             formatter_class=_formatter,
                             description="Print a model's lowered graph as a table (level, "
                                         "shape, source line per node).")
    inspect.add_argument(
        "factory", metavar="MODULE:FACTORY", nargs="?",
        help="a function returning (model, example_inputs), e.g. gfx.examples:gcn; "
             "MODULE is a dotted module name or a path to a .py file")
    inspect.add_argument("--list", action="store_true",
                         help="list the example factories in gfx.examples and exit")
    inspect.add_argument("--svg", metavar="PATH",
                         help="also render the graph to SVG (needs Graphviz's dot) "
                              "(default: no SVG)")
    inspect.add_argument("--dot", metavar="PATH",
                         help="also write Graphviz DOT text (default: no DOT file)")
    inspect.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    for name in ("bench", "catalogue", "graphgym"):  # these parse their own options
        sub.add_parser(name, help=SUBCOMMANDS[name], add_help=False)
    return parser


def list_examples() -> str:
    """One line per example factory of :mod:`gfx.examples`: its spec and summary."""
    from gfx import examples
    lines = ["example factories (python -m gfx inspect gfx.examples:NAME):"]
    for name in examples.FACTORIES:
        doc = " ".join((getattr(examples, name).__doc__ or "").split())
        lines.append(f"  gfx.examples:{name:<6} {doc.split(' on a ')[0]}")
    return "\n".join(lines)


def _inspect_command(args: argparse.Namespace) -> int:
    if args.list:
        print(list_examples())
        return 0
    if not args.factory:
        raise UsageError("inspect needs MODULE:FACTORY (e.g. gfx.examples:gcn); "
                         "'python -m gfx inspect --list' lists the examples")
    from gfx.inspect import run_cli
    return run_cli(args.factory, svg=args.svg, dot=args.dot)


def _inspect_hint(exc: BaseException) -> str:
    return ("the model could not be captured or run on its example inputs; "
            "--debug shows the full traceback, docs/inspection.md explains capture")


def _demo_command(args: argparse.Namespace) -> int:
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs must be >= 1, got {args.epochs}")
    from gfx.demo import run_demo
    run_demo(out_dir=args.out, epochs=args.epochs or 200)
    if args.hetero:
        from gfx.hetero_demo import run_hetero_demo
        print()
        run_hetero_demo(epochs=args.epochs or 60)
    return 0


def _delegate(command: str, rest: List[str]) -> int:
    if command == "bench":
        from gfx.bench import main as bench_main
        return bench_main(rest)
    if command == "catalogue":
        from gfx.catalogue import main as catalogue_main
        return catalogue_main(rest)
    from gfx.graphgym.main import main as graphgym_main
    return graphgym_main(rest)


def main(argv: Optional[List[str]] = None) -> int:
    """Run ``python -m gfx`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit
    status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(argv)
    if debug and argv[:1] == ["--debug"]:
        argv = argv[1:]
    if argv[:1] and argv[0] in ("bench", "catalogue", "graphgym"):
        # These parse their own options, --debug included.
        return _delegate(argv[0], argv[1:] + (["--debug"] if debug else []))
    args = build_parser().parse_args(argv)
    if args.command == "inspect":
        return run_guarded(f"{PROG} inspect", lambda: _inspect_command(args), debug,
                           _inspect_hint)
    return run_guarded(f"{PROG} demo", lambda: _demo_command(args), debug)


if __name__ == "__main__":
    sys.exit(main())
