"""gfx: a compiler for graph neural networks on PyTorch.

``import gfx.nn as gnn`` for the layer catalogue, :mod:`gfx.data` for graph containers
and datasets, :mod:`gfx.ops` for the primitives (``torch.ops.gfx.*``), and
:func:`gfx.capture`, :func:`gfx.lower`, :func:`gfx.compile`, :func:`gfx.inspect` for the
compiler.
"""
from gfx import ops  # registers torch.ops.gfx.*
from gfx.capture import CaptureError, capture
from gfx.compile import compile
from gfx.inspect import inspect
from gfx.lower import lower

__version__ = "0.1.0"

__all__ = ["CaptureError", "capture", "compile", "inspect", "lower", "ops", "__version__"]
