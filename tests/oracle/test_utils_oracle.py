"""gfx.utils against torch_geometric.utils, called as a black box on the same inputs."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

pyg_utils = pytest.importorskip("torch_geometric.utils")

import gfx.utils as U  # noqa: E402
from tests.graphs import edge_lists  # noqa: E402


def _same(a, b):
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif a is None:
        assert b is None
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, (a, b)
        assert torch.allclose(a.double(), b.double(), atol=1e-6), (a, b)
    else:
        assert a == b


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=4), st.booleans(),
       st.one_of(st.none(), st.integers(0, 5)))
def test_to_dense_batch_and_adj(sizes, weighted, max_nodes):
    batch = torch.cat([torch.full((n,), g, dtype=torch.long) for g, n in enumerate(sizes)])
    x = torch.randn(batch.numel(), 3)
    _same(U.to_dense_batch(x, batch, 1.5, max_nodes, len(sizes)),
          pyg_utils.to_dense_batch(x, batch, 1.5, max_nodes, len(sizes)))
    starts = [sum(sizes[:g]) for g in range(len(sizes))]
    src, dst = [], []
    for g, n in enumerate(sizes):
        for k in range(n * 2):
            src.append(starts[g] + (k * 7) % n)
            dst.append(starts[g] + (k * 3 + 1) % n)
    ei = torch.tensor([src, dst], dtype=torch.long).view(2, -1)
    attr = torch.randn(ei.size(1)) if weighted else None
    _same(U.to_dense_adj(ei, batch, attr, max_nodes, len(sizes)),
          pyg_utils.to_dense_adj(ei, batch, attr, max_nodes, len(sizes)))
    adj = U.to_dense_adj(ei, batch, attr, batch_size=len(sizes))
    if adj.numel() == 0:  # the reference raises on an empty batched adjacency
        return
    _same(U.dense_to_sparse(adj), pyg_utils.dense_to_sparse(adj))
    mask = U.to_dense_batch(x, batch, batch_size=len(sizes))[1]
    _same(U.dense_to_sparse(adj, mask), pyg_utils.dense_to_sparse(adj, mask))


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.data(), st.booleans())
def test_subgraph(graph, data, relabel):
    ei, n, _ = graph
    chosen = torch.tensor(data.draw(st.lists(st.integers(0, n - 1), unique=True)),
                          dtype=torch.long)
    attr = torch.randn(ei.size(1), 2)
    for subset in (chosen, U.index_to_mask(chosen, n)):
        _same(U.subgraph(subset, ei, attr, relabel, n, return_edge_mask=True),
              pyg_utils.subgraph(subset, ei, attr, relabel, n, return_edge_mask=True))


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.data(), st.integers(0, 3), st.booleans(),
       st.sampled_from(["source_to_target", "target_to_source"]))
def test_k_hop_subgraph(graph, data, hops, directed, flow):
    ei, n, _ = graph
    seeds = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
    _same(U.k_hop_subgraph(seeds, hops, ei, True, n, flow, directed),
          pyg_utils.k_hop_subgraph(seeds, hops, ei, True, n, flow, directed))


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_negative_sampling_same_support(graph):
    """Random draws differ; both sides return non-edges without loops, same count cap."""
    ei, n, _ = graph
    ours = U.negative_sampling(ei, n)
    theirs = pyg_utils.negative_sampling(ei, n)
    edges = {tuple(p) for p in ei.t().tolist()}
    for neg in (ours, theirs):
        assert all(u != v and (u, v) not in edges for u, v in neg.t().tolist())
    assert ours.size(1) >= theirs.size(1)
