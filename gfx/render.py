"""Renderings of a gfx graph for people: the node table and Graphviz DOT text.

Both read only the documented ``node.meta`` keys (``level``, ``type``, ``tensor_meta``,
``source``; see ``docs/ir.md``), so they show any graph of the pipeline: captured,
lowered, transformed or optimised.  :func:`gfx.inspect` fills ``tensor_meta`` by running
the graph on example inputs; without it the shape and dtype cells stay empty.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Sequence

import torch
from torch.fx import GraphModule, Node
from torch.fx.passes.shape_prop import TensorMetadata

from gfx.levels import input_nodes

COLUMNS = ("node", "op", "inputs", "level", "type", "shape", "dtype", "source")
SHAPE_COLUMNS = ("shape", "dtype")
_SOURCE = re.compile(r"^(?P<file>.*?):(?P<line>\d+) in (?P<fn>[^:]*): (?P<code>.*)$", re.S)
_MAX_CODE = 60
_MAX_INPUTS = 40

# Fill colours of the DOT rendering, one per level (None: level-free constants).
LEVEL_COLOURS = {"node": "#cfe2f3", "edge": "#fce5cd", "graph": "#d9ead3", None: "#eeeeee"}


def short_target(node: Node, gm: Optional[GraphModule] = None) -> str:
    """What a node computes, in a few characters.

    ``gfx.gather`` for a gfx primitive, ``aten.add`` for other operator overloads, the
    bare function name (``linear``, ``relu``, ``getitem``) for Python callables,
    ``.view()`` for tensor methods, ``conv1.lin (Linear)`` for a module call,
    ``get_attr conv1.bias`` for a parameter or buffer.
    """
    target = node.target
    if node.op == "call_function":
        if isinstance(target, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)):
            name = str(target)
            return name[:-len(".default")] if name.endswith(".default") else name
        return getattr(target, "__name__", None) or str(target)
    if node.op == "call_method":
        return f".{target}()"
    if node.op == "call_module":
        if gm is not None:
            try:
                return f"{target} ({type(gm.get_submodule(target)).__name__})"
            except AttributeError:
                pass
        return str(target)
    if node.op == "get_attr":
        return f"get_attr {target}"
    return node.op


def short_source(source: Optional[str], max_code: int = _MAX_CODE) -> str:
    """``"file:line in fn: code"`` shortened to ``"basename:line code"``."""
    if not source:
        return ""
    m = _SOURCE.match(source)
    if m is None:
        return source
    code = m["code"].strip()
    if len(code) > max_code:
        code = code[:max_code - 3] + "..."
    return f"{os.path.basename(m['file'])}:{m['line']} {code}"


def _format_meta(meta: Any, attr: str) -> str:
    """``shape`` or ``dtype`` of a ``tensor_meta`` entry, nested for tuple results."""
    if meta is None:
        return ""
    if isinstance(meta, TensorMetadata):
        if attr == "shape":
            return "[" + ", ".join(str(int(d)) for d in meta.shape) + "]"
        return str(meta.dtype).replace("torch.", "")
    if isinstance(meta, (list, tuple)):
        return "(" + ", ".join(_format_meta(m, attr) for m in meta) + ")"
    if isinstance(meta, dict):
        return "{" + ", ".join(f"{k}: {_format_meta(v, attr)}" for k, v in meta.items()) + "}"
    return "-" if attr == "shape" else type(meta).__name__  # a non-tensor member


def format_shape(node: Node) -> str:
    """``[40, 16]`` from ``meta["tensor_meta"]`` (blank when unknown)."""
    return _format_meta(node.meta.get("tensor_meta"), "shape")


def format_dtype(node: Node) -> str:
    """``float32`` from ``meta["tensor_meta"]`` (blank when unknown)."""
    return _format_meta(node.meta.get("tensor_meta"), "dtype")


def _format_inputs(node: Node) -> str:
    names = ", ".join(dict.fromkeys(n.name for n in input_nodes(node)))
    return names if len(names) <= _MAX_INPUTS else names[:_MAX_INPUTS - 3] + "..."


def node_row(node: Node, gm: Optional[GraphModule] = None) -> Dict[str, str]:
    """The cells of one node's table row, keyed by column name."""
    level = node.meta.get("level")
    return {
        "node": node.name,
        "op": short_target(node, gm),
        "inputs": _format_inputs(node),
        "level": level if level is not None else "-",
        "type": str(node.meta["type"]) if node.meta.get("type") is not None else "",
        "shape": format_shape(node),
        "dtype": format_dtype(node),
        "source": short_source(node.meta.get("source")),
    }


def has_shapes(gm: GraphModule) -> bool:
    """True when at least one node carries ``meta["tensor_meta"]``."""
    return any("tensor_meta" in node.meta for node in gm.graph.nodes)


def format_table(rows: Sequence[Dict[str, str]], columns: Sequence[str] = COLUMNS) -> str:
    """Align ``rows`` in columns as wide as their widest cell; the last one is not padded."""
    widths = {c: max([len(c)] + [len(r[c]) for r in rows]) for c in columns}

    def line(cells: Dict[str, str]) -> str:
        parts = [cells[c].ljust(widths[c]) for c in columns[:-1]] + [cells[columns[-1]]]
        return "  ".join(parts).rstrip()

    header = line({c: c for c in columns})
    rule = "  ".join("-" * widths[c] for c in columns)
    return "\n".join([header, rule] + [line(r) for r in rows])


def graph_table(gm: GraphModule, columns: Optional[Sequence[str]] = None) -> str:
    """The table of ``gm``: one row per node, in graph order.

    Args:
        gm (GraphModule): the graph.
        columns (sequence of str, optional): the columns to show, a subset of
            :data:`COLUMNS`; shape and dtype are dropped when no node has a
            ``tensor_meta``. (default: ``None``)
    """
    if columns is None:
        columns = COLUMNS if has_shapes(gm) else tuple(
            c for c in COLUMNS if c not in SHAPE_COLUMNS)
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ValueError(f"graph_table: unknown column(s) {', '.join(unknown)}; available: "
                         f"{', '.join(COLUMNS)}")
    return format_table([node_row(n, gm) for n in gm.graph.nodes], tuple(columns))


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(gm: GraphModule, title: Optional[str] = None) -> str:
    """Graphviz DOT text of ``gm``: one box per node, coloured by level, edges = data flow.

    Each box reads ``name``, ``op``, and the shape when known.  Render it with
    ``dot -Tsvg graph.dot -o graph.svg``.

    Args:
        gm (GraphModule): the graph.
        title (str, optional): the graph's name and caption. (default: the class name)
    """
    title = title or type(gm).__name__
    legend = ("levels: node = blue, edge = orange, graph = green, "
              "level-free constant = grey")
    lines: List[str] = [
        f"digraph {_dot_quote(title)} {{",
        "  rankdir=TB;",
        f"  label={_dot_quote(title + chr(10) + legend)};",
        "  labelloc=t;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for node in gm.graph.nodes:
        op = short_target(node, gm)
        label = [node.name] if op == node.name else [node.name, op]
        shape = format_shape(node)
        if shape:
            label.append(shape)
        if node.meta.get("type") is not None:
            label.append(f"type {node.meta['type']}")
        colour = LEVEL_COLOURS.get(node.meta.get("level"), LEVEL_COLOURS[None])
        tooltip = node.meta.get("source") or ""
        lines.append(f"  {_dot_quote(node.name)} [label={_dot_quote(chr(10).join(label))}, "
                     f"fillcolor={_dot_quote(colour)}, tooltip={_dot_quote(tooltip)}];")
    for node in gm.graph.nodes:
        for src in dict.fromkeys(input_nodes(node)):
            lines.append(f"  {_dot_quote(src.name)} -> {_dot_quote(node.name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
