"""``gfx.compile``: capture, lower and optimise a model; same signature, same results.

# NOTE [train and eval graphs]
Tracing runs the model's Python once, so anything that reads ``self.training`` (e.g.
``F.dropout(x, training=self.training)``) would be frozen in the mode the model had at
trace time.  :class:`CompiledModule` therefore captures again whenever a submodule's
mode changed (see NOTE [module state]); its ``training`` is the model's own flag, so
``train()``/``eval()`` on either behave as on the eager model.

# NOTE [concrete arguments]
fx turns every ``forward`` argument into a placeholder, so ``if edge_weight is None``
would trace the tensor branch even when the caller passes ``None``.  A compiled module
therefore specialises its graph on the arguments that are ``None`` or Python scalars
(numbers, strings), using fx's ``concrete_args`` (which guards ``None`` at run time),
and keeps one graph per such combination.

# NOTE [structured inputs]
An argument that is a dict, list or tuple of tensors (``x_dict``, ``edge_index_dict``,
an ``(x_src, x_dst)`` pair) is flattened like ``torch.export`` flattens inputs: its
structure (keys, length, non-tensor entries) is fixed at capture and each tensor in it
becomes its own graph input, so ``for key, value in x_dict.items()`` traces as it runs.
Another structure (a new key, another length) captures another graph.  The model is
captured behind :class:`FlatInputs`, whose generated ``forward`` takes those tensors
one by one and rebuilds the structures (fx's own pytree inputs cannot be combined with
arguments fixed to ``None``).
"""
from __future__ import annotations

import builtins
import inspect as _inspect
import os
import warnings
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.utils._pytree as pytree
from torch.fx import GraphModule

from gfx.capture import capture
from gfx.lower import lower
from gfx.passes.fusion import fuse_message_reduce
from gfx.passes.fusion_attention import fuse_attention
from gfx.passes.horizontal_fusion import fuse_relations
from gfx.passes.reorder import move_linear_before_gather
from gfx.pipeline import CLEANUP, Pass, PipelineRun, run_passes
from gfx.structure import revalidate

class FusionWarning(UserWarning):
    """A message/aggregate pattern that reads node features could not be fused."""


def kernel_backends() -> Dict[str, Any]:
    """The registered fused-kernel backends (importing gfx.codegen registers cpp/triton)."""
    import gfx.codegen  # noqa: F401
    from gfx.ops.fused import BACKENDS
    return BACKENDS


def resolve_backend(backend: str) -> str:
    """``"auto"`` -> the fastest backend available here; other names are checked."""
    backends = kernel_backends()
    if backend == "auto":
        for name in ("triton", "cpp"):
            if name in backends and backends[name].available():
                return name
        return "reference"
    if backend not in backends:
        raise ValueError(f"gfx.compile: unknown backend '{backend}'; available: "
                         f"{', '.join(['auto', *backends])}")
    if not backends[backend].available():
        raise RuntimeError(f"gfx.compile: backend '{backend}' is not available on this "
                           f"machine (see docs/compile.md); use backend='auto'")
    return backend


def pipeline(backend: str) -> List[Pass]:
    """The passes run for ``backend``: clean-up, then (kernel backends) fusion."""
    if backend == "reference":
        return list(CLEANUP)
    return list(CLEANUP) + [Pass("reorder", move_linear_before_gather),
                            Pass("fuse_attention", fuse_attention(backend)),
                            Pass("fuse", fuse_message_reduce(backend)),
                            Pass("hfuse", fuse_relations)] + list(CLEANUP)


def build_graph(model: torch.nn.Module, input_map: Optional[Dict[str, str]] = None,
                record: Optional[PipelineRun] = None,
                concrete_args: Optional[Dict[str, Any]] = None,
                backend: str = "reference") -> GraphModule:
    """capture -> lower -> the backend's passes, in the model's current train/eval mode."""
    gm = lower(capture(model, input_map, concrete_args=concrete_args))
    gm = run_passes(gm, pipeline(backend), record=record)
    for name, source, why in getattr(gm, "meta", {}).get("unfused", []):
        where = f" (at {source})" if source else ""
        warnings.warn(f"gfx.compile: '{name}'{where} runs unfused on the {backend} backend: "
                      f"{why}", FusionWarning, stacklevel=4)
    return gm


def _is_constant(value) -> bool:
    # Tuples (e.g. ``size``) stay placeholders: fx cannot specialise on them, and layers
    # index them like proxies.
    return value is None or isinstance(value, (bool, int, float, str))


def _is_container(value) -> bool:
    return isinstance(value, (dict, list, tuple)) and any(
        isinstance(leaf, torch.Tensor) for leaf in pytree.tree_leaves(value))


def _structure(value):
    """``value`` with every tensor replaced by fx's placeholder marker ``PH``."""
    return pytree.tree_map(lambda v: torch.fx.PH if isinstance(v, torch.Tensor) else v, value)


def constant_arguments(signature: _inspect.Signature, args, kwargs) -> Dict[str, Any]:
    """The non-tensor arguments of a call, by name (see NOTE [concrete arguments]).

    An argument that is a dict, list or tuple holding tensors maps to its structure
    with a placeholder per tensor (see NOTE [structured inputs]).
    """
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    found: Dict[str, Any] = {}
    for name, value in bound.arguments.items():
        if signature.parameters[name].kind in (_inspect.Parameter.VAR_POSITIONAL,
                                               _inspect.Parameter.VAR_KEYWORD):
            continue
        if _is_constant(value):
            found[name] = value
        elif _is_container(value):
            found[name] = _structure(value)
    return found


class FlatInputs(torch.nn.Module):
    """``model`` behind a ``forward`` that takes the tensors of structured inputs one by one.

    See NOTE [structured inputs]: ``constants`` maps each fixed argument to its value,
    or a structured one to its structure with ``PH`` for every tensor.  The generated
    ``forward`` takes one argument per tensor (``x_dict_0``, ``x_dict_1``, ... in
    pytree order, then the plain tensor arguments by name), rebuilds the structures and
    calls ``model`` with the fixed values, so that ``if arg is None`` and loops over
    ``x_dict.items()`` trace as they run.
    """

    def __init__(self, model: torch.nn.Module, signature: _inspect.Signature,
                 constants: Dict[str, Any]):
        super().__init__()
        self.model = model
        self._plan: List[Tuple[str, Any, List[str]]] = []
        names: List[str] = []
        for name in signature.parameters:
            value = constants.get(name, torch.fx.PH)
            if value is torch.fx.PH:
                self._plan.append((name, None, [name]))
                names.append(name)
            elif isinstance(value, (dict, list, tuple)):
                leaves, spec = pytree.tree_flatten(value)
                flat = [f"{name}_{k}" for k, leaf in enumerate(leaves) if leaf is torch.fx.PH]
                self._plan.append((name, (leaves, spec), flat))
                names.extend(flat)
            else:
                self._plan.append((name, ("constant", value), []))
        self.input_names = names
        code = (f"def forward(self, {', '.join(names)}):\n"
                f"    return self.call_model([{', '.join(names)}])\n")
        scope: Dict[str, Any] = {}
        exec(builtins.compile(code, "<gfx.compile.FlatInputs>", "exec"), scope)  # noqa: S102
        # fx traces type(root).forward: give this instance a class of its own.
        self.__class__ = type("FlatInputs", (FlatInputs,), {"forward": scope["forward"]})

    def flatten(self, bound: Dict[str, Any]) -> List[Any]:
        """The generated ``forward``'s arguments for a call bound by name."""
        flat: List[Any] = []
        for name, how, _ in self._plan:
            if how is None:
                flat.append(bound[name])
            elif how[0] != "constant":
                recorded, spec = how
                leaves, given = pytree.tree_flatten(bound[name])
                if given != spec:
                    raise TypeError(f"compiled model: argument '{name}' has another structure "
                                    f"than when it was captured ({given} instead of {spec})")
                # Only the tensors are inputs of the graph; other leaves were fixed.
                flat.extend(v for v, r in zip(leaves, recorded) if r is torch.fx.PH)
        return flat

    def call_model(self, flat: List[Any]):
        args: List[Any] = []
        rest = iter(flat)
        for name, how, names in self._plan:
            if how is None:
                args.append(next(rest))
            elif how[0] == "constant":
                args.append(how[1])
            else:
                leaves, spec = how
                filled = [next(rest) if leaf is torch.fx.PH else leaf for leaf in leaves]
                args.append(pytree.tree_unflatten(filled, spec))
        return self.model(*args)


def positional_inputs(signature: _inspect.Signature, args, kwargs) -> List[Any]:
    """The call's arguments in ``forward``'s parameter order, defaults filled in.

    A captured graph has one positional placeholder per parameter (fx may rename one it
    specialised), so calling it positionally is exact where keywords may not match.
    """
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    values: List[Any] = []
    for name, param in signature.parameters.items():
        if param.kind is param.VAR_POSITIONAL:
            values.extend(bound.arguments.get(name, ()))
        elif param.kind is param.VAR_KEYWORD:
            if bound.arguments.get(name):
                raise TypeError(f"gfx.compile: forward{signature} takes **{name}, which a "
                                f"compiled graph cannot receive; name the inputs")
        else:
            values.append(bound.arguments[name])
    return values


class CompiledGraphError(RuntimeError):
    """A compiled graph failed; the message names the IR node and the user's line.

    # NOTE [exception types]
    The error a compiled graph raises keeps the type of the original one: it is an
    instance of a subclass of both that type and :class:`CompiledGraphError`, so
    ``except IndexError`` catches what it caught eagerly, and ``except
    CompiledGraphError`` catches every failure located in a compiled graph.  Types that
    cannot be combined this way (an incompatible C layout, a constructor that does not
    take a message) are re-raised as they are, with the location added as a note.
    """


class _Locator(torch.fx.Interpreter):
    def run_node(self, n):
        try:
            return super().run_node(n)
        except Exception as exc:
            exc.gfx_node = n
            raise


_LOCATED: Dict[type, type] = {}


def located_error(exc: Exception, message: str) -> Exception:
    """``exc``'s type (and :class:`CompiledGraphError`) with ``message`` (see NOTE
    [exception types])."""
    cls = type(exc)
    if isinstance(exc, CompiledGraphError):
        return exc
    if issubclass(CompiledGraphError, cls):  # RuntimeError, Exception
        return CompiledGraphError(message)
    try:
        if cls not in _LOCATED:
            _LOCATED[cls] = type(cls.__name__, (cls, CompiledGraphError),
                                 {"__module__": cls.__module__,
                                  "__qualname__": cls.__qualname__})
        return _LOCATED[cls](message)
    except Exception:  # noqa: BLE001 - a type that cannot be combined or rebuilt
        exc.add_note(message)
        return exc


def locate_failure(gm: GraphModule, inputs: List[Any], exc: Exception) -> Exception:
    """Re-run ``gm`` node by node to find where ``exc`` came from (error path only)."""
    try:
        with torch.no_grad():
            _Locator(gm).run(*inputs)
    except Exception as again:  # noqa: BLE001 - only used to find the node
        node = getattr(again, "gfx_node", None)
        if node is not None:
            where = node.meta.get("source")
            message = f"{exc}\n  gfx: raised by node '{node.name}' ({node.op} {node.target})"
            if where:
                message += f"\n  at {where}"
            return located_error(exc, message)
    return exc


def _hook_ids(module: torch.nn.Module) -> Tuple:
    """The registered hooks of ``module`` (torch's and MessagePassing's), by handle id."""
    return tuple((name, tuple(value)) for name, value in vars(module).items()
                 if name.endswith("hooks") and isinstance(value, dict) and value)


def model_state(model: torch.nn.Module) -> Tuple:
    """What a captured graph depends on besides the inputs (see NOTE [module state]).

    The identity of every parameter and buffer, every submodule's train/eval flag, and
    the hooks registered on it (and globally).
    """
    from torch.nn.modules import module as nn_module
    state = [tuple((name, id(t)) for name, t in model.named_parameters(remove_duplicate=False)),
             tuple((name, id(t)) for name, t in model.named_buffers(remove_duplicate=False))]
    for module in model.modules():
        state.append(module.training)
        state.append(_hook_ids(module))
    for name in ("_global_forward_hooks", "_global_forward_pre_hooks",
                 "_global_backward_hooks", "_global_backward_pre_hooks"):
        state.append(tuple(getattr(nn_module, name, {})))
    return tuple(state)


def _bind(signature: _inspect.Signature, args, kwargs) -> Dict[str, Any]:
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _structured_forward(gm: GraphModule, flat: FlatInputs, signature: _inspect.Signature):
    """``gm``'s calls take the model's own (structured) arguments and flatten them.

    Set as the instance's ``forward``: ``gm(x_dict, edge_index_dict)`` works like the
    model, while fx (which traces ``type(gm).forward``) still sees the flat graph.
    """
    generated = type(gm).forward

    def forward(*args, **kwargs):
        return generated(gm, *flat.flatten(_bind(signature, args, kwargs)))
    return forward


_MAX_GRAPHS = 8


class CompiledModule(torch.nn.Module):
    """A compiled model: calls the graph built for the model's current state.

    # NOTE [module state]
    A graph is captured from the model as it is at that moment: its parameter objects,
    its submodules' train/eval flags, its hooks.  Each call compares :func:`model_state`
    with the state the cached graphs were built from and, when anything changed
    (``load_state_dict(..., assign=True)``, ``model.eval()`` on the original model, a hook
    registered after compiling), captures again, as ``torch.compile`` recompiles on a
    failed guard; the last few graphs stay cached, so alternating ``train()`` and
    ``eval()`` captures each mode once.  An in-place update of a parameter's values needs no
    recapture: the graph reads the same tensor.
    """

    def __init__(self, model: torch.nn.Module, backend: str,
                 input_map: Optional[Dict[str, str]] = None):
        super().__init__()
        self.model = model
        self.backend = backend
        self.input_map = dict(input_map or {})
        self._graphs: Dict[Tuple, GraphModule] = {}
        # inspect.signature(compiled) reports the model's forward signature.
        self.__signature__ = _inspect.signature(model.forward)

    @property
    def training(self) -> bool:  # the model's flag: model.eval() is seen here too
        model = self.__dict__.get("_modules", {}).get("model")
        return model.training if model is not None else True

    @training.setter
    def training(self, mode: bool) -> None:
        model = self.__dict__.get("_modules", {}).get("model")
        if model is not None:
            model.training = mode

    def graph_module(self, *args, **kwargs) -> GraphModule:
        """The lowered graph for the model's current state and these arguments' constants."""
        constants = constant_arguments(self.__signature__, args, kwargs)
        key = (model_state(self.model), tuple(sorted((k, repr(v)) for k, v in constants.items())))
        if key not in self._graphs:
            if len(self._graphs) >= _MAX_GRAPHS:  # old states (replaced parameters) go
                self._graphs.pop(next(iter(self._graphs)))
            record = PipelineRun() if os.environ.get("GFX_DEBUG") else None
            if any(isinstance(v, (dict, list, tuple)) for v in constants.values()):
                flat = FlatInputs(self.model, self.__signature__, constants)
                gm = build_graph(flat, self.input_map, record, {}, self.backend)
                gm.meta["flat_inputs"] = flat
                gm.forward = _structured_forward(gm, flat, self.__signature__)
            else:
                gm = build_graph(self.model, self.input_map, record, constants, self.backend)
            if record is not None:
                from gfx.inspect import dump_debug
                dump_debug(os.environ["GFX_DEBUG"], type(self.model).__name__,
                           self.model.training, gm, record)
            # Keyed on the state after capturing (a lazy layer may have materialised).
            key = (model_state(self.model), key[1])
            self._graphs[key] = gm
        return self._graphs[key]

    def forward(self, *args, **kwargs):
        gm = self.graph_module(*args, **kwargs)
        inputs = positional_inputs(self.__signature__, args, kwargs)
        for value in pytree.tree_leaves(inputs):  # NOTE [structure cache keys], gfx.structure
            revalidate(value)
        try:
            return gm(*inputs)
        except Exception as exc:
            flat = getattr(gm, "meta", {}).get("flat_inputs")
            if flat is not None:
                inputs = flat.flatten(_bind(self.__signature__, args, kwargs))
            raise locate_failure(gm, inputs, exc) from exc

    def train(self, mode: bool = True) -> "CompiledModule":
        self.model.train(mode)
        return self


def compile(model: torch.nn.Module, backend: str = "auto",
            input_map: Optional[Dict[str, str]] = None) -> CompiledModule:
    """Compile ``model``; the result is called exactly like ``model``.

    Args:
        model (torch.nn.Module): the model.
        backend (str, optional): ``"reference"`` (lowered graph, plain torch ops),
            ``"cpp"`` (fused C++/OpenMP kernels), ``"triton"`` (fused CUDA kernels) or
            ``"auto"`` (the best available here). (default: ``"auto"``)
        input_map (dict, optional): level of each ``forward`` argument, see
            :func:`gfx.capture`. (default: ``None``)
    """
    return CompiledModule(model, resolve_backend(backend), input_map)
