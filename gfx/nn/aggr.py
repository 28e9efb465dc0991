"""Re-exports :mod:`gfx.models.aggr` as ``gfx.nn.aggr``."""
from gfx.models.aggr import *  # noqa: F401,F403
from gfx.models.aggr import __all__  # noqa: F401
