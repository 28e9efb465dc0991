"""Capture: trace a model with ``torch.fx`` into a module-level graph.

:class:`MessagePassing` and :class:`Aggregation` modules (and gfx's :class:`Linear`) stay
leaves (``call_module`` nodes), so the graph reads like the user's ``forward``.  Every node
is annotated with ``meta["level"]`` (see :mod:`gfx.levels`) and ``meta["source"]``: the
user's file, line and code that created it (see NOTE [source lines]).

# NOTE [source lines]
fx records the Python stack of every node it creates (``node.stack_trace``).
:func:`user_source` picks the innermost frame that belongs to neither torch nor gfx, so
errors and inspection tables point at the user's code, not at generated code.  Nodes
created by gfx code while lowering a layer (the ``gather`` inside ``propagate``, a
catalogue layer's body) inherit the source of the user's call of that layer; a user's
own ``message`` body keeps its own lines.
"""
from __future__ import annotations

import contextlib
import inspect
import linecache
import os
import re
import sys
import traceback
from typing import Any, Dict, Optional, Tuple, Type

import torch
from torch import Tensor
from torch.fx import GraphModule, Tracer
from torch.fx.proxy import TraceError

from gfx.levels import infer_levels

_GFX_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# gfx's own code (installed, everything is under gfx/; in a checkout, also ops/,
# models/ and passes/ beside it): never "the user's line".
_GFX_CODE = tuple(os.path.join(_GFX_ROOT, p) + os.sep for p in ("gfx", "ops", "models", "passes"))
_TORCH_ROOT = os.path.dirname(os.path.abspath(torch.__file__))
_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<fn>\S+)\n\s*(?P<code>[^\n]*)')


class CaptureError(RuntimeError):
    """A model could not be traced; the message names the user's line and the way out."""


def _is_user_file(path: str) -> bool:
    if path.startswith("<"):  # generated code (fx's <eval_with_key>), not a file
        return False
    path = os.path.abspath(path)
    return not (path.startswith(_TORCH_ROOT) or path.startswith(_GFX_CODE))


def user_source(stack_trace: Optional[str]) -> Optional[str]:
    """``"file:line in fn: code"`` of the innermost user frame of an fx stack trace."""
    if not stack_trace:
        return None
    frames = [m for m in _FRAME.finditer(stack_trace) if _is_user_file(m["file"])]
    if not frames:
        return None
    m = frames[-1]
    return f"{m['file']}:{m['line']} in {m['fn']}: {m['code'].strip()}"


def default_leaf_types() -> Tuple[Type[torch.nn.Module], ...]:
    from gfx.message_passing import MessagePassing
    from gfx.nn.aggr import Aggregation
    from gfx.nn.dense import Linear
    return (MessagePassing, Aggregation, Linear)


class TensorProxy(torch.fx.Proxy):
    """An fx proxy that passes ``isinstance(value, torch.Tensor)``.

    # NOTE [tensor proxies]
    Layer code written for eager execution branches on ``isinstance(x, Tensor)`` to
    tell a tensor from a ``(source, target)`` pair or ``None``.  A plain fx proxy fails
    that check and would silently take the wrong branch (indexing the tensor as if it
    were a pair).  ``isinstance`` consults ``__class__`` when the type itself does not
    match, so reporting ``torch.Tensor`` there makes such code trace as it runs.
    ``isinstance(value, torch.fx.Proxy)`` stays true.  ``_is_param`` answers torch's own
    ``isinstance(value, Parameter)`` probe without recording a node.
    """

    _is_param = False
    _is_buffer = False

    @property
    def __class__(self):
        return Tensor

    def tensor_split(self, sections, dim=0):
        """``tensor_split`` into an int number of parts returns that many proxies.

        Their number is known without the tensor's values, so the result can be
        iterated like eager's tuple (``decomposed_layers`` splits features this way).
        """
        whole = self.tracer.create_proxy("call_method", "tensor_split", (self, sections),
                                         {"dim": dim})
        if isinstance(sections, bool) or not isinstance(sections, int):
            return whole
        return tuple(whole[k] for k in range(sections))


_METADATA_ATTRS = {"shape", "dtype", "device", "ndim", "layout", "is_sparse", "requires_grad"}
_METADATA_METHODS = {"size", "dim", "numel", "nelement", "stride", "element_size"}


def _is_metadata(node) -> bool:
    """Shapes, sizes, dtypes and arithmetic on them: values that are never tensors.

    They get plain proxies: a :class:`TensorProxy` in a size position of a torch call
    would be taken for a real tensor by torch's C++ argument parser.
    """
    import operator
    if node.op == "call_method":
        return node.target in _METADATA_METHODS
    if node.op != "call_function":
        return False
    if node.target is getattr:
        return node.args[1] in _METADATA_ATTRS
    if getattr(node.target, "__module__", None) in ("_operator", "operator") or \
            node.target in (operator.getitem,):
        inputs = [a for a in node.args if isinstance(a, torch.fx.Node)]
        return bool(inputs) and all(a.meta.get("gfx_metadata") for a in inputs)
    return False


_RANDOM = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout", "rand", "randn", "rand_like", "randn_like", "randint",
           "randint_like", "randperm", "bernoulli", "multinomial", "normal", "poisson",
           "uniform_", "normal_", "random_", "exponential_", "geometric_", "cauchy_",
           "log_normal_", "bernoulli_", "rrelu", "gumbel_softmax"}


def is_random(func) -> bool:
    """A function or method whose result depends on the random number generator."""
    return getattr(func, "__name__", None) in _RANDOM


class _RandomOpsAsNodes(torch.overrides.TorchFunctionMode):
    """While tracing, random ops become graph nodes even when no input is traced.

    # NOTE [random ops at capture]
    fx records a torch call only when an argument is a proxy.  ``F.dropout(T)`` on a
    tensor ``T`` that is not an input (a global, a plain attribute) would run once, at
    capture, and every compiled call would reuse that one mask.  Random calls whose
    arguments hold no proxy are therefore recorded as nodes (their tensor arguments
    become graph constants), so they draw fresh numbers on every call, as eagerly.  A
    tensor from outside the graph is a constant only while nothing mutates it: an
    in-place update of one (not made during tracing) is refused with the fix.
    """

    def __init__(self, tracer: "CaptureTracer"):
        super().__init__()
        self.tracer = tracer
        self.created: set = set()  # ids of tensors made while tracing

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        values: list = []
        torch.fx.node.map_aggregate((args, kwargs), values.append)
        traced = any(isinstance(v, torch.fx.Proxy) for v in values)
        if is_random(func) and not traced:
            return self.tracer.create_proxy("call_function", func, args, kwargs)
        name = getattr(func, "__name__", "")
        if not traced and args and isinstance(args[0], Tensor) and \
                id(args[0]) not in self.created and \
                (name.endswith("_") and not name.endswith("__") or "out" in kwargs):
            raise CaptureError(
                f"gfx could not capture: forward updates a tensor that is not an input in "
                f"place ({name}), e.g. a global tensor.  Captured, the update would run "
                f"once, now, instead of on every call.  Pass the tensor as a forward "
                f"argument or register it as a buffer (module.register_buffer).")
        out = func(*args, **kwargs)
        if isinstance(out, Tensor):
            self.created.add(id(out))
        return out


class CaptureTracer(Tracer):
    """An fx tracer that keeps ``leaf_types`` as ``call_module`` leaves and records sources."""

    def __init__(self, leaf_types: Optional[Tuple[Type[torch.nn.Module], ...]] = None):
        super().__init__(autowrap_functions=(check_edge_index,))
        self.leaf_types = default_leaf_types() if leaf_types is None else leaf_types
        self.record_stack_traces = True

    def proxy(self, node) -> torch.fx.Proxy:
        if _is_metadata(node):
            node.meta["gfx_metadata"] = True
            return torch.fx.Proxy(node, self)
        return TensorProxy(node, self)

    def create_arg(self, a):
        # A TensorProxy passes isinstance(a, Tensor); resolve it before fx's constant
        # handling would mistake it for a tensor constant.
        if isinstance(a, torch.fx.Proxy):
            return a.node
        return super().create_arg(a)

    def is_leaf_module(self, m: torch.nn.Module, qualname: str) -> bool:
        return isinstance(m, self.leaf_types) or super().is_leaf_module(m, qualname)

    def trace(self, root, concrete_args=None):
        with _RandomOpsAsNodes(self):
            return super().trace(root, concrete_args)

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        node.meta["source"] = user_source(node.stack_trace) if node.stack_trace else None
        return node


def _user_frame_of(exc: BaseException) -> Optional[str]:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _is_user_file(f.filename)]
    if not frames:
        return None
    f = frames[-1]
    code = f.line or linecache.getline(f.filename, f.lineno).strip()
    return f"{f.filename}:{f.lineno} in {f.name}: {code}"


def explain_trace_failure(exc: BaseException, what: str) -> CaptureError:
    where = _user_frame_of(exc)
    message = f"gfx could not capture {what}"
    if where:
        message += f"\n  at {where}"
    message += f"\n  {type(exc).__name__}: {exc}"
    if isinstance(exc, TraceError) or "symbolically traced" in str(exc):
        message += ("\n  This line uses a traced tensor's value for Python control flow "
                    "(if/for/while, int(), bool()). Ways out: pass the value in as an "
                    "argument (gfx.capture(..., concrete_args={...})), move the code into "
                    "a function marked with torch.fx.wrap, or into a submodule listed in "
                    "leaf_modules.")
    return CaptureError(message)


def check_edge_index(edge_index, layer: str):
    """Run-time check of a compiled ``propagate``'s connectivity, as eager checks it.

    Returns ``edge_index`` itself, so every use downstream depends on the check (and
    dead-code elimination cannot drop it).  A torch.sparse adjacency passes unchanged.
    """
    from gfx.utils.sparse import is_torch_sparse_tensor
    if not isinstance(edge_index, torch.Tensor):
        raise TypeError(f"{layer}: 'edge_index' must be a Tensor of shape [2, num_edges] "
                        f"or a torch.sparse adjacency, got {type(edge_index).__name__}")
    if is_torch_sparse_tensor(edge_index):
        return edge_index
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{layer}: 'edge_index' must be int64 or int32, got "
                        f"{edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"{layer}: 'edge_index' must have shape [2, num_edges], got "
                         f"{list(edge_index.shape)}")
    return edge_index


# NOTE [edge_index checks]
# Eager ``propagate`` and ``edge_updater`` validate their connectivity (dtype, [2, E]
# shape) on every call; traced, they see a proxy and cannot.  While tracing (capture and
# lowering), both are wrapped so that a traced ``edge_index`` first goes through one
# ``check_edge_index`` node, and everything the layers derive from it reads the checked
# value: the compiled graph raises the eager error for a ``[E, 2]``, ``[3, E]`` or 1-D
# input.  The check nodes also tell level inference which values are connectivity (see
# gfx.levels).  Re-tracing a graph keeps each check one node (the tracer autowraps it).

def _checked(original):
    def method(self, edge_index, *args, **kwargs):
        if isinstance(edge_index, torch.fx.Proxy):
            # One check per connectivity value: the layers (and a layer's edge_updater
            # and propagate) that share it keep sharing one node, as fusion expects.
            checked = edge_index.tracer.__dict__.setdefault("_gfx_checked", {})
            if edge_index.node not in checked:
                checked[edge_index.node] = edge_index.tracer.create_proxy(
                    "call_function", check_edge_index, (edge_index, type(self).__name__), {})
            edge_index = checked[edge_index.node]
        return original(self, edge_index, *args, **kwargs)

    method.__wrapped__ = original
    return method


@contextlib.contextmanager
def _checked_propagate():
    from gfx.message_passing import MessagePassing
    originals = {name: MessagePassing.__dict__[name] for name in ("propagate", "edge_updater")}
    for name, original in originals.items():
        setattr(MessagePassing, name, _checked(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(MessagePassing, name, original)


def trace(root: torch.nn.Module, tracer: Tracer, concrete_args: Optional[Dict[str, Any]],
          what: str) -> GraphModule:
    try:
        with _checked_propagate():
            graph = tracer.trace(root, concrete_args)
    except CaptureError:
        raise
    except Exception as exc:  # noqa: BLE001 - re-raised with the user's line
        raise explain_trace_failure(exc, what).with_traceback(sys.exc_info()[2]) from exc
    name = root.__class__.__name__ if not isinstance(root, GraphModule) else \
        getattr(root, "_gfx_class_name", "GraphModule")
    gm = GraphModule(tracer.root, graph, class_name=name)
    gm._gfx_class_name = name
    return gm


def none_default_arguments(module: torch.nn.Module) -> Dict[str, Any]:
    """``{name: None}`` for each ``forward`` parameter whose default is ``None``."""
    params = inspect.signature(module.forward).parameters.values()
    return {p.name: None for p in params if p.default is None}


def capture(module: torch.nn.Module, input_map: Optional[Dict[str, str]] = None,
            concrete_args: Optional[Dict[str, Any]] = None,
            leaf_modules: Tuple[Type[torch.nn.Module], ...] = (),
            traced_args: Tuple[str, ...] = ()) -> GraphModule:
    """Trace ``module`` into a module-level fx graph with levels and sources.

    Args:
        module (torch.nn.Module): the model (lazy ``-1`` layers may stay lazy).
        input_map (dict, optional): level (``"node"``, ``"edge"``, ``"graph"``) of each
            ``forward`` argument; inferred from dataflow when omitted
            (see NOTE [input levels] in :mod:`gfx.levels`). (default: ``None``)
        concrete_args (dict, optional): ``forward`` arguments fixed to Python values
            while tracing (fx's ``concrete_args``, guarded at run time).  When omitted,
            every argument whose default is ``None`` is fixed to ``None`` (except those
            in ``traced_args``), so that ``if arg is None`` branches trace as eager code
            runs them; ``{}`` fixes nothing. (default: ``None``)
        leaf_modules (tuple of types, optional): extra module classes to keep as leaves.
            (default: ``()``)
        traced_args (tuple of str, optional): with ``concrete_args`` omitted,
            ``None``-default arguments to keep as graph inputs (e.g. ``("edge_weight",)``
            to capture the weighted branch). (default: ``()``)
    """
    if concrete_args is None:
        concrete_args = {k: v for k, v in none_default_arguments(module).items()
                         if k not in traced_args}
    tracer = CaptureTracer(default_leaf_types() + tuple(leaf_modules))
    gm = trace(module, tracer, concrete_args, f"{type(module).__name__}.forward")
    gm.meta = getattr(gm, "meta", {})
    gm.meta["input_map"] = dict(input_map or {})
    gm.meta["concrete_args"] = dict(concrete_args)
    return infer_levels(gm, input_map)

