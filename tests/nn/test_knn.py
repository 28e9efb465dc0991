"""knn / knn_graph / radius / radius_graph against brute-force loops over point pairs."""
import importlib
import math
from unittest import mock

import pytest
import torch
from hypothesis import given, settings, strategies as st

import gfx.nn as gnn
from gfx.nn.pool.knn import knn, knn_graph, radius, radius_graph

knn_module = importlib.import_module("gfx.nn.pool.knn")


@st.composite
def point_sets(draw, max_points=12, dim=None):
    """(x, batch_x, y, batch_y): examples may be empty on either side; batches unsorted."""
    d = dim or draw(st.integers(1, 3))
    num_ex = draw(st.integers(1, 3))
    n = draw(st.integers(0, max_points))
    m = draw(st.integers(0, max_points))
    bx = draw(st.lists(st.integers(0, num_ex - 1), min_size=n, max_size=n))
    by = draw(st.lists(st.integers(0, num_ex - 1), min_size=m, max_size=m))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    # integer coordinates: exact distances and plenty of ties and duplicates
    x = torch.randint(-3, 4, (n, d), generator=g).double()
    y = torch.randint(-3, 4, (m, d), generator=g).double()
    return x, torch.tensor(bx, dtype=torch.long), y, torch.tensor(by, dtype=torch.long)


def dist(a, b, cosine=False):
    if cosine:
        na, nb = math.sqrt(sum(v * v for v in a)), math.sqrt(sum(v * v for v in b))
        if na == 0 or nb == 0:
            return 1.0
        return 1.0 - sum(p * q for p, q in zip(a, b)) / (na * nb)
    return math.sqrt(sum((p - q) ** 2 for p, q in zip(a, b)))


def brute_knn(x, bx, y, by, k, cosine=False, exclude_self=False):
    pairs = []
    for i, (q, b) in enumerate(zip(y.tolist(), by.tolist())):
        cands = [(dist(q, p, cosine), j) for j, (p, c) in enumerate(zip(x.tolist(), bx.tolist()))
                 if c == b and not (exclude_self and j == i)]
        cands.sort()
        pairs += [(i, j) for _, j in cands[:k]]
    return pairs


def brute_radius(x, bx, y, by, r, cap, exclude_self=False):
    pairs = []
    for i, (q, b) in enumerate(zip(y.tolist(), by.tolist())):
        cands = sorted((dist(q, p), j) for j, (p, c) in enumerate(zip(x.tolist(), bx.tolist()))
                       if c == b and dist(q, p) < r and not (exclude_self and j == i))
        pairs += sorted((i, j) for _, j in cands[:cap])
    return pairs


def as_pairs(t):
    assert t.dtype == torch.long and t.dim() == 2 and t.shape[0] == 2
    return [tuple(p) for p in t.t().tolist()]


def test_exported():
    assert gnn.knn is knn and gnn.pool.knn_graph is knn_graph
    assert gnn.radius is radius and gnn.pool.radius_graph is radius_graph


@settings(max_examples=10, deadline=None)
@given(point_sets(), st.integers(0, 5), st.booleans())
def test_knn_matches_brute_force(data, k, cosine):
    x, bx, y, by = data
    got = as_pairs(knn(x, y, k, bx, by, cosine=cosine))
    expected = brute_knn(x, bx, y, by, k, cosine)
    if not cosine:
        assert got == expected
        return
    # cosine distances of parallel points tie only up to rounding: compare the queries
    # and, per query, the chosen distances
    assert [i for i, _ in got] == [i for i, _ in expected]
    for (i, a), (_, b) in zip(got, expected):
        assert math.isclose(dist(y[i].tolist(), x[a].tolist(), True),
                            dist(y[i].tolist(), x[b].tolist(), True), abs_tol=1e-12)


@settings(max_examples=10, deadline=None)
@given(point_sets(), st.integers(0, 5), st.booleans(), st.booleans())
def test_knn_graph_matches_brute_force(data, k, loop, flip):
    x, bx, _, _ = data
    flow = "target_to_source" if flip else "source_to_target"
    got = knn_graph(x, k, bx, loop=loop, flow=flow)
    expected = brute_knn(x, bx, x, bx, k, exclude_self=not loop)
    pairs = as_pairs(got)
    if not flip:
        pairs = [(c, n) for n, c in pairs]
    assert pairs == expected


@settings(max_examples=10, deadline=None)
@given(point_sets(), st.sampled_from([0.0, 1.0, 1.5, 2.5, 10.0]), st.integers(0, 6))
def test_radius_matches_brute_force(data, r, cap):
    x, bx, y, by = data
    got = radius(x, y, r, bx, by, max_num_neighbors=cap)
    assert as_pairs(got) == brute_radius(x, bx, y, by, r, cap)


@settings(max_examples=10, deadline=None)
@given(point_sets(), st.sampled_from([1.0, 1.5, 3.0]), st.integers(0, 6), st.booleans(),
       st.booleans())
def test_radius_graph_matches_brute_force(data, r, cap, loop, flip):
    x, bx, _, _ = data
    flow = "target_to_source" if flip else "source_to_target"
    got = radius_graph(x, r, bx, loop=loop, max_num_neighbors=cap, flow=flow)
    pairs = as_pairs(got)
    if not flip:
        pairs = [(c, n) for n, c in pairs]
    assert pairs == brute_radius(x, bx, x, bx, r, cap, exclude_self=not loop)


def test_blocks_bound_memory_and_keep_results(monkeypatch):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(50, 3, generator=g), torch.randn(37, 3, generator=g)
    full = knn(x, y, 4)
    seen = []
    real = knn_module._distances

    def spy(a, b, cosine):
        seen.append(a.shape[0] * b.shape[0])
        return real(a, b, cosine)

    monkeypatch.setattr(knn_module, "BLOCK_ELEMENTS", 200)
    monkeypatch.setattr(knn_module, "_distances", spy)
    assert torch.equal(knn(x, y, 4), full)
    assert max(seen) <= 200 and len(seen) > 1
    assert torch.equal(radius(x, y, 1.0), radius(x, y, 1.0)) and max(seen) <= 200


def test_documented_example():
    x = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    y = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
    assign = knn(x, y, 2, torch.zeros(4, dtype=torch.long), torch.zeros(2, dtype=torch.long))
    assert assign.tolist() == [[0, 0, 1, 1], [0, 1, 2, 3]]
    edge_index = knn_graph(x, k=2, loop=False)
    assert edge_index.shape == (2, 8)
    assert edge_index[1].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_empty_inputs():
    e = torch.empty(0, 3)
    assert knn(e, torch.randn(4, 3), 2).shape == (2, 0)
    assert radius(torch.randn(4, 3), e, 1.0).shape == (2, 0)
    assert knn_graph(e, 3).shape == (2, 0)


def test_bad_inputs():
    x = torch.randn(5, 3)
    with pytest.raises(ValueError, match="'k'"):
        knn(x, x, -1)
    with pytest.raises(ValueError, match="same number of features"):
        knn(x, torch.randn(2, 2), 1)
    with pytest.raises(ValueError, match="'batch_x'"):
        knn(x, x, 1, batch_x=torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="'flow'"):
        knn_graph(x, 2, flow="sideways")
    with pytest.raises(ValueError, match="'r'"):
        radius(x, x, -1.0)
    with pytest.raises(ValueError, match="'max_num_neighbors'"):
        radius_graph(x, 1.0, max_num_neighbors=-2)
    with pytest.raises(ValueError, match="'x'"):
        knn_graph(torch.randn(2, 3, 4), 2)


@settings(max_examples=10, deadline=None)
@given(point_sets(max_points=30), st.integers(1, 3), st.booleans())
def test_knn_selection_path_matches_brute_force(data, k, loop):
    """Long rows take the topk selection path (forced here): same pairs, same order
    (also for radius searches capped by max_num_neighbors)."""
    x, bx, y, by = data
    with mock.patch.object(knn_module, "SORT_FACTOR", 0):
        got = knn(x, y, k, bx, by)
        graph = knn_graph(x, k, bx, loop=loop)
        capped = radius(x, y, 2.5, bx, by, max_num_neighbors=k)
    assert as_pairs(capped) == brute_radius(x, bx, y, by, 2.5, k)
    assert as_pairs(got) == brute_knn(x, bx, y, by, k)
    assert [(c, n) for n, c in as_pairs(graph)] == brute_knn(x, bx, x, bx, k,
                                                             exclude_self=not loop)


def test_knn_nan_counts_as_far():
    x = torch.tensor([[0.0], [float("nan")], [1.0], [3.0]])
    for factor in (0, 8):
        with mock.patch.object(knn_module, "SORT_FACTOR", factor):
            assert knn(x, torch.tensor([[0.2]]), 3)[1].tolist() == [0, 2, 3]


def test_half_precision_and_grad_inputs():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(30, 3, generator=g)
    expected = knn_graph(x, 4)
    assert torch.equal(knn_graph(x.clone().requires_grad_(), 4), expected)
    half = x.half()
    assert torch.equal(knn_graph(half, 4), knn_graph(half.float(), 4))
