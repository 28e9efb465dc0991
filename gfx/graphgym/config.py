"""The experiment configuration: one global ``cfg`` tree, its defaults, loading and output
folders.

``cfg`` is a ``yacs`` ``CfgNode`` with at most two levels (``cfg.gnn.layers_mp``).
:func:`set_cfg` fills in every default; :func:`load_cfg` merges a YAML file and
``key value`` pairs from the command line on top.  A key that has no default is an error
that names it (and the closest known keys), so a typo never passes silently.  YAML files
written for GraphGym load unchanged: every option GraphGym defines has a default here,
including the legacy ``device`` and ``dataset.augment_*`` keys.

gfx adds one group, ``cfg.gfx``: ``compile`` (run every message passing layer through
:func:`gfx.compile`) and ``backend`` (the backend it uses).
"""
from __future__ import annotations

import difflib
import functools
import inspect
import logging
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import yaml
from yacs.config import CfgNode as CN

from gfx.graphgym import register

CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")

cfg = CN()


def set_cfg(cfg: CN) -> CN:
    """Set every option of ``cfg`` to its default value (also those of registered groups).

    Only part of the options matter for one experiment; the others are ignored.  The
    tree has at most two levels, e.g. ``cfg.dataset.name``.

    Args:
        cfg (CfgNode): the configuration to reset, usually the global ``cfg``.

    Returns:
        the same ``cfg``.
    """
    if cfg is None:
        return cfg
    _set_general(cfg)
    _set_dataset(cfg)
    _set_training(cfg)
    _set_model(cfg)
    _set_optim(cfg)
    for add_group in register.config_dict.values():
        add_group(cfg)
    return cfg


def _set_general(cfg: CN) -> None:
    cfg.print = "both"              # where logs go: stdout, file or both
    cfg.accelerator = "auto"        # cpu, cuda/gpu, or auto
    cfg.devices = 1                 # devices (processes) to train on
    cfg.device = "auto"             # legacy alias of accelerator (GraphGym < 2)
    cfg.out_dir = "results"
    cfg.cfg_dest = "config.yaml"    # name of the dumped config inside out_dir
    cfg.run_dir = "results"         # set per seed by set_run_dir
    cfg.custom_metrics = []         # names of registered metrics to report as well
    cfg.seed = 0
    cfg.round = 4                   # decimals kept in logged statistics
    cfg.tensorboard_each_run = False
    cfg.tensorboard_agg = True
    cfg.num_workers = 0
    cfg.num_threads = 6
    cfg.metric_best = "auto"        # metric that picks the best epoch (auto: auc/accuracy/mae)
    cfg.metric_agg = "argmax"       # argmax or argmin of metric_best
    cfg.view_emb = False
    cfg.gpu_mem = False
    cfg.benchmark = False
    cfg.params = 0                  # parameter count, filled in by the CLI
    cfg.share = CN()                # filled in from the dataset
    cfg.share.dim_in = 1
    cfg.share.dim_out = 1
    cfg.share.num_splits = 1
    cfg.gfx = CN()
    cfg.gfx.compile = False         # gfx.compile every message passing layer
    cfg.gfx.backend = "auto"


def _set_dataset(cfg: CN) -> None:
    d = cfg.dataset = CN()
    d.name = "Cora"
    d.format = "PyG"
    d.dir = "./datasets"
    d.task = "node"                 # node, edge, link_pred or graph
    d.task_type = "classification"  # classification, classification_binary,
    #                                 classification_multilabel or regression
    d.transductive = True
    d.split = [0.8, 0.1, 0.1]
    d.shuffle_split = True
    d.split_mode = "random"
    d.encoder = True
    d.encoder_name = "db"
    d.encoder_bn = True
    d.node_encoder = False
    d.node_encoder_name = "Atom"
    d.node_encoder_bn = True
    d.edge_encoder = False
    d.edge_encoder_name = "Bond"
    d.edge_encoder_bn = True
    d.encoder_dim = 128
    d.edge_dim = 128
    d.edge_train_mode = "all"       # all or disjoint (link prediction)
    d.edge_message_ratio = 0.8
    d.edge_negative_sampling_ratio = 1.0
    d.resample_disjoint = False
    d.resample_negative = False
    d.transform = "none"
    d.cache_save = False
    d.cache_load = False
    d.remove_feature = False
    d.tu_simple = True
    d.to_undirected = False
    d.location = "local"
    d.label_table = "none"
    d.label_column = "none"
    # Feature and label augmentation of the original GraphGym (accepted, not used).
    d.augment_feature = []
    d.augment_feature_dims = [0]
    d.augment_feature_repr = "position"
    d.augment_label = ""
    d.augment_label_dims = 0


def _set_training(cfg: CN) -> None:
    t = cfg.train = CN()
    t.mode = "standard"             # a name registered with register_train, or standard
    t.batch_size = 16
    t.shuffle = True                # reshuffle training graphs every epoch (gfx)
    t.sampler = "full_batch"
    t.sample_node = False
    t.node_per_graph = 32
    t.radius = "extend"
    t.eval_period = 10
    t.skip_train_eval = False
    t.ckpt_period = 100
    t.enable_ckpt = True
    t.auto_resume = False
    t.epoch_resume = -1
    t.ckpt_clean = True
    t.iter_per_epoch = 32
    t.walk_length = 4
    t.neighbor_sizes = [20, 15, 10, 5]
    # Node blocks / clusters of the 'random_node' and 'cluster' samplers; the reference's
    # loader reads this key without giving it a default (gfx).
    t.train_parts = 20
    v = cfg.val = CN()
    v.sample_node = False
    v.sampler = "full_batch"
    v.node_per_graph = 32
    v.radius = "extend"


def _set_model(cfg: CN) -> None:
    m = cfg.model = CN()
    m.type = "gnn"
    m.match_upper = True
    m.loss_fun = "cross_entropy"
    m.size_average = "mean"
    m.thresh = 0.5
    m.edge_decoding = "dot"
    m.graph_pooling = "add"
    g = cfg.gnn = CN()
    g.head = "default"              # default: the head named like dataset.task
    g.layers_pre_mp = 0
    g.layers_mp = 2
    g.layers_post_mp = 0
    g.dim_inner = 16
    g.layer_type = "generalconv"
    g.stage_type = "stack"
    g.skip_every = 1
    g.batchnorm = True
    g.act = "relu"
    g.dropout = 0.0
    g.agg = "add"
    g.normalize_adj = False
    g.msg_direction = "single"
    g.self_msg = "concat"
    g.att_heads = 1
    g.att_final_linear = False
    g.att_final_linear_bn = False
    g.l2norm = True
    g.keep_edge = 0.5
    g.clear_feature = True


def _set_optim(cfg: CN) -> None:
    o = cfg.optim = CN()
    o.optimizer = "adam"
    o.base_lr = 0.01
    o.weight_decay = 5e-4
    o.momentum = 0.9
    o.scheduler = "cos"
    o.steps = [30, 60, 90]
    o.lr_decay = 0.1
    o.max_epoch = 200
    cfg.bn = CN()
    cfg.bn.eps = 1e-5
    cfg.bn.mom = 0.1
    cfg.mem = CN()
    cfg.mem.inplace = False


TASKS = ("node", "edge", "link_pred", "graph")
TASK_TYPES = ("classification", "classification_binary", "classification_multilabel",
              "classification_multi", "regression")


def assert_cfg(cfg: CN) -> None:
    """Check option values that have a closed set of choices and fill derived ones.

    ``gnn.head: default`` becomes the head of ``dataset.task``; a graph-level task is
    never transductive; a cross-entropy loss on a regression task becomes ``mse``.
    """
    if cfg.dataset.task not in TASKS:
        raise ValueError(f"cfg.dataset.task must be one of {TASKS}, got "
                         f"'{cfg.dataset.task}'")
    if cfg.dataset.task_type not in TASK_TYPES:
        raise ValueError(f"cfg.dataset.task_type must be one of {TASK_TYPES}, got "
                         f"'{cfg.dataset.task_type}'")
    if cfg.dataset.task_type == "regression" and cfg.model.loss_fun == "cross_entropy":
        logging.warning("cfg.model.loss_fun: cross_entropy on a regression task; using mse")
        cfg.model.loss_fun = "mse"
    if cfg.dataset.task_type.startswith("classification") and cfg.model.loss_fun == "mse":
        logging.warning("cfg.model.loss_fun: mse on a classification task; using "
                        "cross_entropy")
        cfg.model.loss_fun = "cross_entropy"
    if cfg.dataset.task == "graph" and cfg.dataset.transductive:
        cfg.dataset.transductive = False
    if cfg.gnn.head == "default":
        cfg.gnn.head = cfg.dataset.task
    if cfg.metric_agg not in ("argmax", "argmin"):
        raise ValueError(f"cfg.metric_agg must be 'argmax' or 'argmin', got "
                         f"'{cfg.metric_agg}'")
    if cfg.device != "auto" and cfg.accelerator == "auto":
        cfg.accelerator = cfg.device
    for key in ("layers_pre_mp", "layers_mp", "layers_post_mp"):
        if cfg.gnn[key] < 0:
            raise ValueError(f"cfg.gnn.{key} must be >= 0, got {cfg.gnn[key]}")
    if not 1 <= len(cfg.dataset.split) <= 3:
        raise ValueError(f"cfg.dataset.split must hold 1 to 3 fractions, got "
                         f"{list(cfg.dataset.split)}")


# --------------------------------------------------------------------------- loading
def builtin_configs() -> List[str]:
    """Names of the example configs shipped with gfx (``--cfg <name>`` runs one)."""
    if not os.path.isdir(CONFIG_DIR):
        return []
    return sorted(f[:-5] for f in os.listdir(CONFIG_DIR) if f.endswith(".yaml"))


def resolve_cfg_file(name: str) -> str:
    """The path of a config: ``name`` itself if it is a file, else the built-in config
    called ``name`` (with or without ``.yaml``)."""
    if os.path.isfile(name):
        return name
    stem = name[:-5] if name.endswith(".yaml") else name
    path = os.path.join(CONFIG_DIR, f"{stem}.yaml")
    if os.path.sep not in name and os.path.isfile(path):
        return path
    raise FileNotFoundError(f"--cfg: '{name}' is neither a file nor a built-in config; "
                            f"built-in configs: {', '.join(builtin_configs()) or 'none'}")


def _flatten(tree: Dict[str, Any], prefix: str = "") -> Iterable[Tuple[str, Any]]:
    for key, value in tree.items():
        if isinstance(value, dict) and not isinstance(value, CN):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _known_keys(node: CN, prefix: str = "") -> List[str]:
    keys = []
    for key, value in node.items():
        keys += _known_keys(value, f"{prefix}{key}.") if isinstance(value, CN) \
            else [f"{prefix}{key}"]
    return keys


def _lookup(cfg: CN, full_key: str, source: str) -> Tuple[CN, str]:
    """The node holding ``full_key`` and its last part; a ``KeyError`` naming it if absent."""
    node, parts = cfg, full_key.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if not isinstance(node, CN) or part not in node or \
                (not last and not isinstance(node[part], CN)):
            close = difflib.get_close_matches(full_key, _known_keys(cfg), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"unknown config key '{full_key}' in {source}{hint}")
        if not last:
            node = node[part]
    return node, parts[-1]


def _merge_value(cfg: CN, full_key: str, value: Any, source: str) -> None:
    node, key = _lookup(cfg, full_key, source)
    value = CN._decode_cfg_value(value) if isinstance(value, str) else value
    default = node[key]
    if isinstance(default, CN) and value is None:  # an empty group in YAML ("gnn:")
        return
    if isinstance(default, CN):
        raise ValueError(f"config key '{full_key}' in {source} is a group; set its "
                         f"options ({full_key}.<option>) instead")
    if isinstance(default, bool) and isinstance(value, str) and \
            value.lower() in ("true", "false"):  # YAML spelling on the command line
        value = value.lower() == "true"
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(default, list) and isinstance(value, tuple):
        value = list(value)
    if default is not None and value is not None and type(value) is not type(default):
        raise ValueError(f"config key '{full_key}' in {source}: expected "
                         f"{type(default).__name__} like {default!r}, got {value!r}")
    node[key] = value


def merge_dict(cfg: CN, values: Dict[str, Any], source: str = "a dict") -> CN:
    """Merge a nested dict of options (as parsed from YAML) into ``cfg``.

    Args:
        cfg (CfgNode): the configuration to update.
        values (dict): nested options, e.g. ``{"gnn": {"layers_mp": 3}}``.
        source (str, optional): where the values come from, for error messages.
            (default: ``"a dict"``)
    """
    for full_key, value in _flatten(values or {}):
        _merge_value(cfg, full_key, value, source)
    return cfg


def load_cfg(cfg: CN, args) -> CN:
    """Load a YAML config file and the command-line overrides into ``cfg``.

    ``args.cfg_file`` is a path or the name of a built-in config; ``args.opts`` is a
    flat list ``[key, value, key, value, ...]`` applied after the file.

    Args:
        cfg (CfgNode): the configuration node (defaults already set).
        args (argparse.Namespace): parsed command-line arguments (see
            :func:`~gfx.graphgym.parse_args`).
    """
    path = resolve_cfg_file(args.cfg_file)
    with open(path, encoding="utf-8") as handle:
        values = yaml.safe_load(handle) or {}
    if not isinstance(values, dict):
        raise ValueError(f"config file '{path}' must hold a mapping of options, got "
                         f"{type(values).__name__}")
    merge_dict(cfg, values, f"config file '{path}'")
    opts = list(getattr(args, "opts", None) or [])
    if len(opts) % 2:
        raise ValueError(f"command-line options must come in 'key value' pairs, got "
                         f"{opts}")
    for key, value in zip(opts[0::2], opts[1::2]):
        _merge_value(cfg, key, value, "the command line")
    assert_cfg(cfg)
    return cfg


def dump_cfg(cfg: CN) -> None:
    """Write ``cfg`` as YAML to ``cfg.out_dir/cfg.cfg_dest`` (rank zero only).

    Args:
        cfg (CfgNode): the configuration node.
    """
    from gfx.graphgym.utils.tools import is_global_zero  # utils imports config
    if not is_global_zero():
        return
    os.makedirs(cfg.out_dir, exist_ok=True)
    with open(os.path.join(cfg.out_dir, cfg.cfg_dest), "w", encoding="utf-8") as handle:
        cfg.dump(stream=handle)


def get_fname(fname: Optional[str]) -> str:
    """The file name of a config path without folder and extension.

    Args:
        fname (str): the path of the YAML configuration file.
    """
    fname = os.path.basename(fname or "")
    return fname[:-5] if fname.endswith(".yaml") else fname


def set_out_dir(out_dir: str, fname: str) -> None:
    """Set ``cfg.out_dir`` to ``out_dir/<config name>`` and create it (emptied unless
    ``cfg.train.auto_resume``).

    Args:
        out_dir (str): the parent output folder, usually ``cfg.out_dir``.
        fname (str): the config file's path; its name names the experiment.
    """
    cfg.out_dir = os.path.join(out_dir, get_fname(fname))
    _make_dir(cfg.out_dir)


def set_run_dir(out_dir: str) -> None:
    """Set ``cfg.run_dir`` to ``out_dir/<seed>`` and create it (emptied unless
    ``cfg.train.auto_resume``).

    Args:
        out_dir (str): the experiment's output folder, ``cfg.out_dir``.
    """
    cfg.run_dir = os.path.join(out_dir, str(cfg.seed))
    _make_dir(cfg.run_dir)


def _make_dir(path: str) -> None:
    # Only rank zero touches the file system: the other DDP ranks re-run the same
    # script and must not wipe what rank zero already wrote.
    from gfx.graphgym.utils.io import makedirs_rm_exist  # utils imports config
    from gfx.graphgym.utils.tools import is_global_zero
    if not is_global_zero():
        return
    if cfg.train.auto_resume:
        os.makedirs(path, exist_ok=True)
    else:
        makedirs_rm_exist(path)


set_cfg(cfg)


def from_config(func: Callable) -> Callable:
    """Let ``func`` take its arguments from a config: ``func(..., cfg=cfg)``.

    Arguments given explicitly win; every other parameter of ``func`` is read from the
    attribute of ``cfg`` with the same name (``cfg.<name>``), falling back to the
    parameter's default.  A parameter with neither raises :class:`ValueError` naming
    ``cfg.<name>``.  Without ``cfg`` the function is called as usual.
    """
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, cfg: Any = None, **kwargs):
        if cfg is None:
            return func(*args, **kwargs)
        bound = signature.bind_partial(*args, **kwargs)
        for name, param in signature.parameters.items():
            if name in bound.arguments or param.kind in (param.VAR_POSITIONAL,
                                                         param.VAR_KEYWORD):
                continue
            if name in cfg:
                bound.arguments[name] = cfg[name]
            elif param.default is inspect.Parameter.empty:
                raise ValueError(f"'cfg.{name}' undefined: {func.__name__}() needs "
                                 f"'{name}', given neither as an argument nor in the config")
        return func(*bound.args, **bound.kwargs)

    return wrapper
