"""Aggregation modules: reduce a set of elements per group (neighbourhoods, graphs).

Used by :class:`gfx.nn.MessagePassing` (``aggr=``) and for global readouts; resolved
from names with :func:`aggregation_resolver`.  New aggregations subclass
:class:`Aggregation` and register names with :func:`register_aggregation`.
"""
from .attention import AttentionalAggregation
from .base import AGGREGATIONS, Aggregation, register_aggregation
from .basic import (MaxAggregation, MeanAggregation, MinAggregation, MulAggregation,
                    StdAggregation, SumAggregation, VarAggregation)
from .deep_sets import DeepSetsAggregation
from .equilibrium import EquilibriumAggregation
from .gmt import GraphMultisetTransformer
from .gru import GRUAggregation
from .lcm import LCMAggregation
from .lstm import LSTMAggregation
from .mlp import MLPAggregation
from .multi import MultiAggregation
from .patch_transformer import PatchTransformerAggregation
from .powermean import PowerMeanAggregation
from .quantile import MedianAggregation, QuantileAggregation
from .resolver import aggregation_resolver
from .set2set import Set2Set
from .set_transformer import SetTransformerAggregation
from .scaler import DegreeScalerAggregation
from .softmax import SoftmaxAggregation
from .sort import SortAggregation
from .variance_preserving import VariancePreservingAggregation

__all__ = [
    "Aggregation",
    "MultiAggregation",
    "SumAggregation",
    "MeanAggregation",
    "MaxAggregation",
    "MinAggregation",
    "MulAggregation",
    "VarAggregation",
    "StdAggregation",
    "SoftmaxAggregation",
    "PowerMeanAggregation",
    "MedianAggregation",
    "QuantileAggregation",
    "LSTMAggregation",
    "GRUAggregation",
    "Set2Set",
    "DegreeScalerAggregation",
    "SortAggregation",
    "GraphMultisetTransformer",
    "SetTransformerAggregation",
    "AttentionalAggregation",
    "EquilibriumAggregation",
    "MLPAggregation",
    "DeepSetsAggregation",
    "VariancePreservingAggregation",
    "LCMAggregation",
    "PatchTransformerAggregation",
    "aggregation_resolver",
    "register_aggregation",
    "AGGREGATIONS",
]
