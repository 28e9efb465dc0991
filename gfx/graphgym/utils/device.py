"""Choosing the accelerator and reading GPU memory use."""
from __future__ import annotations

import torch

from gfx.graphgym.config import cfg


def get_current_gpu_usage() -> int:
    """Peak GPU memory allocated by this process so far, in MiB.

    Returns ``-1`` unless ``cfg.gpu_mem`` is set and the experiment runs on CUDA.
    """
    if not cfg.gpu_mem or not torch.cuda.is_available() or \
            cfg.accelerator not in ("cuda", "gpu"):
        return -1
    return int(torch.cuda.max_memory_allocated() // (1024 * 1024))


def auto_select_device() -> None:
    """Resolve ``cfg.accelerator == "auto"``: ``"cuda"`` if a GPU is visible, else ``"cpu"``.

    The legacy ``cfg.device`` option, when not ``"auto"``, wins.  On CPU,
    ``cfg.devices`` counts processes and is kept as set.
    """
    if cfg.device not in ("auto", "") and cfg.accelerator == "auto":
        cfg.accelerator = cfg.device
    if cfg.accelerator == "auto":
        cfg.accelerator = "cuda" if torch.cuda.is_available() else "cpu"
    if cfg.accelerator == "gpu":
        cfg.accelerator = "cuda"
    if cfg.accelerator.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"cfg.accelerator is '{cfg.accelerator}' but CUDA is not "
                           "available; set accelerator to cpu or auto")
