"""Kernel generation backends: each turns a fused node's :class:`gfx.ops.fused.FusedSpec`
into source text, builds it, and registers itself with
:func:`gfx.ops.fused.register_backend`.  Importing this package registers them."""

# Each backend is imported on its own: one that cannot load (a Python without ctypes,
# no triton) leaves the others and ``import gfx`` working.  A missing C compiler is not
# an import error: ``available()`` reports it.
try:
    from gfx.codegen import cpp  # noqa: F401
except ImportError:  # pragma: no cover - only on Pythons built without ctypes
    pass
try:
    from gfx.codegen import triton_backend  # noqa: F401
except ImportError:  # pragma: no cover - a broken triton install
    pass
try:
    from gfx.codegen import cpp_attention  # noqa: F401
except ImportError:  # pragma: no cover - as for cpp above
    pass
