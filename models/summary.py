"""``summary``: a table of a model's layers, their input and output shapes and parameters.

# NOTE [summary table]
One row per module, in ``named_modules`` order (depth first, registration order).  The
model is the row of depth 0; a child at depth :math:`d \\ge 1` is drawn as
``"│    " * (d - 1) + ("├─" if d == 1 else "└─") + "(name)Class"``.  Rows deeper than
``max_depth`` are left out, as are the submodules of a ``leaf_module`` instance and every
module whose attribute name starts with ``_`` (private helpers).  The shapes are those of
the tensors of the *first* call of each module (positional tensor arguments only, and the
tensors of a tuple or list output); ``--`` marks a module that was never called.
``#Param`` counts every parameter below a module (``--`` for none, ``-1`` while a lazy
parameter is uninitialised when ``summary`` is called).  The table is drawn in the ``psql`` style.
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple, Type, Union

import torch
from torch.nn.parameter import UninitializedParameter

from gfx.message_passing import MessagePassing

HEADERS = ("Layer", "Input Shape", "Output Shape", "#Param")


def summary(model: torch.nn.Module, *args, max_depth: int = 3,
            leaf_module: Optional[Union[Type[torch.nn.Module],
                                        Sequence[Type[torch.nn.Module]]]] = "MessagePassing",
            **kwargs) -> str:
    """Summarise a model: layer names, input and output shapes and parameter counts.

    Runs ``model(*args, **kwargs)`` once without gradients (see NOTE [summary table]).

    Example::

        >>> model = GCN(128, 64, num_layers=2, out_channels=32)
        >>> print(summary(model, x, edge_index))

    Args:
        model (torch.nn.Module): the model to summarise.
        *args: positional arguments of ``model``.
        max_depth (int, optional): deepest nesting level shown. (default: ``3``)
        leaf_module (type or list of types, optional): module classes whose submodules are
            not shown; ``None`` shows every submodule.
            (default: :class:`~gfx.nn.MessagePassing`)
        **kwargs: keyword arguments of ``model``.

    Returns:
        str: the table.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"summary: 'model' must be a torch.nn.Module, got "
                        f"{type(model).__name__}")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise ValueError(f"summary: 'max_depth' must be a non-negative int, got {max_depth!r}")
    leaves = _leaf_types(leaf_module)

    rows: List[Tuple[str, int, torch.nn.Module]] = []  # (label, depth, module)
    stack: List[Tuple[str, int, torch.nn.Module]] = [(type(model).__name__, 0, model)]
    while stack:
        label, depth, module = stack.pop()
        rows.append((label, depth, module))
        if depth >= max_depth or (leaves and isinstance(module, leaves)):
            continue
        children = [(name, child) for name, child in module.named_children()
                    if not name.startswith("_")]
        for name, child in reversed(children):
            stack.append((_label(name, child, depth + 1), depth + 1, child))

    counts = [_count(module) for _, _, module in rows]  # before lazy modules materialise
    seen: dict = {}
    hooks = []
    for _, _, module in rows:
        hooks.append(module.register_forward_pre_hook(_record_input(seen, id(module))))
        hooks.append(module.register_forward_hook(_record_output(seen, id(module))))
    try:
        with torch.no_grad():
            model(*args, **kwargs)
    finally:
        for hook in hooks:
            hook.remove()

    table = []
    for (label, _, module), count in zip(rows, counts):
        shapes = seen.get(id(module))
        inp, out = ("--", "--") if shapes is None else shapes
        table.append((label, inp, out, count))
    return render_psql(HEADERS, table)


def _leaf_types(leaf_module) -> Tuple[type, ...]:
    if leaf_module is None:
        return ()
    if leaf_module == "MessagePassing":
        return (MessagePassing,)
    items = list(leaf_module) if isinstance(leaf_module, (list, tuple)) else [leaf_module]
    for item in items:
        if not (isinstance(item, type) and issubclass(item, torch.nn.Module)):
            raise TypeError(f"summary: 'leaf_module' must be a torch.nn.Module subclass or a "
                            f"list of them, got {item!r}")
    return tuple(items)


def _label(name: str, module: torch.nn.Module, depth: int) -> str:
    branch = "├─" if depth == 1 else "│    " * (depth - 1) + "└─"
    return f"{branch}({name}){type(module).__name__}"


def _shapes(values: Any) -> str:
    if isinstance(values, torch.Tensor):
        return str(list(values.shape))
    if isinstance(values, (tuple, list)):
        return ", ".join(str(list(v.shape)) for v in values if isinstance(v, torch.Tensor))
    return ""


def _record_input(seen: dict, key: int):
    def hook(module, args):
        if key not in seen:
            seen[key] = [_shapes(tuple(args)), "--"]
    return hook


def _record_output(seen: dict, key: int):
    def hook(module, args, output):
        entry = seen.setdefault(key, [_shapes(tuple(args)), "--"])
        if entry[1] == "--":
            entry[1] = _shapes(output)
    return hook


def _count(module: torch.nn.Module) -> str:
    params = list(module.parameters())
    if any(isinstance(p, UninitializedParameter) for p in params):
        return "-1"
    total = sum(p.numel() for p in params)
    return f"{total:,}" if total > 0 else "--"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render_psql(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Draw a table with ``+---+`` borders; a column of numbers is right-aligned.

    Each column is as wide as its widest cell, and at least two characters wider than
    its header.
    """
    columns = list(zip(*rows)) if rows else [()] * len(headers)
    widths, numeric = [], []
    for header, cells in zip(headers, columns):
        widths.append(max([len(header) + 2, *(len(c) for c in cells)]))
        numeric.append(bool(cells) and all(_is_number(c) for c in cells))

    def line(cells) -> str:
        return "| " + " | ".join(c.rjust(w) if num else c.ljust(w)
                                 for c, w, num in zip(cells, widths, numeric)) + " |"

    rule = "+".join("-" * (w + 2) for w in widths)
    out = ["+" + rule + "+", line(headers), "|" + rule + "|"]
    out.extend(line(row) for row in rows)
    out.append("+" + rule + "+")
    return "\n".join(out)


__all__ = ["summary"]
