"""The gfx layer catalogue: convolutions, aggregations, dense layers and full models.

Installed as ``gfx.models``; the user-facing namespace is :mod:`gfx.nn`.
"""
