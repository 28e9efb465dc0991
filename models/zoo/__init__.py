"""Full models (GCN, GraphSAGE, GIN, GAT, ...) and model building blocks."""
from gfx.models._discover import export_all

__all__ = export_all(__name__, __path__, globals())
