"""GraphGym utilities: aggregation of results, budgets, devices, epochs, I/O."""
from .agg_runs import agg_batch, agg_runs
from .comp_budget import match_baseline_cfg, params_count
from .device import auto_select_device, get_current_gpu_usage
from .epoch import is_ckpt_epoch, is_eval_epoch, is_train_eval_epoch
from .io import (dict_list_to_json, dict_list_to_tb, dict_to_json, dict_to_tb,
                 json_to_dict_list, makedirs_rm_exist)
from .plot import plot_curves
from .tools import dummy_context, is_global_zero

__all__ = [
    "agg_runs", "agg_batch", "params_count", "match_baseline_cfg", "get_current_gpu_usage",
    "auto_select_device", "is_eval_epoch", "is_ckpt_epoch", "is_train_eval_epoch",
    "dict_to_json", "dict_list_to_json", "dict_to_tb", "dict_list_to_tb",
    "json_to_dict_list", "makedirs_rm_exist", "plot_curves", "dummy_context",
    "is_global_zero",
]
