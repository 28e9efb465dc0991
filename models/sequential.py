"""``Sequential``: chain graph layers whose inputs and outputs are named by headers.

# NOTE [sequential code generation]
``Sequential("x, edge_index", [(conv, "x, edge_index -> x"), ReLU(), ...])`` turns the
headers into the Python source of a ``forward`` with the declared signature::

    def forward(self, x, edge_index):
        x = self.module_0(x, edge_index)
        x = self.module_1(x)
        return x

compiled once per distinct source into a subclass of the instance's class (so that
subclasses of :class:`Sequential` keep their methods).  A real signature and
straight-line code are what ``torch.fx`` (and so :func:`gfx.capture`) traces:
placeholders keep the user's names, and each step is one call.  Modules are children
named ``module_<i>`` (or the keys of an ``OrderedDict``); plain functions are called
through their module's namespace when they are importable by name, so that functions
wrapped for fx (``torch.fx.wrap``) stay single calls in captured graphs, and through
``self._fns`` otherwise (lambdas).  The generated class cannot be imported, so pickling
and copying rebuild the instance from its class, ``input_args`` and entries
(:meth:`Sequential.__reduce__`); anything else set on the container itself is not
carried over.
"""
from __future__ import annotations

import ast
import importlib
import linecache
import sys
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import torch

_CLASS_CACHE: Dict[Tuple[type, str], type] = {}


class _Step:
    """One entry: its child name, whether it is a module, its header and parsed header."""

    def __init__(self, name: str, is_module: bool, header: Optional[str]):
        self.name = name
        self.is_module = is_module
        self.header = header
        self.args: List[str] = []        # argument source, e.g. ["x", "edge_index"]
        self.outputs: List[str] = []


def _parse_input_args(text: str) -> Tuple[List[str], str]:
    """Names of the model's inputs and a signature without annotations."""
    if not isinstance(text, str):
        raise TypeError(f"Sequential: 'input_args' must be a string such as "
                        f"'x, edge_index', got {type(text).__name__}")
    try:
        fn = ast.parse(f"def f({text}): pass").body[0]
    except SyntaxError as exc:
        raise ValueError(f"Sequential: cannot parse input_args {text!r} as a parameter "
                         f"list ({exc.msg})") from None
    spec = fn.args
    if spec.vararg or spec.kwarg or spec.kwonlyargs or spec.posonlyargs:
        raise ValueError(f"Sequential: input_args {text!r} may only hold plain names with "
                         f"optional defaults")
    names = [a.arg for a in spec.args]
    if not names:
        raise ValueError("Sequential: 'input_args' must name at least one input")
    defaults = [None] * (len(names) - len(spec.defaults)) + list(spec.defaults)
    params = []
    for name, default in zip(names, defaults):
        if default is None:
            params.append(name)
            continue
        try:
            ast.literal_eval(default)
        except ValueError:
            raise ValueError(f"Sequential: the default of input {name!r} must be a literal "
                             f"(e.g. None), got {ast.unparse(default)!r}") from None
        params.append(f"{name}={ast.unparse(default)}")
    return names, ", ".join(params)


def _parse_header(header: str, known: set, position: int) -> Tuple[List[str], List[str]]:
    """``"x, edge_index -> x1"``: the call arguments and the output names."""
    where = f"Sequential: module {position} header {header!r}"
    if not isinstance(header, str) or header.count("->") != 1:
        raise ValueError(f"{where} must have the form 'inputs -> outputs'")
    lhs, rhs = (part.strip() for part in header.split("->"))
    try:
        call = ast.parse(f"f({lhs})", mode="eval").body
    except SyntaxError:
        raise ValueError(f"{where}: cannot parse the inputs {lhs!r}") from None
    args = []
    for node in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(node, ast.Name):
            if node.id not in known:
                raise ValueError(f"{where} reads {node.id!r}, which is neither an input "
                                 f"nor an output of an earlier module; known: "
                                 f"{sorted(known)}")
        elif not isinstance(node, ast.Constant):
            raise ValueError(f"{where}: inputs must be names or constants, got "
                             f"{ast.unparse(node)!r}")
    for node in call.args:
        if isinstance(node, ast.Starred):
            raise ValueError(f"{where}: starred inputs are not supported")
        args.append(ast.unparse(node))
    for kw in call.keywords:
        if kw.arg is None:
            raise ValueError(f"{where}: '**' inputs are not supported")
        args.append(f"{kw.arg}={ast.unparse(kw.value)}")
    rhs = rhs[1:-1].strip() if rhs.startswith("(") and rhs.endswith(")") else rhs
    outputs = [name.strip() for name in rhs.split(",")] if rhs else []
    if not outputs or not all(name.isidentifier() for name in outputs):
        raise ValueError(f"{where}: the outputs must be one or more names, got {rhs!r}")
    return args, outputs


def _importable_name(fn: Callable) -> Optional[Tuple[str, str]]:
    """``(module, name)`` when ``fn`` is its module's global of that name."""
    module, name = getattr(fn, "__module__", None), getattr(fn, "__name__", None)
    if not module or not name or not name.isidentifier() or module not in sys.modules:
        return None
    return (module, name) if getattr(sys.modules[module], name, None) is fn else None


class Sequential(torch.nn.Module):
    """A chain of graph layers, each reading and writing named values.

    .. code-block:: python

        model = Sequential("x, edge_index, batch", [
            (GCNConv(3, 64), "x, edge_index -> x1"),
            ReLU(),
            (GCNConv(64, 64), "x1, edge_index -> x2"),
            (lambda x1, x2: [x1, x2], "x1, x2 -> xs"),
            (JumpingKnowledge("cat", 64, num_layers=2), "xs -> x"),
            (global_mean_pool, "x, batch -> x"),
            Linear(128, 10),
        ])

    A header ``"a, b -> c"`` calls the entry with the values named ``a`` and ``b`` and
    names its result ``c`` (``"-> c, d"`` or ``"-> (c, d)"`` unpacks a pair).  An entry
    without a header takes the previous entry's outputs and writes them back under the
    same names; the first entry needs a header.  The model returns the last entry's
    outputs (a tuple when there are several).  The generated ``forward`` has the
    signature of ``input_args`` (see NOTE [sequential code generation]), so the model
    captures with :func:`gfx.capture`.

    Args:
        input_args (str): the model's inputs, e.g. ``"x, edge_index"`` (annotations
            are accepted and ignored; defaults must be literals).
        modules (list or OrderedDict): entries ``(callable, header)`` or ``callable``;
            with an ``OrderedDict`` the keys name the child modules.
    """

    def __init__(self, input_args: str, modules: Union[List[Any], "OrderedDict[str, Any]"]):
        super().__init__()
        names, signature = _parse_input_args(input_args)
        if isinstance(modules, dict):
            entries = list(modules.items())
        elif isinstance(modules, (list, tuple)):
            entries = [(f"module_{i}", entry) for i, entry in enumerate(modules)]
        else:
            raise TypeError(f"Sequential: 'modules' must be a list or an OrderedDict, got "
                            f"{type(modules).__name__}")
        if not entries:
            raise ValueError("Sequential: 'modules' must hold at least one entry")

        self.input_args = input_args
        self._fns: Dict[str, Callable] = {}
        self._steps: List[_Step] = []
        known = set(names)
        previous: Optional[List[str]] = None
        for position, (name, entry) in enumerate(entries):
            if isinstance(entry, (tuple, list)):
                if len(entry) != 2:
                    raise ValueError(f"Sequential: entry {position} must be a callable or a "
                                     f"(callable, header) pair")
                fn, header = entry
            else:
                fn, header = entry, None
            if not callable(fn):
                raise TypeError(f"Sequential: entry {position} ({fn!r}) is not callable")
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"Sequential: module name {name!r} must be an identifier")
            step = _Step(name, isinstance(fn, torch.nn.Module), header)
            if header is None:
                if previous is None:
                    raise ValueError(f"Sequential: the first entry ({fn!r}) needs a header "
                                     f"such as '{names[0]} -> {names[0]}'")
                step.args, step.outputs = list(previous), list(previous)
            else:
                step.args, step.outputs = _parse_header(header, known, position)
            known.update(step.outputs)
            previous = step.outputs
            if step.is_module:
                self.add_module(name, fn)
            else:
                self._fns[name] = fn
            self._steps.append(step)
        self._base = type(self)
        self.__class__ = self._generated_class(signature)

    def _generated_class(self, signature: str) -> type:
        lines = [f"def forward(self, {signature}):"]
        imports: Dict[str, str] = {}
        for step in self._steps:
            call_args = ", ".join(step.args)
            if step.is_module:
                target = f"self.{step.name}"
            else:
                found = _importable_name(self._fns[step.name])
                if found is not None:
                    alias = f"_m{len(imports)}"
                    alias = imports.setdefault(found[0], alias)
                    target = f"{alias}.{found[1]}"
                else:
                    target = f"self._fns[{step.name!r}]"
            lines.append(f"    {', '.join(step.outputs)} = {target}({call_args})")
        outputs = self._steps[-1].outputs
        returned = outputs[0] if len(outputs) == 1 else f"({', '.join(outputs)})"
        lines.append(f"    return {returned}")
        header = [f"{alias} = importlib.import_module({module!r})"
                  for module, alias in imports.items()]
        source = "\n".join(header + lines) + "\n"
        base = self._base
        cls = _CLASS_CACHE.get((base, source))
        if cls is None:
            filename = f"<gfx.nn.Sequential {len(_CLASS_CACHE)}>"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            namespace: Dict[str, Any] = {"importlib": importlib}
            exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own code
            cls = type(base.__name__, (base,), {
                "forward": namespace["forward"], "__module__": base.__module__,
                "__qualname__": base.__qualname__, "_source": source})
            _CLASS_CACHE[(base, source)] = cls
        return cls

    def _callable(self, step: _Step) -> Callable:
        return getattr(self, step.name) if step.is_module else self._fns[step.name]

    def __reduce__(self):
        # The generated class is not importable: rebuild from the arguments instead.
        spec = OrderedDict(
            (step.name, self._callable(step) if step.header is None
             else (self._callable(step), step.header)) for step in self._steps)
        return (_rebuild, (self._base, self.input_args, spec, self.training))

    def reset_parameters(self) -> None:
        for step in self._steps:
            fn = self._callable(step)
            if hasattr(fn, "reset_parameters"):
                fn.reset_parameters()

    def __len__(self) -> int:
        return len(self._steps)

    def __getitem__(self, idx: int) -> Callable:
        return self._callable(self._steps[idx])

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for i, step in enumerate(self._steps):
            fn = self._callable(step)
            text = repr(fn) if isinstance(fn, torch.nn.Module) else \
                getattr(fn, "__name__", repr(fn))
            lines.append(f"  ({i}) - {text}: {', '.join(step.args)} -> "
                         f"{', '.join(step.outputs)}")
        lines.append(")")
        return "\n".join(lines)


def _rebuild(base: type, input_args: str, spec, training: bool) -> Sequential:
    model = base(input_args, spec)
    model.training = training  # children keep their own pickled modes
    return model


__all__ = ["Sequential"]
