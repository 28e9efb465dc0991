"""Knowledge-graph embedding models (one module per component)."""
from gfx.nn._discover import export_all

__all__ = export_all(__name__, __path__, globals())
