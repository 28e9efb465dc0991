"""Random graphs for tests: a hypothesis strategy and dense references."""
from __future__ import annotations

import torch
from hypothesis import strategies as st


@st.composite
def edge_lists(draw, max_nodes: int = 8, max_edges: int = 20, bipartite: bool = False):
    """``(edge_index, num_src, num_dst)``: may be empty, with isolated nodes, loops, duplicates."""
    num_src = draw(st.integers(1, max_nodes))
    num_dst = draw(st.integers(1, max_nodes)) if bipartite else num_src
    num_edges = draw(st.integers(0, max_edges))
    src = draw(st.lists(st.integers(0, num_src - 1), min_size=num_edges, max_size=num_edges))
    dst = draw(st.lists(st.integers(0, num_dst - 1), min_size=num_edges, max_size=num_edges))
    edge_index = torch.tensor([src, dst], dtype=torch.long).view(2, num_edges)
    return edge_index, num_src, num_dst


def dense_adjacency(edge_index, num_src, num_dst, weight=None, dtype=torch.float64):
    """``M[i, j]`` = summed weight of the edges ``j -> i`` (targets are rows)."""
    m = torch.zeros(num_dst, num_src, dtype=dtype)
    for e, (j, i) in enumerate(edge_index.t().tolist()):
        m[i, j] += 1.0 if weight is None else float(weight[e])
    return m


def neighbour_lists(edge_index, num_dst):
    """For each target, the list of (edge id, source) pairs, in edge order."""
    out = [[] for _ in range(num_dst)]
    for e, (j, i) in enumerate(edge_index.t().tolist()):
        out[i].append((e, j))
    return out
