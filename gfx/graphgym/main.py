"""The experiment driver behind ``python -m gfx.graphgym``: runs of one config, and grid
searches over a base config."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Dict, List, Optional

import torch

from gfx.graphgym.cmd_args import parse_args
from gfx.graphgym.config import (cfg, dump_cfg, load_cfg, resolve_cfg_file, set_cfg,
                                        set_out_dir, set_run_dir)
from gfx.graphgym.grid import generate_configs, resolve_grid_file
from gfx.graphgym.logger import set_printing
from gfx.graphgym.register import resolve, train_dict
from gfx.graphgym.utils.agg_runs import agg_batch, agg_runs
from gfx.graphgym.utils.comp_budget import params_count
from gfx.graphgym.utils.device import auto_select_device
from gfx.graphgym.utils.plot import plot_run
from gfx.graphgym.utils.tools import is_global_zero


def summary_line(results: Dict[str, dict], runs: int) -> str:
    """The last line of an experiment: the best validation epoch and the metrics there,
    e.g. ``best val epoch 87 (mean of 2 runs): val accuracy 0.7900 +- 0.0050, test
    accuracy 0.8100 +- 0.0020``."""
    from gfx.graphgym.logger import main_metric
    select = "val" if "val" in results else next(iter(results))
    metric = main_metric(results[select])
    best = results[select]
    text = (f"best {select} epoch {int(best['epoch']) + 1} of {cfg.optim.max_epoch}"
            f" ({'mean of ' + str(runs) + ' runs' if runs > 1 else '1 run'}):")
    key = metric or "loss"
    parts = []
    for split in ("val", "test") if "test" in results else (select,):
        if split in results and key in results[split]:
            std = results[split].get(f"{key}_std")
            parts.append(f"{split} {key} {results[split][key]:.4f}"
                         + (f" +- {std:.4f}" if runs > 1 and std is not None else ""))
    return f"{text} {', '.join(parts)}"


def run_experiment(args: argparse.Namespace) -> Optional[Dict[str, dict]]:
    """Run ``args.cfg_file`` ``args.repeat`` times (seeds ``cfg.seed + i``), then
    aggregate the runs; returns the aggregated best-epoch statistics per split (rank
    zero; other ranks return ``None``)."""
    from gfx.graphgym.imports import pl
    from gfx.graphgym.model_builder import create_model
    from gfx.graphgym.train import GraphGymDataModule, train
    set_cfg(cfg)
    load_cfg(cfg, args)
    set_out_dir(cfg.out_dir, args.cfg_file)
    torch.set_num_threads(max(1, min(cfg.num_threads, os.cpu_count() or 1)))
    dump_cfg(cfg)
    set_printing()
    base_seed = cfg.seed
    for i in range(args.repeat):
        cfg.seed = base_seed + i
        set_run_dir(cfg.out_dir)
        pl.seed_everything(cfg.seed, verbose=False)
        auto_select_device()
        datamodule = GraphGymDataModule()
        model = create_model()
        cfg.params = params_count(model)
        model_file = os.path.join(cfg.run_dir, "model.txt")
        if is_global_zero():
            with open(model_file, "w", encoding="utf-8") as handle:
                handle.write(f"{model}\n")
        logging.info("run %d/%d, seed %d, %d parameters (model printed to %s)", i + 1,
                     args.repeat, cfg.seed, cfg.params, model_file)
        if cfg.train.mode == "standard":
            train(model, datamodule, logger=True)
        else:
            resolve(train_dict, cfg.train.mode, "cfg.train.mode")(model, datamodule,
                                                                  logger=True)
        if is_global_zero():
            plot = plot_run(cfg.run_dir, cfg.metric_best)
            if plot:
                logging.info("curves of run %d: %s", i + 1, plot)
    cfg.seed = base_seed
    if not is_global_zero():
        return None
    results = agg_runs(cfg.out_dir, cfg.metric_best)
    logging.info("curves over the runs: %s", os.path.join(cfg.out_dir, "agg", "curves.png"))
    logging.info("%s", summary_line(results, args.repeat))
    if getattr(args, "mark_done", False) and os.path.isfile(args.cfg_file):
        os.rename(args.cfg_file, f"{args.cfg_file}_done")
    return results


def run_grid(args: argparse.Namespace) -> Optional[Dict[str, List[dict]]]:
    """Write the configs of the grid ``args.grid`` over ``args.cfg_file``, run each
    ``args.repeat`` times and aggregate them with :func:`~gfx.graphgym.agg_batch`."""
    batch_dir, paths = generate_configs(args.cfg_file, args.grid, args.grid_dir,
                                        args.sample, seed=0)
    if args.grid_only:
        for path in paths:
            print(path)
        return None
    for path in paths:
        run_experiment(argparse.Namespace(cfg_file=path, repeat=args.repeat,
                                          opts=list(args.opts or []), mark_done=False))
    if not is_global_zero():
        return None
    return agg_batch(batch_dir, cfg.metric_best)


PROG = "python -m gfx.graphgym"


def _hint(exc: BaseException) -> Optional[str]:
    """The fix to suggest for an error raised while running an experiment."""
    if isinstance(exc, FileNotFoundError):
        return (f"the dataset files were not found: set dataset.dir to the folder that "
                f"holds them (now '{cfg.dataset.dir}', relative to {os.getcwd()}), e.g. "
                f"'{PROG} --cfg <cfg> dataset.dir /path/to/data'")
    return None


def _unknown_key(exc: BaseException) -> bool:
    return isinstance(exc, KeyError) and "unknown config key" in str(exc)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``python -m gfx.graphgym``; returns the exit status.

    Usage errors (a bad ``--cfg``, ``--grid`` or config key) exit with status 2 and one
    line; other failures with status 1 and one or two lines; ``--debug`` or the
    environment variable ``GFX_DEBUG`` shows the full traceback instead.
    """
    from gfx.__main__ import UsageError, debug_requested, run_guarded
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(argv)
    args = parse_args(argv)
    try:  # fail before any work on a bad --cfg or --grid
        resolve_cfg_file(args.cfg_file)
        if args.grid:
            resolve_grid_file(args.grid)
    except FileNotFoundError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2

    def body() -> int:
        try:
            if args.grid:
                run_grid(args)
            else:
                run_experiment(args)
        except KeyError as exc:
            if _unknown_key(exc) and not debug:
                raise UsageError(f"{exc.args[0]} ({PROG} --help describes the "
                                 f"arguments; docs/graphgym.md lists the config keys)") \
                    from None
            raise
        return 0
    return run_guarded(PROG, body, debug, _hint)
