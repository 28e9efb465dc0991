"""Dense (non-graph) layers used throughout the catalogue."""
from .linear import Linear

__all__ = ["Linear"]
