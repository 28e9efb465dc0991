"""graclus against a brute-force greedy matching; voxel_grid against a per-point loop."""
import importlib
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import graclus, voxel_grid
from tests.graphs import edge_lists

graclus_module = importlib.import_module("gfx.nn.pool.graclus")


def brute_graclus(edge_index, weight, n):
    """Visit nodes in ascending id; match with the unmatched neighbour (either edge
    direction, no self-loops) of largest edge weight, ties to the smaller id."""
    cands = {u: [] for u in range(n)}
    for e, (s, t) in enumerate(edge_index.t().tolist()):
        if s != t:
            w = 1.0 if weight is None else float(weight[e])
            cands[s].append((w, t))
            cands[t].append((w, s))
    cluster = [None] * n
    for u in range(n):
        if cluster[u] is not None:
            continue
        cluster[u] = u
        free = [(w, v) for w, v in cands[u] if cluster[v] is None]
        if free:
            best = max(w for w, _ in free)
            v = min(v for w, v in free if w == best)
            cluster[v] = u
    return cluster


@pytest.mark.parametrize("weighted", [False, True])
@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=10, max_edges=20), seed=st.integers(0, 2**16))
def test_graclus_matches_brute_force(weighted, graph, seed):
    edge_index, n, _ = graph
    g = torch.Generator().manual_seed(seed)
    weight = torch.randint(0, 3, (edge_index.shape[1],), generator=g).float() \
        if weighted else None
    out = graclus(edge_index, weight, num_nodes=n)
    assert out.tolist() == brute_graclus(edge_index, weight, n)
    # Properties of a maximal matching: clusters of 1 or 2 adjacent nodes, no two
    # adjacent singletons.
    pairs = {(s, t) for s, t in edge_index.t().tolist()}
    sizes = torch.bincount(out, minlength=n)
    for u in range(n):
        c = int(out[u])
        assert sizes[c] in (1, 2)
        if c != u:
            assert (u, c) in pairs or (c, u) in pairs
    for s, t in pairs:
        if s != t:
            assert not (sizes[out[s]] == 1 and sizes[out[t]] == 1)


def test_graclus_python_fallback_agrees(monkeypatch):
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 5, 5]])
    weight = torch.tensor([1.0, 3.0, 1.0, 2.0, 1.0, 5.0])
    compiled = graclus(edge_index, weight)
    monkeypatch.setattr(graclus_module, "_kernel", lambda: None)
    assert graclus(edge_index, weight).tolist() == compiled.tolist() == \
        brute_graclus(edge_index, weight, 6)


def test_graclus_bad_input():
    with pytest.raises(ValueError, match="edge_index"):
        graclus(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="weight"):
        graclus(torch.tensor([[0], [1]]), torch.ones(2))
    with pytest.raises(IndexError, match="edge_index"):
        graclus(torch.tensor([[0], [4]]), num_nodes=3)
    assert graclus(torch.zeros(2, 0, dtype=torch.long), num_nodes=2).tolist() == [0, 1]


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 12), dims=st.integers(1, 3), seed=st.integers(0, 2**16),
       size=st.sampled_from([0.3, 0.5, 1.0, [0.4, 0.7, 1.1]]), fixed=st.booleans())
def test_voxel_grid_brute_force(n, dims, seed, size, fixed):
    g = torch.Generator().manual_seed(seed)
    pos = torch.rand(n, dims, generator=g, dtype=torch.float64) * 2
    batch = torch.sort(torch.randint(0, 3, (n,), generator=g)).values
    sizes = size[:dims] if isinstance(size, list) else [size] * dims
    if isinstance(size, list) and dims == 1:
        size = size[:1]
    elif isinstance(size, list):
        size = size[:dims]
    start = [-0.5] * dims if fixed else pos.min(0).values.tolist()
    end = [2.5] * dims if fixed else pos.max(0).values.tolist()
    out = voxel_grid(pos, size, batch, start=start if fixed else None,
                     end=end if fixed else None)
    cells = [math.floor((e - s) / h) + 1 for s, e, h in zip(start, end, sizes)]
    for i in range(n):
        cid, stride = 0, 1
        for d in range(dims):
            cid += math.floor((float(pos[i, d]) - start[d]) / sizes[d]) * stride
            stride *= cells[d]
        assert int(out[i]) == cid + int(batch[i]) * stride
    # Same cell and same graph <=> same cluster.
    same = out.view(-1, 1) == out.view(1, -1)
    cell = torch.stack([torch.floor((pos[:, d] - start[d]) / sizes[d]) for d in
                        range(dims)], 1)
    expect = (cell.unsqueeze(0) == cell.unsqueeze(1)).all(-1) & \
        (batch.view(-1, 1) == batch.view(1, -1))
    assert torch.equal(same, expect)


def test_voxel_grid_bad_input():
    pos = torch.rand(4, 2)
    with pytest.raises(ValueError, match="'size'"):
        voxel_grid(pos, [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="'size'"):
        voxel_grid(pos, 0.0)
    with pytest.raises(ValueError, match="start, end"):
        voxel_grid(pos, 0.5, start=0.5, end=1.0)
    with pytest.raises(ValueError, match="'batch'"):
        voxel_grid(pos, 0.5, batch=torch.zeros(3, dtype=torch.long))
    with pytest.raises(TypeError, match="'pos'"):
        voxel_grid(torch.ones(3, 2, dtype=torch.long), 1.0)
