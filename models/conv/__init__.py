"""Graph convolutions built on :class:`gfx.nn.MessagePassing`."""
from gfx.message_passing import MessagePassing

from .gcn_conv import GCNConv, gcn_norm
from .sage_conv import SAGEConv

__all__ = ["MessagePassing", "GCNConv", "SAGEConv", "gcn_norm"]
