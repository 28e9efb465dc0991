"""Small helpers: a context manager that does nothing, and the DDP rank-zero test."""
from __future__ import annotations

import os


class dummy_context:
    """A context manager that does nothing (a stand-in for ``torch.no_grad()`` and the
    like when no context is wanted)."""

    def __enter__(self):
        return None

    def __exit__(self, exc_type, exc_value, traceback):
        return False


def is_global_zero() -> bool:
    """Whether this process is rank zero of a multi-process (DDP) run, or the only process.

    Lightning starts the other ranks with ``LOCAL_RANK``/``NODE_RANK`` (or ``RANK``) in
    their environment; rank zero is the process that started them.
    """
    for name in ("RANK", "LOCAL_RANK", "NODE_RANK"):
        if os.environ.get(name, "0") not in ("", "0"):
            return False
    return True
