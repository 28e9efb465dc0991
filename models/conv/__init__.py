"""Graph convolutions built on :class:`gfx.nn.MessagePassing` (one module per layer)."""
from gfx.message_passing import MessagePassing
from gfx.models._discover import export_all

__all__ = ["MessagePassing"] + export_all(__name__, __path__, globals())
