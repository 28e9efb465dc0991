"""Capture a model so that ``self.training`` stays live after a graph transformation.

# NOTE [training flag]
Tracing runs ``forward`` once, so ``F.dropout(x, training=self.training)`` is recorded
with the constant the flag had at trace time, and ``train()``/``eval()`` on the
transformed model would change nothing.  :func:`capture_following_training_mode`
captures the model twice, in training and in evaluation mode.  Where the two graphs
differ only by a boolean argument (``True`` in one, ``False`` in the other), that
argument was read from the flag: it is replaced by a :class:`TrainingFlag` call (or its
negation), which returns the module's ``training`` attribute when the graph runs.
``train()``/``eval()`` on the transformed module reach the flag like any submodule.

Anything else that depends on the mode (a Python ``if self.training:``) cannot be
followed: the graph of the model's current mode is kept and a warning names the first
place where the two graphs differ.  Modules that read ``self.training`` themselves
(``torch.nn.Dropout``, ``BatchNorm``) need none of this: they run as modules.
"""
from __future__ import annotations

import operator
import os
import sys
import warnings
from typing import Any, Dict, List, Optional

import torch
from torch.fx import GraphModule, Node

from gfx.capture import capture

FLAG_NAME = "_training_flag"
_PASSES_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first frame outside the passes.

    To be called by the function that calls ``warnings.warn``.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PASSES_DIR):
        frame, level = frame.f_back, level + 1
    return level


class TrainingFlag(torch.nn.Module):
    """Returns its own ``training`` attribute: the train/eval mode of the enclosing model."""

    def forward(self) -> bool:
        return self.training


class _Mismatch(Exception):
    pass


class _FlagSlot:
    """Stands for the ``index``-th mode-dependent argument until its node exists."""

    def __init__(self, index: int):
        self.index = index


def _merge(kept: Any, other: Any, kept_index: Dict[Node, int], other_index: Dict[Node, int],
           flags: List[bool]) -> Any:
    """``kept`` with every bool that differs in ``other`` replaced by a :class:`_FlagSlot`
    (its value in ``kept`` is appended to ``flags``); :class:`_Mismatch` on any other
    difference."""
    if isinstance(kept, Node):
        if not isinstance(other, Node) or kept_index[kept] != other_index[other]:
            raise _Mismatch
        return kept
    if isinstance(kept, bool) and isinstance(other, bool):
        if kept != other:
            flags.append(kept)
            return _FlagSlot(len(flags) - 1)
        return kept
    if isinstance(kept, (tuple, list)):
        if type(kept) is not type(other) or len(kept) != len(other):
            raise _Mismatch
        return type(kept)(_merge(a, b, kept_index, other_index, flags)
                          for a, b in zip(kept, other))
    if isinstance(kept, dict):
        if not isinstance(other, dict) or list(kept) != list(other):
            raise _Mismatch
        return {k: _merge(kept[k], other[k], kept_index, other_index, flags) for k in kept}
    if type(kept) is not type(other) or kept != other:
        raise _Mismatch
    return kept


def _place_flags(value: Any, flag_nodes: List[Node]) -> Any:
    if isinstance(value, _FlagSlot):
        return flag_nodes[value.index]
    if isinstance(value, (tuple, list)):
        return type(value)(_place_flags(v, flag_nodes) for v in value)
    if isinstance(value, dict):
        return {k: _place_flags(v, flag_nodes) for k, v in value.items()}
    return value


def _merge_graphs(kept: GraphModule, other: GraphModule):
    """For each node of ``kept``: its merged arguments and the flags found in them.

    Returns ``(merged, None)``, or ``(None, node)`` with the first node of ``kept`` where
    the graphs differ by more than a boolean argument.
    """
    kept_nodes, other_nodes = list(kept.graph.nodes), list(other.graph.nodes)
    kept_index = {n: i for i, n in enumerate(kept_nodes)}
    other_index = {n: i for i, n in enumerate(other_nodes)}
    merged = []
    for a, b in zip(kept_nodes, other_nodes):
        flags: List[bool] = []
        try:
            if a.op != b.op or a.target != b.target:
                raise _Mismatch
            args = _merge((a.args, a.kwargs), (b.args, b.kwargs), kept_index, other_index, flags)
        except _Mismatch:
            return None, a
        merged.append((a, args, flags))
    if len(kept_nodes) != len(other_nodes):
        return None, kept_nodes[min(len(kept_nodes), len(other_nodes)) - 1]
    return merged, None


def capture_following_training_mode(module: torch.nn.Module,
                                    input_map: Optional[Dict[str, str]],
                                    owner: str = "transform") -> GraphModule:
    """Capture ``module`` with mode-dependent arguments read at run time.

    Returns the graph of the module's current mode, in which every argument that was
    ``self.training`` (or its negation) is a :class:`TrainingFlag` call instead (see
    NOTE [training flag]).  ``owner`` names the caller in the warning.
    """
    was = module.training
    graphs = {}
    try:
        for mode in (was, not was):
            module.train(mode)
            graphs[mode] = capture(module, input_map)
    finally:
        module.train(was)
    kept = graphs[was]
    merged, difference = _merge_graphs(kept, graphs[not was])
    if difference is not None:
        where = difference.meta.get("source") or difference.name
        warnings.warn(f"{owner}: forward() depends on self.training other than through a "
                      f"call argument (at {where}); the transformed model keeps the "
                      f"{'training' if was else 'evaluation'} behaviour there whatever its "
                      f"mode. Pass training=self.training to a function (F.dropout) or use "
                      f"a module (torch.nn.Dropout) instead", UserWarning, stacklevel=user_stacklevel())
        return kept

    flag: Optional[Node] = None
    negated: Optional[Node] = None
    for node, args, flags in merged:
        if not flags:
            continue
        if flag is None:
            kept.add_submodule(FLAG_NAME, TrainingFlag().train(was))
            body = next(n for n in kept.graph.nodes if n.op != "placeholder")
            with kept.graph.inserting_before(body):
                flag = kept.graph.call_module(FLAG_NAME)
                negated = kept.graph.call_function(operator.not_, (flag,))
            flag.meta["level"] = negated.meta["level"] = None
        # In the kept graph a flag argument holds ``was``: the flag itself if equal.
        node.args, node.kwargs = _place_flags(args, [flag if value == was else negated
                                                     for value in flags])
    if negated is not None and not negated.users:
        kept.graph.erase_node(negated)
    kept.recompile()
    return kept
