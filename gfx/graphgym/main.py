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
from gfx.graphgym.utils.tools import is_global_zero


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
        logging.info("run %d/%d, seed %d, %d parameters\n%s", i + 1, args.repeat, cfg.seed,
                     cfg.params, model)
        if cfg.train.mode == "standard":
            train(model, datamodule, logger=True)
        else:
            resolve(train_dict, cfg.train.mode, "cfg.train.mode")(model, datamodule,
                                                                  logger=True)
    cfg.seed = base_seed
    if not is_global_zero():
        return None
    results = agg_runs(cfg.out_dir, cfg.metric_best)
    for split, stats in results.items():
        logging.info("%s (best epoch, mean over %d runs): %s", split, args.repeat, stats)
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


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``python -m gfx.graphgym``."""
    args = parse_args(argv)
    try:  # fail before any work on a bad --cfg or --grid
        resolve_cfg_file(args.cfg_file)
        if args.grid:
            resolve_grid_file(args.grid)
    except FileNotFoundError as error:
        print(f"python -m gfx.graphgym: {error}", file=sys.stderr)
        return 2
    if args.grid:
        run_grid(args)
    else:
        run_experiment(args)
    return 0
