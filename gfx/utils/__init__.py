"""Graph utilities with the reference API's names and signatures.

Self-loops, degrees, sparse conversions, grouped softmax and scatter, negative sampling,
subgraphs, dense conversions, masks, undirected graphs, dropout, Laplacians and
conversions to scipy / networkx. One module per family.
"""
from gfx.ops import scatter, segment_softmax
from gfx.ops._checks import is_tracing

from .coalesce import coalesce, sort_edge_index
from .cumsum import cumsum
from .convert import (from_networkx, from_scipy_sparse_matrix, to_networkx,
                      to_scipy_sparse_matrix)
from .degree import degree
from .dropout import dropout_edge, dropout_node
from .isolated import contains_isolated_nodes, remove_isolated_nodes
from .homophily import homophily
from .laplacian import get_laplacian
from .loops import (add_remaining_self_loops, add_self_loops, contains_self_loops,
                    get_self_loop_attr, remove_self_loops, segregate_self_loops)
from .mask import index_to_mask, mask_to_index
from .negative_sampling import (batched_negative_sampling, negative_sampling,
                                structured_negative_sampling,
                                structured_negative_sampling_feasible)
from .num_nodes import maybe_num_nodes
from .one_hot import one_hot
from .sparse import (adj_t_to_edge_index, edge_index_to_adj_t, is_torch_sparse_tensor,
                     to_edge_index, to_torch_coo_tensor)
from .random_graphs import (barabasi_albert_graph, erdos_renyi_graph, mask_feature,
                            shuffle_node, stochastic_blockmodel_graph)
from .subgraph import bipartite_subgraph, k_hop_subgraph, subgraph
from .to_dense_adj import dense_to_sparse, to_dense_adj
from .to_dense_batch import to_dense_batch
from .train_test_split_edges import train_test_split_edges
from .unbatch import unbatch, unbatch_edge_index
from .undirected import is_undirected, to_undirected


def softmax(src, index=None, ptr=None, num_nodes=None, dim: int = 0):
    """Softmax of ``src`` within the groups given by ``index`` (or CSR ``ptr``).

    The reference API's argument order; see :func:`gfx.ops.segment_softmax`.
    """
    return segment_softmax(src, index=index, ptr=ptr, dim=dim, num_segments=num_nodes)


__all__ = [
    "add_remaining_self_loops", "add_self_loops", "barabasi_albert_graph",
    "batched_negative_sampling", "bipartite_subgraph", "coalesce",
    "contains_isolated_nodes", "contains_self_loops", "cumsum", "degree", "dense_to_sparse",
    "dropout_edge", "dropout_node", "erdos_renyi_graph", "from_networkx",
    "from_scipy_sparse_matrix", "get_laplacian", "get_self_loop_attr", "homophily",
    "index_to_mask", "is_torch_sparse_tensor", "is_tracing", "is_undirected",
    "k_hop_subgraph", "mask_feature", "mask_to_index", "maybe_num_nodes",
    "negative_sampling", "one_hot", "remove_isolated_nodes", "remove_self_loops", "scatter",
    "segregate_self_loops", "shuffle_node", "softmax", "sort_edge_index",
    "stochastic_blockmodel_graph", "structured_negative_sampling",
    "structured_negative_sampling_feasible", "subgraph", "to_dense_adj", "to_dense_batch",
    "adj_t_to_edge_index", "edge_index_to_adj_t", "to_edge_index", "to_networkx", "to_scipy_sparse_matrix", "to_torch_coo_tensor",
    "to_undirected", "train_test_split_edges", "unbatch", "unbatch_edge_index",
]
