"""Dense (non-graph) layers and containers used throughout the catalogue."""
from gfx.nn._discover import export_all

__all__ = export_all(__name__, __path__, globals())
