"""Graph data for gfx: containers, batching, loading and built-in datasets.

Shaped like ``torch_geometric.data``: :class:`Data` and :class:`HeteroData` hold one
graph, :class:`Batch` merges many into one, :class:`DataLoader` yields such batches,
and :mod:`gfx.data.datasets` holds seeded synthetic sets, Zachary's karate club and
the Planetoid citation graphs.
"""
from .batch import Batch, DataBatch, HeteroDataBatch
from .data import Data
from .datasets import (Dataset, InMemoryDataset, KarateClub, Planetoid, RestrictedUnpickler,
                       SyntheticGraphDataset, SyntheticHeteroDataset, SyntheticNodeDataset,
                       TUDataset, restricted_load, restricted_loads)
from .hetero_data import HeteroData
from .loader import Collater, DataLoader
from .storage import EdgeStorage, NodeStorage, Storage
from . import transforms

__all__ = [
    "Data", "HeteroData", "Batch", "DataBatch", "HeteroDataBatch", "DataLoader", "Collater",
    "Storage", "NodeStorage", "EdgeStorage", "NormalizeFeatures",
    "Dataset", "InMemoryDataset", "SyntheticNodeDataset", "SyntheticHeteroDataset",
    "SyntheticGraphDataset", "KarateClub", "Planetoid", "TUDataset",
    "RestrictedUnpickler", "restricted_load", "restricted_loads",
]


def __getattr__(name: str):
    if name == "NormalizeFeatures":  # kept here for old imports; lives in gfx.transforms
        return transforms.NormalizeFeatures
    raise AttributeError(f"module 'gfx.data' has no attribute {name!r}")
