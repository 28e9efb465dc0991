"""The KNNIndex family, fps, nearest, approx_knn and knn_interpolate against the
reference library.  Its KNNIndex needs faiss (``pip install faiss-cpu``), its fps,
nearest and knn_interpolate need pyg-lib >= 0.6 and its approx_knn needs pynndescent;
each test skips with that reason where the extra is not installed."""
import importlib.util

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

pyg = pytest.importorskip("torch_geometric.nn")

import gfx.nn as gnn  # noqa: E402


def _has(module):
    return importlib.util.find_spec(module) is not None


def _pyg_lib_ok():
    try:
        pyg.fps(torch.randn(4, 2), ratio=0.5, random_start=False)
    except ImportError:
        return False
    return True


needs_faiss = pytest.mark.skipif(not _has("faiss"), reason="reference KNNIndex needs faiss")
needs_pyg_lib = pytest.mark.skipif(not _pyg_lib_ok(),
                                   reason="reference fps/nearest/knn need pyg-lib>=0.6")


@st.composite
def sets(draw):
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    n, m = draw(st.integers(1, 12)), draw(st.integers(1, 6))
    base, query = torch.randn(n, 4, generator=g), torch.randn(m, 4, generator=g)
    pairs = draw(st.lists(st.tuples(st.integers(0, m - 1), st.integers(0, n - 1)),
                          max_size=6))
    return base, query, torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()


@needs_faiss
@settings(max_examples=10, deadline=None)
@given(sets(), st.integers(1, 5), st.sampled_from(["L2KNNIndex", "MIPSKNNIndex"]),
       st.booleans())
def test_exact_indices(data, k, name, exclude):
    base, query, links = data
    ours, theirs = getattr(gnn, name)(base), getattr(pyg, name)(base)
    assert ours.numel == theirs.numel
    a = ours.search(query, k, links if exclude else None)
    b = theirs.search(query, k, links if exclude else None)
    torch.testing.assert_close(a.score, b.score)
    assert torch.equal(a.index, b.index)
    torch.testing.assert_close(ours.get_emb(), theirs.get_emb())


@needs_faiss
@pytest.mark.slow
@pytest.mark.parametrize("name", ["ApproxL2KNNIndex", "ApproxMIPSKNNIndex"])
def test_approx_indices(name):
    g = torch.Generator().manual_seed(0)
    base, query = torch.randn(3000, 16, generator=g), torch.randn(40, 16, generator=g)
    a = getattr(gnn, name)(16, 4, 4, emb=base).search(query, 5)
    b = getattr(pyg, name)(16, 4, 4, emb=base).search(query, 5)
    assert torch.equal(a.index, b.index)
    torch.testing.assert_close(a.score, b.score)


@st.composite
def batched_points(draw, dims=3):
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    n, m = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    x, y = torch.randn(n, dims, generator=g), torch.randn(m, dims, generator=g)
    bx = torch.sort(torch.randint(0, 2, (n,), generator=g))[0]
    by = torch.sort(torch.randint(0, 2, (m,), generator=g))[0]
    return x, y, bx, by


@needs_pyg_lib
@settings(max_examples=10, deadline=None)
@given(batched_points(), st.sampled_from([0.25, 0.5, 1.0]))
def test_fps(points, ratio):
    x, _, bx, _ = points
    assert torch.equal(gnn.fps(x, bx, ratio, random_start=False),
                       pyg.fps(x, bx, ratio, random_start=False))


@needs_pyg_lib
@settings(max_examples=10, deadline=None)
@given(batched_points())
def test_nearest(points):
    x, y, bx, by = points
    by = torch.cat([by, torch.tensor([0, 1])])
    y = torch.cat([y, torch.randn(2, 3)])
    order = torch.sort(by, stable=True)[1]
    y, by = y[order], by[order]
    assert torch.equal(gnn.nearest(x, y, bx, by), pyg.nearest(x, y, bx, by))


@needs_pyg_lib
@settings(max_examples=10, deadline=None)
@given(batched_points(), st.integers(1, 4))
def test_knn_interpolate(points, k):
    pos_x, pos_y, bx, by = points
    feats = torch.randn(pos_x.shape[0], 5)
    torch.testing.assert_close(gnn.knn_interpolate(feats, pos_x, pos_y, bx, by, k=k),
                               pyg.knn_interpolate(feats, pos_x, pos_y, bx, by, k=k))


@pytest.mark.skipif(not _has("pynndescent"), reason="reference approx_knn needs pynndescent")
def test_approx_knn_graph_high_overlap():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 8, generator=g)
    ours = set(map(tuple, gnn.approx_knn_graph(x, 5).t().tolist()))
    theirs = set(map(tuple, pyg.approx_knn_graph(x, 5).t().tolist()))
    assert len(ours & theirs) / len(ours) > 0.9  # ours is exact; theirs approximate
