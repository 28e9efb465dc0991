"""GraphGym on gfx: configuration-driven GNN experiments (also importable as
``gfx.graphgym``).

A YAML config picks every part of an experiment: dataset and task, network (encoder,
pre-processing, message passing stage, head), optimisation and logging.  Components are
looked up by name in string-keyed registries (``register_*``), so a new layer, head or
dataset is one decorated definition.  Training runs on PyTorch Lightning
(``lightning``, or the older ``pytorch_lightning``; see :mod:`gfx.graphgym.imports`).

``python -m gfx.graphgym --cfg <file or built-in name> --repeat 3`` runs a config.
"""
from . import models  # noqa: F401  (registers the model components)
from .checkpoint import clean_ckpt, load_ckpt, remove_ckpt, save_ckpt
from .cmd_args import parse_args
from .config import (assert_cfg, builtin_configs, cfg, dump_cfg, get_fname, load_cfg,
                     set_cfg, set_out_dir, set_run_dir)
from .init import init_weights
from .loader import create_dataset, create_loader, get_loader, load_dataset
from .logger import Logger, create_logger, set_printing
from .loss import compute_loss
from .models import (GNN, MLP, AtomEncoder, BatchNorm1dEdge, BatchNorm1dNode, BondEncoder,
                     FeatureEncoder, GATConv, GCNConv, GeneralConv, GeneralEdgeConv,
                     GeneralLayer, GeneralMultiLayer, GeneralSampleEdgeConv, GINConv,
                     GNNEdgeHead, GNNGraphHead, GNNLayer, GNNNodeHead, GNNPreMP,
                     GNNStackStage, IntegerFeatureEncoder, LayerConfig, Linear, SAGEConv, SplineConv,
                     global_add_pool, global_max_pool, global_mean_pool, new_layer_config)
from .optim import OptimizerConfig, SchedulerConfig, create_optimizer, create_scheduler
from .register import (register_act, register_base, register_config, register_dataset,
                       register_edge_encoder, register_head, register_layer, register_loader,
                       register_loss, register_metric, register_network,
                       register_node_encoder, register_optimizer, register_pooling,
                       register_scheduler, register_stage, register_train)
from .utils import (agg_batch, agg_runs, auto_select_device, dict_list_to_json, dict_to_json,
                    dict_to_tb, dummy_context, get_current_gpu_usage, is_ckpt_epoch,
                    is_eval_epoch, makedirs_rm_exist, match_baseline_cfg, params_count)

from .imports import pl, require_lightning
from .model_builder import GraphGymModule, create_model

# Training needs PyTorch Lightning (``lightning``, or ``pytorch_lightning``); without it
# these names raise an error that names the extra.
_TRAINING = ("GraphGymDataModule", "LoggerCallback", "CheckpointCallback",
             "EpochProgressBar", "train")
if pl is not None:
    from .train import (CheckpointCallback, EpochProgressBar, GraphGymDataModule,
                        LoggerCallback, train)


def __getattr__(name):
    if name in _TRAINING:
        require_lightning(f"gfx.graphgym.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    # workflow and registries
    "load_ckpt", "save_ckpt", "remove_ckpt", "clean_ckpt", "parse_args", "cfg", "set_cfg",
    "load_cfg", "dump_cfg", "set_run_dir", "set_out_dir", "get_fname", "assert_cfg",
    "builtin_configs", "init_weights", "create_loader", "create_dataset", "load_dataset",
    "get_loader", "set_printing", "create_logger", "Logger", "compute_loss", "create_model",
    "create_optimizer", "create_scheduler", "OptimizerConfig", "SchedulerConfig", "train",
    "GraphGymModule", "GraphGymDataModule", "LoggerCallback", "CheckpointCallback",
    "register_base", "register_act", "register_node_encoder", "register_edge_encoder",
    "register_stage", "register_head", "register_layer", "register_pooling",
    "register_network", "register_config", "register_dataset", "register_loader",
    "register_optimizer", "register_scheduler", "register_loss", "register_train",
    "register_metric",
    # models
    "IntegerFeatureEncoder", "AtomEncoder", "BondEncoder", "GNNLayer", "GNNPreMP",
    "GNNStackStage", "FeatureEncoder", "GNN", "GNNNodeHead", "GNNEdgeHead", "GNNGraphHead",
    "GeneralLayer", "GeneralMultiLayer", "Linear", "BatchNorm1dNode", "BatchNorm1dEdge",
    "MLP", "GCNConv", "SAGEConv", "GATConv", "GINConv", "SplineConv", "GeneralConv", "GeneralEdgeConv",
    "GeneralSampleEdgeConv", "LayerConfig", "new_layer_config", "global_add_pool",
    "global_mean_pool", "global_max_pool",
    # utilities
    "agg_runs", "agg_batch", "params_count", "match_baseline_cfg", "get_current_gpu_usage",
    "auto_select_device", "is_eval_epoch", "is_ckpt_epoch", "dict_to_json",
    "dict_list_to_json", "dict_to_tb", "makedirs_rm_exist", "dummy_context",
]
