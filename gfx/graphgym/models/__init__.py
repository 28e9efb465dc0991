"""GraphGym model components; importing this package registers them."""
from . import act, pooling  # noqa: F401  (registers activations and poolings)
from .encoder import AtomEncoder, BondEncoder, IntegerFeatureEncoder
from .general_conv import GeneralConvLayer, GeneralEdgeConvLayer
from .gnn import GNN, FeatureEncoder, GNNLayer, GNNPreMP, GNNStackStage
from .head import GNNEdgeHead, GNNGraphHead, GNNNodeHead
from .layer import (MLP, BatchNorm1dEdge, BatchNorm1dNode, GATConv, GCNConv, GeneralConv,
                    GeneralEdgeConv, GeneralLayer, GeneralMultiLayer, GeneralSampleEdgeConv,
                    GINConv, LayerConfig, Linear, MessagePassingLayer, SAGEConv, SplineConv,
                    new_layer_config)
from .pooling import global_add_pool, global_max_pool, global_mean_pool

__all__ = [
    "IntegerFeatureEncoder", "AtomEncoder", "BondEncoder", "GNNLayer", "GNNPreMP",
    "GNNStackStage", "FeatureEncoder", "GNN", "GNNNodeHead", "GNNEdgeHead", "GNNGraphHead",
    "GeneralLayer", "GeneralMultiLayer", "Linear", "BatchNorm1dNode", "BatchNorm1dEdge",
    "MLP", "GCNConv", "SAGEConv", "GATConv", "GINConv", "SplineConv", "GeneralConv", "GeneralEdgeConv",
    "GeneralSampleEdgeConv", "GeneralConvLayer", "GeneralEdgeConvLayer",
    "MessagePassingLayer", "LayerConfig", "new_layer_config",
    "global_add_pool", "global_mean_pool", "global_max_pool",
]
