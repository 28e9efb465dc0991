"""``gfx.nn.to_hetero_transformer``: :func:`to_hetero` at the reference API's module path.

The transformation is a pass over captured graphs and lives in :mod:`gfx.passes.to_hetero`.
"""
from gfx.passes.to_hetero import to_hetero

__all__ = ["to_hetero"]
