"""Built-in datasets: generated from a seed or embedded, never downloaded."""
from ._unpickle import RestrictedUnpickler, restricted_load, restricted_loads
from .base import InMemoryDataset
from .dataset import Dataset
from .karate import KarateClub
from .planetoid import Planetoid
from .synthetic import SyntheticGraphDataset, SyntheticNodeDataset
from .synthetic_hetero import SyntheticHeteroDataset
from .tu_dataset import TUDataset

__all__ = [
    "Dataset", "InMemoryDataset", "SyntheticNodeDataset", "SyntheticHeteroDataset",
    "SyntheticGraphDataset", "KarateClub", "Planetoid", "TUDataset",
    "RestrictedUnpickler", "restricted_load", "restricted_loads",
]
