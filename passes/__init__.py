"""Graph-to-graph passes. Each is a function ``GraphModule -> GraphModule`` whose
docstring states what holds afterwards."""
from .cleanup import eliminate_common_subexpressions, eliminate_dead_code

__all__ = ["eliminate_common_subexpressions", "eliminate_dead_code"]
