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
        description="GraphGym: configuration-driven GNN experiments on gfx")
    parser.add_argument("--cfg", dest="cfg_file", type=str, required=True,
                        help="the configuration: a YAML file or a built-in name ("
                             + ", ".join(builtin_configs()) + ")")
    parser.add_argument("--repeat", type=int, default=1,
                        help="number of runs, with seeds cfg.seed, cfg.seed + 1, ...")
    parser.add_argument("--mark_done", action="store_true",
                        help="rename the config file to <file>_done when finished")
    parser.add_argument("--grid", type=str, default=None,
                        help="grid file: run one config per grid point and aggregate "
                             "them with agg_batch")
    parser.add_argument("--grid_dir", type=str, default=None,
                        help="folder for the generated grid configs (default: "
                             "configs/<cfg>_grid_<grid>)")
    parser.add_argument("--grid_only", action="store_true",
                        help="only write the grid configs, do not run them")
    parser.add_argument("--sample", type=int, default=None,
                        help="run a random sample of this many grid points")
    parser.add_argument("opts", default=None, nargs=argparse.REMAINDER,
                        help="config overrides as 'key value' pairs")
    parsed = parser.parse_args(args)
    if parsed.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {parsed.repeat}")
    return parsed
