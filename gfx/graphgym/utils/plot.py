"""PNG plots of metric curves, of one run and aggregated (matplotlib, no display needed)."""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Sequence

NUMERIC = (int, float)


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def plot_curves(curves: Dict[str, List[dict]], metrics: Sequence[str], fname: str,
                title: str = "") -> None:
    """Draw one panel per metric, one line per curve, against ``epoch``; save as PNG.

    A record's ``<metric>_std`` entry, when present, is drawn as a band of one standard
    deviation around the mean.

    Args:
        curves (dict): name (a split, an experiment) -> records with ``epoch`` and the
            metrics.
        metrics (list of str): the metrics to draw (missing ones are skipped).
        fname (str): the PNG file to write.
        title (str, optional): the figure title. (default: ``""``)
    """
    metrics = [m for m in metrics
               if any(m in r for records in curves.values() for r in records)]
    if not metrics:
        raise ValueError(f"plot_curves: none of the metrics {list(metrics)} is in the "
                         "records")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.4),
                             squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for name, records in curves.items():
            points = [r for r in records if isinstance(r.get(metric), NUMERIC)]
            if not points:
                continue
            epochs = [r["epoch"] for r in points]
            mean = [r[metric] for r in points]
            ax.plot(epochs, mean, marker="o", markersize=2.5, label=name)
            std = [r.get(f"{metric}_std") for r in points]
            if all(isinstance(s, NUMERIC) for s in std):
                ax.fill_between(epochs, [m - s for m, s in zip(mean, std)],
                                [m + s for m, s in zip(mean, std)], alpha=0.2)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(fname, dpi=100)
    plt.close(fig)


def plot_run(run_dir: str, metric_best: str = "auto") -> Optional[str]:
    """Plot one run's loss and main metric per split to ``<run_dir>/curves.png``.

    Reads ``<run_dir>/<split>/stats.json`` (written by the loggers); the main metric is
    ``metric_best``, or with ``auto`` the first of ``auc``, ``accuracy``, ``mae``
    reported.  Returns the PNG's path, or ``None`` when no split has statistics.

    Args:
        run_dir (str): the run folder (``cfg.run_dir``).
        metric_best (str, optional): the metric to draw besides the loss.
            (default: ``"auto"``)
    """
    curves: Dict[str, List[dict]] = {}
    for split in ("train", "val", "test"):
        path = os.path.join(run_dir, split, "stats.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                records = [json.loads(line) for line in handle if line.strip()]
            if records:
                curves[split] = records
    if not curves:
        return None
    keys = set().union(*(r.keys() for records in curves.values() for r in records))
    if metric_best == "auto":
        metric = next((m for m in ("auc", "accuracy", "mae") if m in keys), None)
    else:
        metric = metric_best if metric_best in keys else None
    fname = os.path.join(run_dir, "curves.png")
    plot_curves(curves, ["loss"] + ([metric] if metric else []), fname,
                title=os.path.basename(os.path.normpath(run_dir)))
    return fname
