"""Parameter counts, and matching the parameter budget of a baseline configuration."""
from __future__ import annotations

import copy
import logging
from typing import Any, Dict

import torch

from gfx.graphgym import register
from gfx.graphgym.config import assert_cfg, cfg, merge_dict, set_cfg


def params_count(model: torch.nn.Module) -> int:
    """The number of parameters of ``model`` (shared parameters counted once).

    Args:
        model (nn.Module): the model.
    """
    return sum(p.numel() for p in model.parameters())


def _params_for(cfg_dict: Dict[str, Any], dim_inner: int) -> int:
    """Parameters of the network that ``cfg_dict`` builds with ``gnn.dim_inner``."""
    saved = cfg.clone()
    try:
        set_cfg(cfg)
        merge_dict(cfg, cfg_dict, "match_baseline_cfg")
        cfg.share.dim_in, cfg.share.dim_out = saved.share.dim_in, saved.share.dim_out
        cfg.gnn.dim_inner = dim_inner
        assert_cfg(cfg)
        network = register.resolve(register.network_dict, cfg.model.type, "cfg.model.type")
        return params_count(network(dim_in=cfg.share.dim_in, dim_out=cfg.share.dim_out))
    finally:
        cfg.clear()
        cfg.update(saved)


def match_baseline_cfg(cfg_dict: Dict[str, Any], cfg_dict_baseline: Dict[str, Any],
                       verbose: bool = True) -> Dict[str, Any]:
    """Set ``gnn.dim_inner`` of ``cfg_dict`` so that its model has about as many
    parameters as the model of ``cfg_dict_baseline``; returns the updated ``cfg_dict``.

    With ``cfg.model.match_upper`` (default) the smallest width whose parameter count
    reaches the baseline's is chosen, otherwise the largest width that stays below it.
    Input and output sizes come from ``cfg.share`` (set once a dataset is loaded).

    Args:
        cfg_dict (dict): the experiment's options (nested, as read from YAML).
        cfg_dict_baseline (dict): the baseline's options.
        verbose (bool, optional): log both parameter counts. (default: ``True``)
    """
    baseline_dim = cfg_dict_baseline.get("gnn", {}).get("dim_inner", cfg.gnn.dim_inner)
    budget = _params_for(cfg_dict_baseline, baseline_dim)
    low, high = 1, 1
    while _params_for(cfg_dict, high) < budget:
        low, high = high, high * 2
        if high > 1 << 20:
            raise ValueError("match_baseline_cfg: no width reaches the baseline's "
                             f"{budget} parameters")
    while low < high:  # smallest width with at least `budget` parameters
        mid = (low + high) // 2
        if _params_for(cfg_dict, mid) >= budget:
            high = mid
        else:
            low = mid + 1
    dim = high
    if not cfg.model.match_upper and _params_for(cfg_dict, dim) > budget and dim > 1:
        dim -= 1
    cfg_dict = copy.deepcopy(cfg_dict)
    cfg_dict.setdefault("gnn", {})["dim_inner"] = dim
    if verbose:
        logging.info("match_baseline_cfg: gnn.dim_inner=%d gives %d parameters (baseline: "
                     "%d)", dim, _params_for(cfg_dict, dim), budget)
    return cfg_dict
