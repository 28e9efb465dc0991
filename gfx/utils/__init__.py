"""Graph utilities: self-loops, degrees, sparse conversions, grouped softmax."""
from gfx.ops import segment_softmax as softmax

from .degree import degree
from .loops import (add_remaining_self_loops, add_self_loops, contains_self_loops,
                    remove_self_loops)
from .sparse import is_torch_sparse_tensor, to_edge_index, to_torch_coo_tensor

__all__ = [
    "add_remaining_self_loops", "add_self_loops", "contains_self_loops", "degree",
    "is_torch_sparse_tensor", "remove_self_loops", "softmax", "to_edge_index",
    "to_torch_coo_tensor",
]
