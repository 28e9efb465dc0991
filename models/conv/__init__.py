"""Graph convolutions built on :class:`gfx.nn.MessagePassing` (one module per layer)."""
from gfx.nn._discover import export_all

__all__ = export_all(__name__, __path__, globals())
