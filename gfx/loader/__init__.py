"""Mini-batch loaders with the reference API's names and arguments.

:class:`DataLoader` batches whole graphs (it is :class:`gfx.data.DataLoader`);
:class:`NeighborLoader` and :class:`LinkNeighborLoader` sample neighbourhoods of seed
nodes / links (NOTE [neighbour sampling]); :class:`ClusterData` + :class:`ClusterLoader`
train on unions of graph clusters (NOTE [BFS partitioner]); the GraphSAINT samplers
yield random induced subgraphs (NOTE [GraphSAINT normalisation]); :class:`RandomNodeLoader`
yields the subgraphs induced by random blocks of nodes.
"""
from gfx.data.loader import DataLoader

from .cluster import ClusterData, ClusterLoader
from .dense_data_loader import DataListLoader, DenseDataLoader
from .imbalanced_sampler import ImbalancedSampler
from .graph_saint import (GraphSAINTEdgeSampler, GraphSAINTNodeSampler,
                          GraphSAINTRandomWalkSampler, GraphSAINTSampler)
from .link_neighbor_loader import LinkNeighborLoader, NegativeSampling
from .neighbor_loader import NeighborLoader, NeighborSampler
from .random_node_loader import RandomNodeLoader

__all__ = [
    "DataLoader", "NeighborLoader", "NeighborSampler", "LinkNeighborLoader",
    "NegativeSampling", "ClusterData", "ClusterLoader", "GraphSAINTSampler",
    "GraphSAINTNodeSampler", "GraphSAINTEdgeSampler", "GraphSAINTRandomWalkSampler",
    "RandomNodeLoader", "DenseDataLoader", "DataListLoader", "ImbalancedSampler",
]
