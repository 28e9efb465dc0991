"""Re-exports :mod:`gfx.models.conv` as ``gfx.nn.conv``."""
from gfx.models.conv import *  # noqa: F401,F403
from gfx.models.conv import __all__  # noqa: F401
