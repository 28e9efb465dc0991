"""The gfx primitives, registered with ``torch.library`` as ``torch.ops.gfx.*``.

A closed set: :func:`gather`, :func:`scatter`, :func:`segment`, :func:`segment_softmax`.
Each module holds one primitive's schema, reference kernel, fake kernel, autograd rule
and validation.  The functions exported here are the validated entry points; the raw
ops (``torch.ops.gfx.scatter`` ...) skip the structural checks and are what captured
graphs contain.
"""
from .gather import gather
from .scatter import REDUCTIONS, scatter
from .segment import segment
from .segment_softmax import segment_softmax

__all__ = ["gather", "scatter", "segment", "segment_softmax", "REDUCTIONS"]

from . import fused, fused_attention, fused_typed  # noqa: E402,F401  registers the fused primitives
