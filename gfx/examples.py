"""Small example models with inputs, for ``python -m gfx inspect gfx.examples:<name>``.

Each function returns ``(model, example_inputs)``, the contract of the ``inspect``
command: ``python -m gfx inspect gfx.examples:gcn``.
"""
from __future__ import annotations

from typing import Tuple

import torch

from gfx.demo import TwoLayerGCN


def random_graph(num_nodes: int, num_edges: int, num_features: int,
                 seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Node features ``[num_nodes, num_features]`` and a random ``[2, num_edges]`` edge list.

    Args:
        num_nodes (int): the number of nodes.
        num_edges (int): the number of (directed) edges, drawn uniformly.
        num_features (int): features per node.
        seed (int, optional): the random seed. (default: ``0``)
    """
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(num_nodes, num_features, generator=generator)
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=generator)
    return x, edge_index


def gcn() -> Tuple[torch.nn.Module, Tuple[torch.Tensor, torch.Tensor]]:
    """A 2-layer GCN (16 -> 32 -> 4 channels, eval mode) on a random 20-node, 60-edge graph."""
    torch.manual_seed(0)
    model = TwoLayerGCN(16, 32, 4).eval()
    return model, random_graph(20, 60, 16)


def sage() -> Tuple[torch.nn.Module, Tuple[torch.Tensor, torch.Tensor]]:
    """A 2-layer GraphSAGE (16 -> 32 -> 4 channels, mean aggregation, eval mode) on a
    random 20-node, 60-edge graph."""
    from gfx.nn import GraphSAGE
    torch.manual_seed(0)
    model = GraphSAGE(16, 32, num_layers=2, out_channels=4).eval()
    return model, random_graph(20, 60, 16)


def gat() -> Tuple[torch.nn.Module, Tuple[torch.Tensor, torch.Tensor]]:
    """A 2-layer GAT (16 -> 32 -> 4 channels, 4 heads, eval mode) on a random 20-node,
    60-edge graph."""
    from gfx.nn import GAT
    torch.manual_seed(0)
    model = GAT(16, 32, num_layers=2, out_channels=4, heads=4).eval()
    return model, random_graph(20, 60, 16)


FACTORIES = ("gcn", "sage", "gat")
"""The example factories, in the order ``python -m gfx inspect --list`` shows them."""
