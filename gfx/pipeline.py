"""The pass pipeline: one flat list of named passes, with an optional verifier.

With ``GFX_CHECK=1`` (or ``check=True``), :func:`verify` runs after every pass, and a
failure names the pass and the passes that ran before it.  Each run can record the
printed graph before and after every pass (used by :func:`gfx.inspect`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from torch.fx import GraphModule

from gfx.levels import LEVELS
from gfx.passes import eliminate_common_subexpressions, eliminate_dead_code


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable[[GraphModule], GraphModule]


@dataclass
class PassRecord:
    name: str
    before: str
    after: str


@dataclass
class PipelineRun:
    records: List[PassRecord] = field(default_factory=list)


class VerificationError(RuntimeError):
    """A pass left the graph in an invalid state."""


def verify(gm: GraphModule) -> None:
    """Check the invariants every gfx graph keeps between passes.

    The fx graph lints (well formed, defined before use), and every node carries a
    ``meta["level"]`` that is a known level or ``None``: a pass that adds nodes must
    annotate them.
    """
    gm.graph.lint()
    for node in gm.graph.nodes:
        if "level" not in node.meta:
            raise VerificationError(f"node '{node.name}' ({node.op} {node.target}) has no "
                                    f"meta['level']")
        if node.meta["level"] not in LEVELS + (None,):
            raise VerificationError(f"node '{node.name}' has unknown level "
                                    f"{node.meta['level']!r}")


CLEANUP = [Pass("dce", eliminate_dead_code), Pass("cse", eliminate_common_subexpressions)]


def check_enabled() -> bool:
    return os.environ.get("GFX_CHECK", "") not in ("", "0")


def run_passes(gm: GraphModule, passes: List[Pass], check: Optional[bool] = None,
               record: Optional[PipelineRun] = None) -> GraphModule:
    """Run ``passes`` in order; verify after each when checking is on."""
    check = check_enabled() if check is None else check
    done: List[str] = []
    for p in passes:
        before = gm.code if record is not None else ""
        gm = p.run(gm)
        if record is not None:
            record.records.append(PassRecord(p.name, before, gm.code))
        if check:
            try:
                verify(gm)
            except Exception as exc:
                ran = ", ".join(done) or "none"
                raise VerificationError(f"graph invalid after pass '{p.name}' (passes before "
                                        f"it: {ran}): {exc}") from exc
        done.append(p.name)
    return gm
