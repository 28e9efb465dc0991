"""Inspection: look at a model's graph node by node, before and after every pass.

:func:`inspect` runs the same pipeline as :func:`gfx.compile` (capture, lower, clean-up
passes), records every pass, and runs the graphs once on example inputs so that every
node carries ``meta["tensor_meta"]`` (shape and dtype).  The returned
:class:`InspectionReport` prints as a table (see :mod:`gfx.render`), renders to DOT and
SVG, and diffs each pass.  :func:`dump_debug` writes the same to a folder (used by
``gfx.compile`` when ``GFX_DEBUG=<folder>`` is set), and :func:`run_cli` backs
``python -m gfx inspect``.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect as _inspect
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch.fx import GraphModule, Interpreter, Node
from torch.fx.node import map_aggregate
from torch.fx.passes.shape_prop import _extract_tensor_metadata

from gfx import render
from gfx.capture import capture
from gfx.compile import build_graph, constant_arguments
from gfx.lower import lower
from gfx.pipeline import PassRecord, PipelineRun

STAGES = ("captured", "before-passes", "lowered")


class InspectError(RuntimeError):
    """Inspection failed: bad example inputs, a failing node, a missing tool or factory."""


class ShapePropagation(Interpreter):
    """Run a graph once and write ``meta["tensor_meta"]`` (fx's ``TensorMetadata``).

    Unlike fx's ``ShapeProp`` it leaves ``meta["type"]`` alone (gfx keeps the
    heterogeneous node/edge type there), and a failing node raises an
    :class:`InspectError` that names the node and the user's source line.
    """

    def __init__(self, gm: GraphModule):
        super().__init__(gm)
        self.extra_traceback = False  # the InspectError already names the node

    def run_node(self, n: Node) -> Any:
        try:
            result = super().run_node(n)
        except Exception as exc:  # noqa: BLE001 - re-raised with the node and source
            where = n.meta.get("source")
            message = (f"gfx.inspect: node '{n.name}' ({render.short_target(n, self.module)}) "
                       f"failed on the example inputs")
            if where:
                message += f"\n  at {where}"
            raise InspectError(f"{message}\n  {type(exc).__name__}: {exc}") from exc
        found = False

        def describe(value: Any) -> Any:
            nonlocal found
            if isinstance(value, torch.Tensor):
                found = True
                return _extract_tensor_metadata(value)
            return value

        meta = map_aggregate(result, describe)
        if found:
            n.meta["tensor_meta"] = meta
        return result


def bind_inputs(signature: _inspect.Signature, gm: GraphModule, args: Sequence[Any],
                kwargs: Dict[str, Any]) -> List[Any]:
    """``args``/``kwargs`` of ``forward`` as the positional inputs of ``gm``.

    fx makes one placeholder per parameter of ``forward``, in order (it may rename
    them, e.g. a parameter specialised by ``concrete_args``), and one ``*args``
    placeholder that takes the remaining values.
    """
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    values: List[Any] = []
    for name, param in signature.parameters.items():
        if param.kind is param.VAR_KEYWORD:
            if bound.arguments.get(name):
                raise InspectError(f"gfx.inspect: forward{signature} takes **{name}, which "
                                   f"a captured graph cannot receive; name the inputs")
        elif param.kind is param.VAR_POSITIONAL:
            values.extend(bound.arguments.get(name, ()))
        else:
            values.append(bound.arguments[name])
    placeholders = gm.graph.find_nodes(op="placeholder")
    if not any(str(p.target).startswith("*") for p in placeholders) \
            and len(placeholders) != len(values):
        raise InspectError(f"gfx.inspect: the graph has {len(placeholders)} inputs "
                           f"({', '.join(p.name for p in placeholders)}) but "
                           f"forward{signature} was given {len(values)}")
    return values


def propagate_shapes(gm: GraphModule, inputs: Sequence[Any]) -> GraphModule:
    """Run ``gm`` once on ``inputs`` and write ``meta["tensor_meta"]`` on its nodes."""
    with torch.no_grad():
        ShapePropagation(gm).run(*inputs)
    return gm


def _has_lazy_parameters(model: torch.nn.Module) -> bool:
    return any(torch.nn.parameter.is_lazy(p) for p in model.parameters())


@dataclass
class InspectionReport:
    """What :func:`inspect` found: the graphs of each stage and a record of every pass.

    Attributes:
        name (str): the model's class name.
        captured (GraphModule): the module-level graph (layers are ``call_module``).
        before_passes (GraphModule): the lowered graph before any pass ran.
        lowered (GraphModule): the lowered graph after the pipeline; what ``print`` shows.
        passes (list of PassRecord): each pass's printed code before and after it.
    """

    name: str
    captured: GraphModule
    before_passes: GraphModule
    lowered: GraphModule
    passes: List[PassRecord]

    def graph(self, stage: str = "lowered") -> GraphModule:
        """The graph of ``stage``: ``"captured"``, ``"before-passes"`` or ``"lowered"``."""
        if stage not in STAGES:
            raise ValueError(f"InspectionReport: unknown stage '{stage}'; expected one of "
                             f"{', '.join(STAGES)}")
        return {"captured": self.captured, "before-passes": self.before_passes,
                "lowered": self.lowered}[stage]

    def table(self, stage: str = "lowered") -> str:
        """One row per node: name, op, inputs, level, type, shape, dtype, source line.

        Args:
            stage (str, optional): ``"lowered"`` (after the passes), ``"before-passes"``
                or ``"captured"``. (default: ``"lowered"``)
        """
        return render.graph_table(self.graph(stage))

    def __str__(self) -> str:
        return f"{self.name} (lowered, {len(self.lowered.graph.nodes)} nodes)\n" + self.table()

    def to_dot(self, stage: str = "lowered") -> str:
        """Graphviz DOT text of ``stage``'s graph, nodes coloured by level."""
        return render.to_dot(self.graph(stage), f"{self.name} ({stage})")

    def save_svg(self, path: str, stage: str = "lowered") -> str:
        """Render ``stage``'s graph to an SVG file with Graphviz's ``dot``; return ``path``."""
        write_svg(self.to_dot(stage), path)
        return path

    def _pass_keys(self) -> List[str]:
        keys: List[str] = []
        for record in self.passes:
            count = sum(1 for r in keys if r.split("#")[0] == record.name)
            keys.append(record.name if count == 0 else f"{record.name}#{count + 1}")
        return keys

    def diff(self, pass_name: str) -> str:
        """Unified diff of the printed code before and after one pass (``""``: no change).

        Args:
            pass_name (str): the pass's name (``"cse"``); ``"cse#2"`` for its second run.
        """
        keys = self._pass_keys()
        if pass_name not in keys:
            raise KeyError(f"InspectionReport.diff: no pass named '{pass_name}'; the passes "
                           f"that ran are {', '.join(keys) or 'none'}")
        return pass_diff(self.passes[keys.index(pass_name)])

    def diffs(self) -> Dict[str, str]:
        """Every pass's diff, in pipeline order, keyed as :meth:`diff` expects."""
        return {key: pass_diff(record) for key, record in zip(self._pass_keys(), self.passes)}


def pass_diff(record: PassRecord) -> str:
    """Unified diff of ``record.before`` -> ``record.after``."""
    return "".join(difflib.unified_diff(
        record.before.splitlines(keepends=True), record.after.splitlines(keepends=True),
        fromfile=f"before {record.name}", tofile=f"after {record.name}"))


def write_svg(dot_text: str, path: str) -> None:
    """Run Graphviz's ``dot`` on ``dot_text`` and write the SVG to ``path``."""
    dot = shutil.which("dot")
    if dot is None:
        raise InspectError("save_svg needs Graphviz's 'dot' program, which is not installed "
                           "(apt-get install graphviz, brew install graphviz, or conda "
                           "install graphviz); to_dot() works without it")
    done = subprocess.run([dot, "-Tsvg", "-o", path], input=dot_text, text=True,
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise InspectError(f"Graphviz 'dot' failed (exit {done.returncode}): "
                           f"{done.stderr.strip()}")


def inspect(model: torch.nn.Module, *example_inputs: Any,
            input_map: Optional[Dict[str, str]] = None,
            **example_kwargs: Any) -> InspectionReport:
    """Capture, lower and optimise ``model`` as :func:`gfx.compile` does, and report it.

    The graphs run once on the example inputs (without gradients) to record every node's
    shape and dtype; lazy (``-1``) layers are materialised first by one eager call.

    Args:
        model (torch.nn.Module): the model, in the train/eval mode to inspect.
        *example_inputs: positional inputs of ``model.forward``.
        input_map (dict, optional): level of each ``forward`` argument, see
            :func:`gfx.capture`. (default: ``None``)
        **example_kwargs: keyword inputs of ``model.forward``.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"gfx.inspect: 'model' must be a torch.nn.Module, got "
                        f"{type(model).__name__}")
    signature = _inspect.signature(model.forward)
    try:
        signature.bind(*example_inputs, **example_kwargs)
    except TypeError as exc:
        raise InspectError(f"gfx.inspect: the example inputs do not fit "
                           f"{type(model).__name__}.forward{signature}: {exc}") from None
    if _has_lazy_parameters(model):
        with torch.no_grad():
            model(*example_inputs, **example_kwargs)
    constants = constant_arguments(signature, example_inputs, example_kwargs)
    record = PipelineRun()
    lowered = build_graph(model, input_map, record, constants)
    captured = capture(model, input_map, concrete_args=constants)
    before = lower(captured)
    inputs = bind_inputs(signature, captured, example_inputs, example_kwargs)
    for gm in (lowered, before, captured):  # the finest graph first: it fails most precisely
        propagate_shapes(gm, inputs)
    return InspectionReport(type(model).__name__, captured, before, lowered,
                            list(record.records))


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def dump_debug(folder: str, model_name: str, training: bool, graph_module: GraphModule,
               record: PipelineRun) -> List[str]:
    """Write one compile's graph and pass diffs under ``folder``; return the paths written.

    Files, with ``<m>`` the model name and ``<mode>`` ``train`` or ``eval``:
    ``<m>.<mode>.lowered.txt`` (the table; shape columns only when shapes are known,
    then the generated code), ``<m>.<mode>.dot``, and per pass
    ``<m>.<mode>.pass-<k>-<name>.diff`` (``k`` from 1, in pipeline order; empty when
    the pass changed nothing).

    Args:
        folder (str): the output folder (created when missing).
        model_name (str): the prefix of every file.
        training (bool): the mode the graph was built in.
        graph_module (GraphModule): the lowered graph after the passes.
        record (PipelineRun): the passes' before/after record.
    """
    os.makedirs(folder, exist_ok=True)
    prefix = os.path.join(folder, f"{_UNSAFE.sub('_', model_name)}."
                                  f"{'train' if training else 'eval'}")
    files = {
        f"{prefix}.lowered.txt": (render.graph_table(graph_module) + "\n\n# generated code\n"
                                  + graph_module.code.strip() + "\n"),
        f"{prefix}.dot": render.to_dot(graph_module, model_name),
    }
    for k, rec in enumerate(record.records, start=1):
        files[f"{prefix}.pass-{k}-{_UNSAFE.sub('_', rec.name)}.diff"] = pass_diff(rec)
    for path, text in files.items():
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return list(files)


def load_factory(spec: str):
    """Resolve ``"module:function"`` (a dotted module or a ``.py`` path) to the function."""
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise InspectError(f"expected MODULE:FACTORY (e.g. gfx.examples:gcn), got '{spec}'")
    if module_name.endswith(".py") or os.sep in module_name:
        if not os.path.isfile(module_name):
            raise InspectError(f"no such file '{module_name}'")
        name = "_gfx_inspect_" + _UNSAFE.sub("_", os.path.splitext(
            os.path.basename(module_name))[0])
        loader_spec = importlib.util.spec_from_file_location(name, module_name)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        loader_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                raise InspectError(f"cannot import module '{module_name}' ({exc})") from None
            raise
    factory = getattr(module, attr, None)
    if not callable(factory):
        found = "is not callable" if factory is not None else "does not exist"
        raise InspectError(f"'{attr}' in module '{module_name}' {found}; it must be a "
                           f"function returning (model, example_inputs)")
    return factory


def model_and_inputs(made: Any, spec: str) -> Tuple[torch.nn.Module, tuple]:
    """Split a factory's result into the model and its tuple of example inputs."""
    if isinstance(made, torch.nn.Module):
        inputs = getattr(made, "example_inputs", None)
        if inputs is None:
            raise InspectError(f"{spec}() returned a model without an 'example_inputs' "
                               f"attribute; return (model, (x, edge_index, ...)) instead")
        return made, tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if (isinstance(made, tuple) and len(made) == 2 and isinstance(made[0], torch.nn.Module)
            and isinstance(made[1], (tuple, list))):
        return made[0], tuple(made[1])
    raise InspectError(f"{spec}() must return (model, (example inputs...)) or a model with "
                       f"an 'example_inputs' attribute, got {type(made).__name__}")


def run_cli(spec: str, svg: Optional[str] = None, dot: Optional[str] = None) -> int:
    """``python -m gfx inspect MODULE:FACTORY``: print the report, optionally save DOT/SVG."""
    try:
        model, inputs = model_and_inputs(load_factory(spec)(), spec)
        report = inspect(model, *inputs)
        print(report)
        if report.passes:
            changed = [k for k, d in report.diffs().items() if d]
            print(f"\npasses: {', '.join(r.name for r in report.passes)}"
                  f" (changed the graph: {', '.join(changed) or 'none'})")
        if dot:
            with open(dot, "w", encoding="utf-8") as f:
                f.write(report.to_dot())
            print(f"wrote {dot}")
        if svg:
            report.save_svg(svg)
            print(f"wrote {svg}")
    except InspectError as exc:
        print(f"python -m gfx inspect: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0
