"""String-keyed registries of GraphGym: every component a config file can name.

Each registry is a plain ``dict`` from a name to a module, function or class.  The
``register_*`` functions add to one of them, either directly
(``register_act("tanh", torch.nn.Tanh)``) or as a decorator::

    @register_layer("mylayer")
    class MyLayer(torch.nn.Module):
        ...

A name can be registered once; registering it again is an error (remove it from the
``*_dict`` first to replace it on purpose).  The exception are the defaults gfx adds
beyond the reference library's (activations such as ``swish`` and ``identity``, see
:func:`register_replaceable_default`): user code written for the reference registers
those names itself, and its registration replaces gfx's.  :func:`resolve` looks a name up and, when it
is missing, says which names are registered.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Union

act_dict: Dict[str, Any] = {}
node_encoder_dict: Dict[str, Any] = {}
edge_encoder_dict: Dict[str, Any] = {}
stage_dict: Dict[str, Any] = {}
head_dict: Dict[str, Any] = {}
layer_dict: Dict[str, Any] = {}
pooling_dict: Dict[str, Any] = {}
network_dict: Dict[str, Any] = {}
config_dict: Dict[str, Any] = {}
dataset_dict: Dict[str, Any] = {}
loader_dict: Dict[str, Any] = {}
optimizer_dict: Dict[str, Any] = {}
scheduler_dict: Dict[str, Any] = {}
loss_dict: Dict[str, Any] = {}
train_dict: Dict[str, Any] = {}
metric_dict: Dict[str, Any] = {}

# Human-readable name of each registry, for error messages.
_KINDS = {
    id(act_dict): "activation", id(node_encoder_dict): "node encoder",
    id(edge_encoder_dict): "edge encoder", id(stage_dict): "stage", id(head_dict): "head",
    id(layer_dict): "layer", id(pooling_dict): "pooling", id(network_dict): "network",
    id(config_dict): "config", id(dataset_dict): "dataset", id(loader_dict): "loader",
    id(optimizer_dict): "optimizer", id(scheduler_dict): "scheduler", id(loss_dict): "loss",
    id(train_dict): "train", id(metric_dict): "metric",
}


# (registry id, name) of gfx's own defaults that a user registration may replace.
_REPLACEABLE: set = set()


def register_replaceable_default(mapping: Dict[str, Any], key: str, module: Any) -> None:
    """Register a gfx default that the reference library does not have, so that a later
    ``register_*`` of the same name (user code written for the reference) replaces it
    instead of failing."""
    register_base(mapping, key, module)
    _REPLACEABLE.add((id(mapping), key))


def _kind(mapping: Dict[str, Any]) -> str:
    return _KINDS.get(id(mapping), "module")


def register_base(mapping: Dict[str, Any], key: str,
                  module: Optional[Any] = None) -> Union[None, Callable]:
    """Register ``module`` under ``key`` in ``mapping``, or return a decorator that does.

    Args:
        mapping (dict): the registry to add to.
        key (str): the name the module is known by in config files.
        module (any, optional): what to register; ``None`` returns a decorator that
            registers the decorated object and gives it back unchanged.
            (default: ``None``)

    Raises:
        KeyError: ``key`` is already registered in ``mapping``.
        TypeError: ``key`` is not a non-empty string.
    """
    if not isinstance(key, str) or not key:
        raise TypeError(f"register: the {_kind(mapping)} name must be a non-empty string, "
                        f"got {key!r}")
    if module is not None:
        if (id(mapping), key) in _REPLACEABLE:
            _REPLACEABLE.discard((id(mapping), key))
            mapping[key] = module
            return None
        if key in mapping:
            raise KeyError(f"register: a {_kind(mapping)} named '{key}' is already "
                           f"registered ({_describe(mapping[key])}); pick another name")
        mapping[key] = module
        return None

    def decorator(obj: Any) -> Any:
        register_base(mapping, key, obj)
        return obj

    return decorator


def _describe(obj: Any) -> str:
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or type(obj).__name__
    return f"{module}.{name}" if module else name


def resolve(mapping: Dict[str, Any], key: str, option: Optional[str] = None) -> Any:
    """The module registered under ``key``; a ``KeyError`` listing the names otherwise.

    Args:
        mapping (dict): the registry to search.
        key (str): the name to look up.
        option (str, optional): the config option that held ``key``, named in the
            error. (default: ``None``)
    """
    if key in mapping:
        return mapping[key]
    where = f" (from {option})" if option else ""
    known = ", ".join(sorted(mapping)) or "none"
    raise KeyError(f"no {_kind(mapping)} named '{key}' is registered{where}; "
                   f"registered: {known}")


def register_act(key: str, module: Optional[Any] = None):
    """Register an activation: a callable that returns a fresh ``torch.nn.Module``."""
    return register_base(act_dict, key, module)


def register_node_encoder(key: str, module: Optional[Any] = None):
    """Register a node feature encoder, built as ``Encoder(emb_dim)``."""
    return register_base(node_encoder_dict, key, module)


def register_edge_encoder(key: str, module: Optional[Any] = None):
    """Register an edge feature encoder, built as ``Encoder(emb_dim)``."""
    return register_base(edge_encoder_dict, key, module)


def register_stage(key: str, module: Optional[Any] = None):
    """Register a GNN stage, built as ``Stage(dim_in=, dim_out=, num_layers=)``."""
    return register_base(stage_dict, key, module)


def register_head(key: str, module: Optional[Any] = None):
    """Register a prediction head, built as ``Head(dim_in=, dim_out=)``."""
    return register_base(head_dict, key, module)


def register_layer(key: str, module: Optional[Any] = None):
    """Register a layer, built as ``Layer(layer_config, **kwargs)``."""
    return register_base(layer_dict, key, module)


def register_pooling(key: str, module: Optional[Any] = None):
    """Register a global pooling (readout) function ``f(x, batch, size=None)``."""
    return register_base(pooling_dict, key, module)


def register_network(key: str, module: Optional[Any] = None):
    """Register a network, built as ``Network(dim_in=, dim_out=)``."""
    return register_base(network_dict, key, module)


def register_config(key: str, module: Optional[Any] = None):
    """Register a config group: a function ``f(cfg)`` that adds options to ``cfg``."""
    return register_base(config_dict, key, module)


def register_dataset(key: str, module: Optional[Any] = None):
    """Register a dataset: a function ``f(dataset_dir)`` returning the dataset."""
    return register_base(dataset_dict, key, module)


def register_loader(key: str, module: Optional[Any] = None):
    """Register a dataset loader ``f(format, name, dataset_dir)`` that returns a
    dataset, or ``None`` when it does not handle that format and name."""
    return register_base(loader_dict, key, module)


def register_optimizer(key: str, module: Optional[Any] = None):
    """Register an optimizer factory ``f(params, <options of cfg.optim by name>)``."""
    return register_base(optimizer_dict, key, module)


def register_scheduler(key: str, module: Optional[Any] = None):
    """Register a scheduler factory ``f(optimizer, <options of cfg.optim by name>)``."""
    return register_base(scheduler_dict, key, module)


def register_loss(key: str, module: Optional[Any] = None):
    """Register a loss ``f(pred, true)`` returning ``(loss, score)``, or ``None`` when
    it does not apply to the current config."""
    return register_base(loss_dict, key, module)


def register_train(key: str, module: Optional[Any] = None):
    """Register a training function, used when ``cfg.train.mode`` names it."""
    return register_base(train_dict, key, module)


def register_metric(key: str, module: Optional[Any] = None):
    """Register a metric ``f(true, pred, task_type)``, reported when
    ``cfg.custom_metrics`` names it."""
    return register_base(metric_dict, key, module)
