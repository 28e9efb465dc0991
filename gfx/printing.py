"""A compact, stable text form of a gfx graph (used by golden IR tests and docs).

One line per node::

    %x_j : edge = gfx.gather(%lin, %getitem_1, -2)

Inputs are ``%name``; the level follows the colon; module calls show the module path
and class.  The format does not depend on the torch version's own graph printer.
"""
from __future__ import annotations

import torch
from torch.fx import GraphModule, Node
from torch.fx.node import _get_qualified_name


def op_label(node: Node, gm: GraphModule) -> str:
    if node.op == "call_function":
        target = node.target
        if isinstance(target, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)):
            return str(target).replace(".default", "")
        name = _get_qualified_name(target)
        return name.replace("torch.nn.functional.", "F.").replace("_operator.", "operator.")
    if node.op == "call_method":
        return f".{node.target}"
    if node.op == "call_module":
        return f"{node.target}<{type(gm.get_submodule(node.target)).__name__}>"
    if node.op == "get_attr":
        return f"get_attr {node.target}"
    return node.op


def _arg(value) -> str:
    if isinstance(value, Node):
        return f"%{value.name}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_arg(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_arg(v)}" for k, v in value.items()) + "}"
    if isinstance(value, torch.dtype):
        return str(value)
    return repr(value)


def format_ir(gm: GraphModule) -> str:
    """The graph of ``gm`` as text, one node per line, levels included."""
    lines = []
    for node in gm.graph.nodes:
        level = node.meta.get("level") or "-"
        if node.op == "placeholder":
            lines.append(f"%{node.name} : {level} = input")
            continue
        if node.op == "output":
            lines.append(f"return {_arg(node.args[0])}")
            continue
        args = [_arg(a) for a in node.args]
        args += [f"{k}={_arg(v)}" for k, v in node.kwargs.items()]
        call = f"{op_label(node, gm)}({', '.join(args)})" if node.op != "get_attr" else \
            op_label(node, gm)
        lines.append(f"%{node.name} : {level} = {call}")
    return "\n".join(lines) + "\n"
