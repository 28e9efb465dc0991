"""``gfx.nn.to_hetero_with_bases_transformer``: :func:`to_hetero_with_bases` at the
reference API's module path.

The transformation is a pass over captured graphs and lives in
:mod:`gfx.passes.to_hetero_with_bases`.
"""
from gfx.passes.to_hetero_with_bases import to_hetero_with_bases

__all__ = ["to_hetero_with_bases"]
