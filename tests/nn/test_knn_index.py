"""KNNIndex family against brute force; approximate recall measured; approx_knn exact.

Runs with either backend (NOTE [knn index backends]): faiss when installed, else the
exact torch search.  The recall test for the faiss path skips without faiss."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import (ApproxL2KNNIndex, ApproxMIPSKNNIndex, KNNIndex, L2KNNIndex,
                    MIPSKNNIndex, approx_knn, approx_knn_graph, knn, knn_graph)
from gfx.nn.pool import knn_index as knn_index_module
from gfx.nn.pool.knn_index import exact_search

HAS_FAISS = knn_index_module._faiss() is not None


def brute(base, query, k, metric):
    """Per query, the (score, row) list sorted best first, written out in Python."""
    out = []
    for q in query:
        if metric == "l2":
            scored = [(float(((q - e) ** 2).sum()), j) for j, e in enumerate(base)]
            scored.sort()
        else:
            scored = [(float((q * e).sum()), j) for j, e in enumerate(base)]
            scored.sort(key=lambda t: (-t[0], t[1]))
        out.append(scored)
    return out


@st.composite
def sets(draw):
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    n, m = draw(st.integers(1, 12)), draw(st.integers(0, 6))
    return torch.randn(n, 3, generator=g), torch.randn(m, 3, generator=g)


@settings(max_examples=10, deadline=None)
@given(sets(), st.integers(1, 5), st.sampled_from(["l2", "ip"]), st.booleans())
def test_exact_index_matches_brute_force(data, k, metric, two_adds):
    base, query = data
    cls = L2KNNIndex if metric == "l2" else MIPSKNNIndex
    if two_adds:
        index = cls()
        index.add(base[:1])
        index.add(base[1:])
    else:
        index = cls(base)
    assert index.numel == base.shape[0]
    torch.testing.assert_close(index.get_emb(), base)
    score, idx = index.search(query, k)
    kk = min(k, base.shape[0])
    assert score.shape == idx.shape == (query.shape[0], kk)
    for i, row in enumerate(brute(base, query, k, metric)):
        torch.testing.assert_close(score[i], torch.tensor([s for s, _ in row[:kk]]),
                                   atol=1e-4, rtol=1e-4)
        assert idx[i].tolist() == [j for _, j in row[:kk]]  # random floats: no ties


@settings(max_examples=10, deadline=None)
@given(sets(), st.integers(1, 4), st.sampled_from(["l2", "ip"]), st.data())
def test_exclude_links(data, k, metric, draw):
    base, query = data
    if query.shape[0] == 0:
        return
    n, m = base.shape[0], query.shape[0]
    pairs = draw.draw(st.lists(st.tuples(st.integers(0, m - 1), st.integers(0, n - 1)),
                               max_size=8))
    links = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
    index = (L2KNNIndex if metric == "l2" else MIPSKNNIndex)(base)
    score, idx = index.search(query, k, exclude_links=links)
    kk = k  # with exclusions the output is k wide, padded with -1
    banned = set(pairs)
    for i, row in enumerate(brute(base, query, k, metric)):
        allowed = [(s, j) for s, j in row if (i, j) not in banned][:kk]
        want = [j for _, j in allowed] + [-1] * (kk - len(allowed))
        got = idx[i].tolist()
        assert got == want  # random floats: no ties
        assert all(score[i, t] == float("-inf") for t, j in enumerate(got) if j < 0)


def test_errors_name_the_argument():
    with pytest.raises(RuntimeError, match="not yet initialized"):
        L2KNNIndex().search(torch.randn(2, 3), 1)
    index = L2KNNIndex(torch.randn(5, 3))
    with pytest.raises(ValueError, match="'emb'"):
        index.search(torch.randn(2, 4), 1)
    with pytest.raises(ValueError, match="'emb'"):
        index.add(torch.randn(5))
    with pytest.raises(ValueError, match="'k'"):
        index.search(torch.randn(2, 3), 0)
    with pytest.raises(ValueError, match="'exclude_links'"):
        index.search(torch.randn(2, 3), 1, exclude_links=torch.zeros(3, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="'num_cells'"):
        ApproxL2KNNIndex(0, 1, 4)


@pytest.mark.skipif(HAS_FAISS, reason="checks the message shown without faiss")
def test_factory_string_without_faiss_says_how_to_install():
    with pytest.raises(ImportError, match="pip install faiss-cpu"):
        KNNIndex("IVF16,Flat")
    assert KNNIndex("Flat", torch.randn(4, 2)).search(torch.randn(1, 2), 2).index.shape == \
        (1, 2)


def _recall(got, truth):
    return sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(got, truth)) / \
        truth.numel()


def _recall_set():
    g = torch.Generator().manual_seed(0)
    return torch.randn(20000, 32, generator=g), torch.randn(200, 32, generator=g)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_FAISS, reason="faiss not installed (pip install faiss-cpu)")
@pytest.mark.parametrize("cls,metric,stated", [(ApproxL2KNNIndex, "l2", 0.43),
                                               (ApproxMIPSKNNIndex, "ip", 0.41)])
def test_approx_recall_as_documented_with_faiss(cls, metric, stated):
    base, query = _recall_set()
    truth = exact_search(base, query, 10, metric)[1]
    got = cls(64, 8, 8, emb=base).search(query, 10).index
    assert abs(_recall(got, truth) - stated) < 0.03


@pytest.mark.skipif(HAS_FAISS, reason="checks the exact fallback used without faiss")
@pytest.mark.parametrize("cls,metric", [(ApproxL2KNNIndex, "l2"),
                                        (ApproxMIPSKNNIndex, "ip")])
def test_approx_fallback_recall_is_one(cls, metric):
    g = torch.Generator().manual_seed(0)
    base, query = torch.randn(2000, 16, generator=g), torch.randn(50, 16, generator=g)
    truth = exact_search(base, query, 10, metric)[1]
    assert _recall(cls(16, 4, 4, emb=base).search(query, 10).index, truth) == 1.0


@settings(max_examples=10, deadline=None)
@given(sets(), st.integers(1, 4), st.booleans())
def test_approx_knn_equals_exact(data, k, loop):
    x, y = data
    bx = torch.arange(x.shape[0]) % 2
    by = torch.arange(y.shape[0]) % 2
    assert torch.equal(approx_knn(x, y, k, bx, by), knn(x, y, k, bx, by))
    for flow in ("source_to_target", "target_to_source"):
        assert torch.equal(approx_knn_graph(x, k, bx, loop, flow),
                           knn_graph(x, k, bx, loop, flow))
