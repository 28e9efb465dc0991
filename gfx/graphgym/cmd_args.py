"""Command-line arguments of ``python -m gfx.graphgym``."""
from __future__ import annotations

import argparse
from typing import List, Optional


def parse_args(args: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv`` unless ``args`` is given).

    ``--cfg`` names a YAML file or a built-in config; ``--repeat`` runs it with that many
    consecutive seeds; ``--grid`` makes it the base of a grid search.  Trailing
    ``key value`` pairs override config options (``gnn.layers_mp 3``).

    Args:
        args (list of str, optional): the arguments to parse. (default: ``None``)
    """
    from gfx.graphgym.config import builtin_configs
    parser = argparse.ArgumentParser(
        prog="python -m gfx.graphgym",
        description="GraphGym: configuration-driven GNN experiments on gfx.  Prints one "
                    "line per split and\nevaluated epoch and a final summary; writes "
                    "results, stats.json and curves.png\nunder cfg.out_dir (default: "
                    "results/<config name>).",
        epilog="example: python -m gfx.graphgym --cfg node --repeat 2 optim.max_epoch 20\n"
               "Add --debug (or set GFX_DEBUG) for full tracebacks on errors.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks on errors (also: GFX_DEBUG=1)")
    parser.add_argument("--cfg", dest="cfg_file", type=str, required=True,
                        help="the configuration: a YAML file or a built-in name ("
                             + ", ".join(builtin_configs()) + ")")
    parser.add_argument("--repeat", type=int, default=1,
                        help="number of runs, >= 1, with seeds cfg.seed, cfg.seed + 1, ... "
                             "(default: 1)")
    parser.add_argument("--mark_done", action="store_true",
                        help="rename the config file to <file>_done when finished (default: "
                             "keep the name)")
    parser.add_argument("--grid", type=str, default=None,
                        help="grid file or built-in grid (node_grid): run one config per grid "
                             "point and aggregate them with agg_batch (default: no grid)")
    parser.add_argument("--grid_dir", type=str, default=None,
                        help="folder for the generated grid configs (default: "
                             "configs/<cfg>_grid_<grid>)")
    parser.add_argument("--grid_only", action="store_true",
                        help="only write the grid configs, do not run them (default: run them)")
    parser.add_argument("--sample", type=int, default=None,
                        help="run a random sample of this many grid points (default: all)")
    parser.add_argument("opts", default=None, nargs=argparse.REMAINDER,
                        help="config overrides as 'key value' pairs after the options, e.g. "
                             "optim.max_epoch 5 dataset.dir data (default: none)")
    parsed = parser.parse_args(args)
    if "--debug" in (parsed.opts or []):  # allowed anywhere on the line
        parsed.opts = [o for o in parsed.opts if o != "--debug"]
        parsed.debug = True
    misplaced = [o for o in parsed.opts or [] if o.startswith("--")]
    if misplaced:
        parser.error(f"{misplaced[0]} comes after the 'key value' config overrides; put "
                     f"options first: --cfg node {misplaced[0]} ... optim.max_epoch 5")
    if len(parsed.opts or []) % 2:
        parser.error(f"config overrides come in 'key value' pairs, got {len(parsed.opts)} "
                     f"words: {' '.join(parsed.opts)}")
    if parsed.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {parsed.repeat}")
    return parsed
