"""Aggregation modules: reduce a set of elements per group (neighbourhoods, graphs).

Used by :class:`gfx.nn.MessagePassing` (``aggr=``) and for global readouts; resolved
from names with :func:`aggregation_resolver`.  New aggregations subclass
:class:`Aggregation` and register names with :func:`register_aggregation`.
"""
from .base import AGGREGATIONS, Aggregation, register_aggregation
from .basic import (MaxAggregation, MeanAggregation, MinAggregation, MulAggregation,
                    StdAggregation, SumAggregation, VarAggregation)
from .multi import MultiAggregation
from .powermean import PowerMeanAggregation
from .resolver import aggregation_resolver
from .softmax import SoftmaxAggregation

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
    "aggregation_resolver",
    "register_aggregation",
    "AGGREGATIONS",
]
