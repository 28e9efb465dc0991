"""``gfx.nn.fx``: the :class:`Transformer` that rewrites captured models node by node.

The class lives in the compiler's frontend (:mod:`gfx.transformer`), where the passes
that subclass it (``to_hetero``, ``to_hetero_with_bases``) find it; this is the path the
reference API documents for it.
"""
from gfx.transformer import Transformer

__all__ = ["Transformer"]
