"""The graph transforms, also reachable as ``gfx.data.transforms``: the same objects as
:mod:`gfx.transforms`, resolved on first use (``gfx.transforms`` imports ``gfx.data``,
so importing it eagerly here would be circular)."""
from typing import Any

__all__ = [
    "BaseTransform", "Compose", "NormalizeFeatures", "ToUndirected", "AddSelfLoops",
    "RemoveSelfLoops", "GCNNorm", "ToSparseTensor", "RandomNodeSplit", "RandomLinkSplit",
    "Constant", "OneHotDegree", "ToDevice", "AddLaplacianEigenvectorPE", "AddRandomWalkPE",
    "AddRemainingSelfLoops", "RemoveDuplicatedEdges", "RemoveIsolatedNodes", "ToDense",
    "TargetIndegree", "LocalDegreeProfile", "LargestConnectedComponents", "VirtualNode",
]


def __getattr__(name: str) -> Any:
    import gfx.transforms
    try:
        return getattr(gfx.transforms, name)
    except AttributeError:
        raise AttributeError(f"module 'gfx.data.transforms' has no attribute {name!r}; "
                             f"the transforms are {__all__}") from None


def __dir__():
    return sorted(__all__)
