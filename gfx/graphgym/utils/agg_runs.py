"""Aggregating results: over the seeds of one experiment (:func:`agg_runs`) and over the
experiments of a grid search (:func:`agg_batch`).

Layout read and written (``<split>`` is ``train``, ``val`` or ``test``)::

    <out_dir>/<seed>/<split>/stats.json     one JSON line per evaluated epoch (Logger)
    <out_dir>/agg/<split>/stats.json        per epoch: mean and <key>_std over seeds
    <out_dir>/agg/<split>/best.json         at each seed's best epoch, averaged
    <out_dir>/agg/curves.png                loss and metric curves of every split
    <batch_dir>/agg/<split>_best.csv        one row per experiment (agg_batch)
    <batch_dir>/agg/<split>.csv             every epoch of every experiment
    <batch_dir>/agg/<split>_bestepoch.csv   the epoch with the best mean validation metric

The best epoch is chosen on the validation split (the training split when there is none)
by ``metric_best``: ``auto`` takes ``auc`` if reported, else ``accuracy``, else ``mae``.
Error metrics (``mae``, ``mse``, ``rmse``, ``loss``) are minimised, others follow
``cfg.metric_agg``.
"""
from __future__ import annotations

import csv
import logging
import math
import os
import re
from typing import Dict, List, Optional, Tuple

from gfx.graphgym.config import cfg
from gfx.graphgym.utils.io import (dict_list_to_json, dict_list_to_tb,
                                          json_to_dict_list, makedirs_rm_exist)
from gfx.graphgym.utils.plot import plot_curves

SPLITS = ("train", "val", "test")
LOWER_IS_BETTER = ("mae", "mse", "rmse", "loss")
AUTO_METRICS = ("auc", "accuracy", "mae")
_ALIAS_START = re.compile(r"-(?=[A-Za-z_][\w.]*=)")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def choose_metric(metric_best: str, keys) -> Tuple[str, str]:
    """``(metric, "argmax" | "argmin")`` that selects the best epoch among records with
    ``keys``."""
    if metric_best == "auto":
        metric = next((m for m in AUTO_METRICS if m in keys), None)
        if metric is None:
            raise ValueError(f"metric_best 'auto': the statistics report none of "
                             f"{AUTO_METRICS}; set cfg.metric_best to one of "
                             f"{sorted(keys)}")
    else:
        metric = metric_best
        if metric not in keys:
            raise ValueError(f"metric_best '{metric}' is not among the reported statistics "
                             f"{sorted(keys)}")
    return metric, "argmin" if metric in LOWER_IS_BETTER else cfg.metric_agg


def _best_index(records: List[dict], metric: str, direction: str) -> int:
    values = [r[metric] for r in records]
    pick = min if direction == "argmin" else max
    return values.index(pick(values))


def _mean_std(records: List[dict]) -> dict:
    """Mean of every numeric key over ``records`` and ``<key>_std`` (population std)."""
    out: dict = {}
    digits = max(cfg.round, 0)
    for key in records[0]:
        values = [r.get(key) for r in records]
        if not all(_is_number(v) for v in values):
            continue
        mean = sum(values) / len(values)
        if key == "epoch":
            out[key] = int(round(mean))
            continue
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        out[key] = round(mean, digits)
        out[f"{key}_std"] = round(std, digits)
    return out


def _seed_dirs(dir: str) -> List[str]:
    return sorted((d for d in os.listdir(dir)
                   if d != "agg" and os.path.isdir(os.path.join(dir, d))
                   and any(os.path.isfile(os.path.join(dir, d, s, "stats.json"))
                           for s in SPLITS)), key=lambda d: (not d.isdigit(), d.zfill(12)))


def agg_runs(dir: str, metric_best: str = "auto") -> Dict[str, dict]:
    """Aggregate the runs (seeds) of one experiment; returns ``{split: best stats}``.

    Args:
        dir (str): the experiment folder, holding one folder per seed.
        metric_best (str, optional): the metric that selects each run's best epoch on
            the validation split: ``auto``, ``accuracy``, ``auc``, or any reported key.
            (default: ``"auto"``)
    """
    seeds = _seed_dirs(dir)
    if not seeds:
        raise FileNotFoundError(f"agg_runs: '{dir}' holds no run folder with "
                                f"<split>/stats.json")
    runs: Dict[str, Dict[str, List[dict]]] = {}
    for seed in seeds:
        runs[seed] = {s: json_to_dict_list(os.path.join(dir, seed, s, "stats.json"))
                      for s in SPLITS
                      if os.path.isfile(os.path.join(dir, seed, s, "stats.json"))}
    splits = [s for s in SPLITS if all(s in r and r[s] for r in runs.values())]
    select = "val" if "val" in splits else splits[0]
    metric, direction = choose_metric(metric_best, runs[seeds[0]][select][0].keys())

    best: Dict[str, List[dict]] = {s: [] for s in splits}
    for seed in seeds:
        best_epoch = runs[seed][select][_best_index(runs[seed][select], metric,
                                                    direction)]["epoch"]
        for split in splits:
            match = [r for r in runs[seed][split] if r["epoch"] == best_epoch]
            if not match:
                raise ValueError(f"agg_runs: run '{seed}' has no {split} statistics for "
                                 f"epoch {best_epoch}, the best {select} epoch")
            best[split].append(match[0])

    agg_dir = os.path.join(dir, "agg")
    makedirs_rm_exist(agg_dir)
    curves: Dict[str, List[dict]] = {}
    results: Dict[str, dict] = {}
    for split in splits:
        epochs = sorted(set.intersection(*({r["epoch"] for r in runs[s][split]}
                                           for s in seeds)))
        per_epoch = [_mean_std([next(r for r in runs[s][split] if r["epoch"] == e)
                                for s in seeds]) for e in epochs]
        split_dir = os.path.join(agg_dir, split)
        os.makedirs(split_dir, exist_ok=True)
        dict_list_to_json(per_epoch, os.path.join(split_dir, "stats.json"))
        results[split] = _mean_std(best[split])
        dict_list_to_json([results[split]], os.path.join(split_dir, "best.json"))
        curves[split] = per_epoch
        if cfg.tensorboard_agg:
            from torch.utils.tensorboard import SummaryWriter
            with SummaryWriter(split_dir) as writer:
                dict_list_to_tb(per_epoch, writer)
    plot_curves(curves, ["loss", metric], os.path.join(agg_dir, "curves.png"),
                title=os.path.basename(os.path.normpath(dir)))
    logging.info("Results aggregated across runs saved in %s", agg_dir)
    return results


def name_to_dict(name: str) -> Dict[str, str]:
    """``"cfg-l_mp=2-lr=0.01"`` -> ``{"config": "cfg", "l_mp": "2", "lr": "0.01"}``.

    A part starts at a ``-`` followed by ``alias=``, so values may hold ``-`` (``1e-3``).
    """
    parts = _ALIAS_START.split(name)
    out = {"config": parts[0]}
    for part in parts[1:]:
        key, value = part.split("=", 1)
        out[key] = value
    return out


def _write_csv(rows: List[dict], fname: str) -> None:
    columns: List[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with open(fname, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _experiments(dir: str) -> List[str]:
    return sorted(d for d in os.listdir(dir)
                  if d != "agg" and os.path.isdir(os.path.join(dir, d, "agg")))


def agg_batch(dir: str, metric_best: str = "auto") -> Dict[str, List[dict]]:
    """Collect the aggregated results of every experiment of a grid search into CSV
    tables (and a plot of validation curves); returns ``{split: best rows}``.

    Experiment folders are named ``<config>-<alias>=<value>-...`` (as written by the
    grid search); their parts become columns.  Each must have been aggregated with
    :func:`agg_runs`.

    Args:
        dir (str): the folder holding the experiment folders.
        metric_best (str, optional): the metric of the ``*_bestepoch.csv`` tables, as
            in :func:`agg_runs`. (default: ``"auto"``)
    """
    experiments = _experiments(dir)
    if not experiments:
        raise FileNotFoundError(f"agg_batch: '{dir}' holds no experiment folder with an "
                                "agg/ folder (run agg_runs on each experiment first)")
    best_rows: Dict[str, List[dict]] = {s: [] for s in SPLITS}
    all_rows: Dict[str, List[dict]] = {s: [] for s in SPLITS}
    bestepoch_rows: Dict[str, List[dict]] = {s: [] for s in SPLITS}
    val_curves: Dict[str, List[dict]] = {}
    metric: Optional[Tuple[str, str]] = None
    for exp in experiments:
        fields = name_to_dict(exp)
        curves = {}
        for split in SPLITS:
            split_dir = os.path.join(dir, exp, "agg", split)
            if not os.path.isfile(os.path.join(split_dir, "best.json")):
                continue
            best_rows[split].append({**fields, **json_to_dict_list(
                os.path.join(split_dir, "best.json"))[0]})
            curves[split] = json_to_dict_list(os.path.join(split_dir, "stats.json"))
            all_rows[split] += [{**fields, **r} for r in curves[split]]
        select = "val" if "val" in curves else next(iter(curves))
        metric = metric or choose_metric(metric_best, curves[select][0].keys())
        index = _best_index(curves[select], *metric)
        epoch = curves[select][index]["epoch"]
        for split, records in curves.items():
            at_epoch = [r for r in records if r["epoch"] == epoch]
            if at_epoch:
                bestepoch_rows[split].append({**fields, **at_epoch[0]})
        val_curves[exp] = curves[select]
    agg_dir = os.path.join(dir, "agg")
    makedirs_rm_exist(agg_dir)
    for split in SPLITS:
        if best_rows[split]:
            _write_csv(best_rows[split], os.path.join(agg_dir, f"{split}_best.csv"))
            _write_csv(all_rows[split], os.path.join(agg_dir, f"{split}.csv"))
            _write_csv(bestepoch_rows[split], os.path.join(agg_dir,
                                                           f"{split}_bestepoch.csv"))
    plot_curves(val_curves, [metric[0]], os.path.join(agg_dir, "val_curves.png"),
                title=os.path.basename(os.path.normpath(dir)))
    logging.info("Results aggregated across models saved in %s", agg_dir)
    return {s: rows for s, rows in best_rows.items() if rows}
