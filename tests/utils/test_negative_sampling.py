"""Negative sampling: every pair returned is a distinct non-edge, counts as documented."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.utils import (batched_negative_sampling, negative_sampling,
                       structured_negative_sampling, structured_negative_sampling_feasible)
from tests.graphs import edge_lists


def _non_edges(edge_index, ns, nd, bipartite, undirected=False):
    edges = {tuple(p) for p in edge_index.t().tolist()}
    if undirected:
        edges |= {(v, u) for u, v in edges}
    return {(u, v) for u in range(ns) for v in range(nd)
            if (u, v) not in edges and (bipartite or u != v)}


@settings(max_examples=10, deadline=None)
@given(edge_lists(bipartite=True), st.booleans(), st.integers(0, 30), st.integers(0, 999))
def test_negatives_are_distinct_non_edges(graph, bipartite, wanted, seed):
    edge_index, ns, nd = graph
    if not bipartite:
        nd = ns
        edge_index = edge_index.clamp(max=ns - 1)
    torch.manual_seed(seed)
    size = (ns, nd) if bipartite else ns
    neg = negative_sampling(edge_index, size, wanted)
    pairs = [tuple(p) for p in neg.t().tolist()]
    allowed = _non_edges(edge_index, ns, nd, bipartite)
    assert len(set(pairs)) == len(pairs) == min(wanted, len(allowed))
    assert set(pairs) <= allowed


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.integers(0, 20))
def test_force_undirected(graph, wanted):
    edge_index, n, _ = graph
    neg = negative_sampling(edge_index, n, wanted, force_undirected=True)
    pairs = [tuple(p) for p in neg.t().tolist()]
    allowed = _non_edges(edge_index, n, n, False, undirected=True)
    assert set(pairs) <= allowed
    assert {(v, u) for u, v in pairs} == set(pairs)
    assert len(pairs) == 2 * min(wanted // 2, len(allowed) // 2)


def test_rejection_path_on_a_large_graph_and_seed():
    n = 5000
    edge_index = torch.randint(0, n, (2, 20000))
    torch.manual_seed(1)
    a = negative_sampling(edge_index, n, 3000)
    torch.manual_seed(1)
    b = negative_sampling(edge_index, n, 3000)
    assert torch.equal(a, b) and a.size(1) == 3000
    codes = a[0] * n + a[1]
    assert codes.unique().numel() == 3000 and bool((a[0] != a[1]).all())
    assert not bool(torch.isin(codes, edge_index[0] * n + edge_index[1]).any())


def test_default_count_and_errors():
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    assert negative_sampling(ei).size(1) == 3
    with pytest.raises(ValueError, match="method"):
        negative_sampling(ei, method="magic")
    with pytest.raises(ValueError, match="edge_index"):
        negative_sampling(torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="num_neg_samples"):
        negative_sampling(ei, num_neg_samples=-1)


def test_batched_negatives_stay_in_their_graph():
    batch = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    ei = torch.tensor([[0, 1, 3, 4, 5], [1, 2, 4, 5, 6]])
    torch.manual_seed(0)
    neg = batched_negative_sampling(ei, batch)
    edges = {tuple(p) for p in ei.t().tolist()}
    assert neg.size(1) == 5
    for u, v in neg.t().tolist():
        assert batch[u] == batch[v] and u != v and (u, v) not in edges
    neg = batched_negative_sampling(ei, (batch, batch), num_neg_samples=2)
    assert neg.size(1) == 4 and all(batch[u] == batch[v] for u, v in neg.t().tolist())


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6), st.booleans())
def test_structured_negatives(graph, loops_ok):
    edge_index, n, _ = graph
    n += 2  # two nodes without edges keep every source feasible
    i, j, k = structured_negative_sampling(edge_index, n, loops_ok)
    edges = {tuple(p) for p in edge_index.t().tolist()}
    assert torch.equal(i, edge_index[0]) and torch.equal(j, edge_index[1])
    for a, c in zip(i.tolist(), k.tolist()):
        assert (a, c) not in edges and 0 <= c < n and (loops_ok or a != c)


def test_structured_infeasible_raises():
    full = torch.tensor([[0, 0, 1, 1], [0, 1, 0, 1]])
    assert not structured_negative_sampling_feasible(full, 2)
    assert structured_negative_sampling_feasible(full, 3)
    with pytest.raises(ValueError, match="negative"):
        structured_negative_sampling(full, 2)
