"""Small heterogeneous graphs and explicit references for the to_hetero tests."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import torch

PAPER_AUTHOR = (["paper", "author"],
                [("paper", "cites", "paper"), ("paper", "written_by", "author"),
                 ("author", "writes", "paper")])


def hetero_inputs(metadata, num_nodes=None, features=None, num_edges=12, seed=0,
                  dtype=torch.float32):
    """``(x_dict, edge_index_dict)``: random features and edges for ``metadata``.

    ``num_nodes`` and ``features`` map node types to sizes (default 5 nodes and 4
    features per type).
    """
    node_types, edge_types = metadata
    g = torch.Generator().manual_seed(seed)
    num_nodes = {t: (num_nodes or {}).get(t, 5) for t in node_types}
    features = {t: (features or {}).get(t, 4) for t in node_types}
    x = {t: torch.randn(num_nodes[t], features[t], generator=g, dtype=dtype)
         for t in node_types}
    edge_index = {}
    for src, rel, dst in edge_types:
        edge_index[(src, rel, dst)] = torch.stack([
            torch.randint(0, num_nodes[src], (num_edges,), generator=g),
            torch.randint(0, num_nodes[dst], (num_edges,), generator=g)])
    return x, edge_index


def reached(metadata) -> Dict[str, List[Tuple[str, str, str]]]:
    """For each node type, the edge types that end at it, in metadata order."""
    node_types, edge_types = metadata
    return {t: [e for e in edge_types if e[2] == t] for t in node_types}


def combine(values: Sequence[torch.Tensor], aggr: str) -> torch.Tensor:
    """The reference grouping: an explicit loop over the values."""
    out = values[0].clone()
    for v in values[1:]:
        if aggr in ("sum", "mean"):
            out = out + v
        elif aggr == "max":
            out = torch.where(v > out, v, out)
        elif aggr == "min":
            out = torch.where(v < out, v, out)
        elif aggr == "mul":
            out = out * v
    return out / len(values) if aggr == "mean" else out


def key(type_name) -> str:
    """The readable submodule key of a type with plain names."""
    return type_name if isinstance(type_name, str) else "__".join(type_name)


def mean_adjacency(edge_index, num_src, num_dst, dtype=torch.float64):
    """``M[i, j]`` = (number of edges j -> i) / (in-degree of i): a mean over neighbours."""
    m = torch.zeros(num_dst, num_src, dtype=dtype)
    for j, i in edge_index.t().tolist():
        m[i, j] += 1.0
    deg = m.sum(1, keepdim=True)
    return torch.where(deg > 0, m / deg.clamp(min=1), m)
