"""Kernel generation backends: each turns a fused node's :class:`gfx.ops.fused.FusedSpec`
into source text, builds it, and registers itself with
:func:`gfx.ops.fused.register_backend`.  Importing this package registers them."""
