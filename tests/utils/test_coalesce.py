"""coalesce / sort_edge_index / to_undirected / is_undirected against dict-based references."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.utils import coalesce, is_undirected, one_hot, sort_edge_index, to_undirected
from tests.graphs import edge_lists


def _merged(pairs, values, reduce):
    groups = {}
    for p, v in zip(pairs, values):
        groups.setdefault(p, []).append(v)
    ops = {"sum": sum, "max": max, "min": min, "mean": lambda xs: sum(xs) / len(xs)}
    return {p: ops[reduce](vs) for p, vs in sorted(groups.items())}


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.sampled_from(["sum", "max", "min", "mean"]))
def test_coalesce_merges_duplicates(graph, reduce):
    edge_index, n, _ = graph
    attr = torch.randn(edge_index.size(1), dtype=torch.float64)
    out, out_attr = coalesce(edge_index, attr, n, reduce)
    expected = _merged([tuple(p) for p in edge_index.t().tolist()], attr.tolist(), reduce)
    assert [tuple(p) for p in out.t().tolist()] == list(expected)
    assert torch.allclose(out_attr, torch.tensor(list(expected.values()),
                                                 dtype=torch.float64).view(-1))
    assert torch.equal(coalesce(edge_index, num_nodes=n), out)
    by_col = coalesce(edge_index, None, n, sort_by_row=False)
    assert by_col[1] is None
    assert [tuple(p) for p in by_col[0].t().tolist()] == sorted(expected, key=lambda p: p[::-1])


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_sort_edge_index_is_stable(graph):
    edge_index, n, _ = graph
    ids = torch.arange(edge_index.size(1))
    out, (out_ids,) = sort_edge_index(edge_index, [ids], n)
    order = sorted(range(edge_index.size(1)), key=lambda e: (tuple(edge_index[:, e].tolist()), e))
    assert out_ids.tolist() == order and torch.equal(out, edge_index[:, order])


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_to_undirected_and_is_undirected(graph):
    edge_index, n, _ = graph
    # integer-valued weights: sums are exact whatever the order, so equality is meaningful
    attr = torch.randint(-5, 5, (edge_index.size(1),)).double()
    out, out_attr = to_undirected(edge_index, attr, n)
    pairs = [tuple(p) for p in edge_index.t().tolist()]
    both = pairs + [(v, u) for u, v in pairs]
    expected = _merged(both, attr.tolist() * 2, "sum")
    assert [tuple(p) for p in out.t().tolist()] == list(expected)
    assert torch.allclose(out_attr, torch.tensor(list(expected.values()),
                                                 dtype=torch.float64).view(-1))
    assert is_undirected(out, out_attr, n)
    symmetric = sorted(pairs) == sorted((v, u) for u, v in pairs)
    assert is_undirected(edge_index, num_nodes=n) == symmetric


def test_is_undirected_checks_attributes_and_errors():
    ei = torch.tensor([[0, 1], [1, 0]])
    assert is_undirected(ei, torch.tensor([1.0, 1.0]))
    assert not is_undirected(ei, torch.tensor([1.0, 2.0]))
    assert not is_undirected(torch.tensor([[0, 0, 1], [1, 1, 0]]))  # one (1, 0) for two (0, 1)
    assert to_undirected(torch.tensor([[0], [1]]), 3).tolist() == [[0, 1], [1, 0]]
    with pytest.raises(ValueError, match="reduce"):
        coalesce(ei, reduce="median")
    with pytest.raises(ValueError, match="edge_index"):
        to_undirected(torch.zeros(1, 3, dtype=torch.long))


def test_one_hot():
    out = one_hot(torch.tensor([2, 0, 2]))
    assert out.tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 1]] and out.dtype == torch.float
    assert one_hot(torch.tensor([1]), 4, torch.long).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(ValueError, match="index"):
        one_hot(torch.tensor([3]), 2)
    with pytest.raises(ValueError, match="index"):
        one_hot(torch.zeros(2, 2, dtype=torch.long))


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_isolated_nodes(graph):
    from gfx.utils import contains_isolated_nodes, remove_isolated_nodes
    edge_index, n, _ = graph
    linked = {u for u, v in edge_index.t().tolist() if u != v} | \
        {v for u, v in edge_index.t().tolist() if u != v}
    assert contains_isolated_nodes(edge_index, n) == (len(linked) < n)
    attr = torch.arange(edge_index.size(1))
    out, out_attr, mask = remove_isolated_nodes(edge_index, attr, n)
    kept = sorted(linked)
    assert mask.nonzero().view(-1).tolist() == kept
    pairs = list(enumerate(edge_index.t().tolist()))
    last_loop = {u: e for e, (u, v) in pairs if u == v and u in linked}
    expected = [(kept.index(u), kept.index(v), e) for e, (u, v) in pairs if u != v] + \
        [(kept.index(u), kept.index(u), last_loop[u]) for u in sorted(last_loop)]
    assert [(u, v, int(a)) for (u, v), a in zip(out.t().tolist(), out_attr)] == expected


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=4))
def test_unbatch(sizes):
    from gfx.utils import unbatch, unbatch_edge_index
    batch = torch.cat([torch.full((n,), g, dtype=torch.long) for g, n in enumerate(sizes)])
    x = torch.randn(batch.numel(), 2)
    parts = unbatch(x, batch, batch_size=len(sizes))
    assert [p.size(0) for p in parts] == sizes and torch.equal(torch.cat(parts), x)
    starts = [sum(sizes[:g]) for g in range(len(sizes))]
    local = [torch.tensor([[i, (i + 1) % n] for i in range(n)], dtype=torch.long).t()
             .reshape(2, -1) for n in sizes]
    edge_index = torch.cat([e + s for e, s in zip(local, starts)], dim=1)
    for got, want in zip(unbatch_edge_index(edge_index, batch, len(sizes)), local):
        assert torch.equal(got, want)
    with pytest.raises(ValueError, match="batch"):
        unbatch(torch.ones(3), torch.tensor([1, 0, 1]))


def test_cumsum_and_self_loop_helpers():
    from gfx.utils import cumsum, get_self_loop_attr, segregate_self_loops
    assert cumsum(torch.tensor([1, 2, 3])).tolist() == [0, 1, 3, 6]
    assert cumsum(torch.ones(2, 3), dim=1).tolist() == [[0, 1, 2, 3]] * 2
    ei = torch.tensor([[0, 1, 1, 2, 2], [1, 1, 0, 2, 2]])
    w = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    a, aw, loops, lw = segregate_self_loops(ei, w)
    assert a.tolist() == [[0, 1], [1, 0]] and aw.tolist() == [1.0, 3.0]
    assert loops.tolist() == [[1, 2, 2], [1, 2, 2]] and lw.tolist() == [2.0, 4.0, 5.0]
    assert get_self_loop_attr(ei, w, 4).tolist() == [0.0, 2.0, 5.0, 0.0]
    assert get_self_loop_attr(ei).tolist() == [0.0, 1.0, 1.0]


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.data())
def test_homophily_from_definitions(graph, data):
    from gfx.utils import homophily
    edge_index, n, _ = graph
    y = torch.tensor(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    pairs = edge_index.t().tolist()
    same = [int(y[u] == y[v]) for u, v in pairs]
    assert homophily(edge_index, y) == pytest.approx(sum(same) / max(len(same), 1))
    per_node = []
    for v in range(n):
        incoming = [s for (a, b), s in zip(pairs, same) if b == v]
        per_node.append(sum(incoming) / len(incoming) if incoming else 0.0)
    assert homophily(edge_index, y, method="node") == pytest.approx(sum(per_node) / n)
    with pytest.raises(ValueError, match="method"):
        homophily(edge_index, y, method="bogus")
