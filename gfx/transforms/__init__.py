"""Graph transforms with the reference API's names, arguments and ``repr``.

Each transform is a callable (:class:`BaseTransform`) that takes a
:class:`~gfx.data.Data` or :class:`~gfx.data.HeteroData` (or, by duck typing, a
reference graph: it only uses the container API) and returns the transformed graph;
datasets take them as ``transform`` / ``pre_transform``. ``gfx.data.transforms`` holds
the same objects.
"""
from .base_transform import BaseTransform
from .compose import Compose
from .features import Constant, LocalDegreeProfile, OneHotDegree, TargetIndegree, ToDevice
from .gcn_norm import GCNNorm
from .largest_connected_components import LargestConnectedComponents
from .normalize_features import NormalizeFeatures
from .positional_encoding import AddLaplacianEigenvectorPE, AddRandomWalkPE
from .random_link_split import RandomLinkSplit
from .random_node_split import RandomNodeSplit
from .remove_duplicated_edges import RemoveDuplicatedEdges
from .remove_isolated_nodes import RemoveIsolatedNodes
from .self_loops import AddRemainingSelfLoops, AddSelfLoops, RemoveSelfLoops
from .to_dense import ToDense
from .to_sparse_tensor import ToSparseTensor
from .to_undirected import ToUndirected
from .virtual_node import VirtualNode

__all__ = [
    "BaseTransform", "Compose", "NormalizeFeatures", "ToUndirected", "AddSelfLoops",
    "RemoveSelfLoops", "GCNNorm", "ToSparseTensor", "RandomNodeSplit", "RandomLinkSplit",
    "Constant", "OneHotDegree", "ToDevice", "AddLaplacianEigenvectorPE", "AddRandomWalkPE",
    "AddRemainingSelfLoops", "RemoveDuplicatedEdges", "RemoveIsolatedNodes", "ToDense",
    "TargetIndegree", "LocalDegreeProfile", "LargestConnectedComponents", "VirtualNode",
]
