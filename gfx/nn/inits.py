"""Re-exports :mod:`gfx.models.inits` as ``gfx.nn.inits``."""
from gfx.models.inits import glorot, kaiming_uniform, ones, reset, uniform, zeros  # noqa: F401

__all__ = ["glorot", "kaiming_uniform", "ones", "reset", "uniform", "zeros"]
