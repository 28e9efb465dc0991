"""The user-facing layer namespace, shaped like the reference ``nn`` package.

Porting a model is an import change: ``import gfx.nn as gnn``.
"""
from gfx.message_passing import MessagePassing
from gfx.models.conv import GCNConv, SAGEConv
from gfx.models.dense import Linear

from . import aggr, conv, inits
from .aggr import Aggregation

__all__ = ["MessagePassing", "Aggregation", "Linear", "GCNConv", "SAGEConv",
           "aggr", "conv", "inits"]
