"""The user-facing layer namespace, shaped like the reference ``nn`` package.

Porting a model is an import change: ``import gfx.nn as gnn``.  Everything here is a
re-export of :mod:`gfx.models`.
"""
from gfx.message_passing import MessagePassing
from gfx.models.conv import *  # noqa: F401,F403
from gfx.models.conv import __all__ as _conv
from gfx.models.dense import *  # noqa: F401,F403
from gfx.models.dense import __all__ as _dense
from gfx.models.norm import *  # noqa: F401,F403
from gfx.models.norm import __all__ as _norm
from gfx.models.pool import *  # noqa: F401,F403
from gfx.models.pool import __all__ as _pool
from gfx.models.zoo import *  # noqa: F401,F403
from gfx.models.zoo import __all__ as _zoo

from gfx.passes.to_hetero import to_hetero
from gfx.passes.to_hetero_with_bases import to_hetero_with_bases

from . import aggr, conv, inits
from .aggr import Aggregation

__all__ = sorted({"MessagePassing", "Aggregation", "aggr", "conv", "inits", "to_hetero",
                  "to_hetero_with_bases",
                  *_conv, *_dense, *_norm, *_pool, *_zoo})
