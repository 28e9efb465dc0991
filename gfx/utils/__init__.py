"""Graph utilities: self-loops, degrees, sparse conversions, grouped softmax."""
from gfx.ops import segment_softmax
from gfx.ops._checks import is_tracing

from .degree import degree
from .loops import (add_remaining_self_loops, add_self_loops, contains_self_loops,
                    remove_self_loops)
from .sparse import is_torch_sparse_tensor, to_edge_index, to_torch_coo_tensor

def softmax(src, index=None, ptr=None, num_nodes=None, dim: int = 0):
    """Softmax of ``src`` within the groups given by ``index`` (or CSR ``ptr``).

    The reference API's argument order; see :func:`gfx.ops.segment_softmax`.
    """
    return segment_softmax(src, index=index, ptr=ptr, dim=dim, num_segments=num_nodes)


__all__ = [
    "add_remaining_self_loops", "add_self_loops", "contains_self_loops", "degree",
    "is_torch_sparse_tensor", "is_tracing", "remove_self_loops", "softmax", "to_edge_index",
    "to_torch_coo_tensor",
]
