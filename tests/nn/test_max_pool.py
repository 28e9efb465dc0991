"""max_pool / avg_pool and their _x and _neighbor_x forms against loops over clusters."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.data import Data
from gfx.nn import (avg_pool, avg_pool_neighbor_x, avg_pool_x, max_pool,
                    max_pool_neighbor_x, max_pool_x)
from gfx.nn.pool.pool import consecutive_cluster
from tests.graphs import edge_lists

REDUCE = {"max": lambda rows: torch.stack(rows).max(0).values,
          "mean": lambda rows: torch.stack(rows).mean(0)}


@st.composite
def clustered(draw):
    """A graph, a cluster vector with gaps in its ids, a batch vector, features."""
    edge_index, n, _ = draw(edge_lists(max_nodes=9, max_edges=16))
    ids = draw(st.lists(st.sampled_from([0, 2, 3, 7, 11]), min_size=n, max_size=n))
    cut = draw(st.integers(0, n))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    return dict(edge_index=edge_index, cluster=torch.tensor(ids),
                batch=(torch.arange(n) >= cut).long(),
                x=torch.randn(n, 3, generator=g, dtype=torch.float64),
                pos=torch.randn(n, 2, generator=g, dtype=torch.float64),
                edge_attr=torch.randn(edge_index.shape[1], 2, generator=g,
                                      dtype=torch.float64))


def expected(g, reduce):
    ids = sorted(set(g["cluster"].tolist()))
    members = [[i for i, c in enumerate(g["cluster"].tolist()) if c == cid] for cid in ids]
    x = torch.stack([REDUCE[reduce]([g["x"][i] for i in m]) for m in members])
    pos = torch.stack([REDUCE["mean"]([g["pos"][i] for i in m]) for m in members])
    batch = torch.tensor([int(g["batch"][max(m)]) for m in members])
    new = {cid: k for k, cid in enumerate(ids)}
    edges = {}
    for e, (s, t) in enumerate(g["edge_index"].t().tolist()):
        a, b = new[int(g["cluster"][s])], new[int(g["cluster"][t])]
        if a != b:
            edges[(a, b)] = edges.get((a, b), 0) + g["edge_attr"][e]
    keys = sorted(edges)
    ei = torch.tensor(keys, dtype=torch.long).view(-1, 2).t()
    ea = torch.stack([edges[k] for k in keys]) if keys else g["edge_attr"][:0]
    return x, batch, ei, ea, pos


@pytest.mark.parametrize("fn,reduce", [(max_pool, "max"), (avg_pool, "mean")])
@settings(max_examples=10, deadline=None)
@given(g=clustered())
def test_pool_graph(fn, reduce, g):
    data = Data(x=g["x"], edge_index=g["edge_index"], edge_attr=g["edge_attr"],
                pos=g["pos"], batch=g["batch"], y=torch.tensor([1]))
    out = fn(g["cluster"], data)
    x, batch, ei, ea, pos = expected(g, reduce)
    torch.testing.assert_close(out.x, x)
    torch.testing.assert_close(out.pos, pos)
    assert out.batch.tolist() == batch.tolist()
    assert out.edge_index.tolist() == ei.tolist()
    torch.testing.assert_close(out.edge_attr, ea)
    assert out.y is None
    marked = fn(g["cluster"], data, transform=lambda d: ("seen", d))
    assert marked[0] == "seen"


@pytest.mark.parametrize("fn,reduce", [(max_pool_x, "max"), (avg_pool_x, "mean")])
@settings(max_examples=10, deadline=None)
@given(g=clustered())
def test_pool_x(fn, reduce, g):
    x, batch, *_ = expected(g, reduce)
    out, out_batch = fn(g["cluster"], g["x"], g["batch"])
    torch.testing.assert_close(out, x)
    assert out_batch.tolist() == batch.tolist()
    # Dense form: the ids (offset by graph) index `batch_size * size` rows directly.
    size = 12
    ids = g["cluster"] + size * g["batch"]
    dense, none = fn(ids, g["x"], g["batch"], size=size)
    assert none is None
    num_graphs = int(g["batch"].max()) + 1
    assert dense.shape == (num_graphs * size, 3)
    for r in range(num_graphs * size):
        rows = [g["x"][i] for i in range(len(g["x"])) if ids[i] == r]
        want = REDUCE[reduce](rows) if rows else torch.zeros(3, dtype=torch.float64)
        torch.testing.assert_close(dense[r], want)


@pytest.mark.parametrize("fn,reduce", [(max_pool_neighbor_x, "max"),
                                       (avg_pool_neighbor_x, "mean")])
@pytest.mark.parametrize("flow", ["source_to_target", "target_to_source"])
@settings(max_examples=10, deadline=None)
@given(g=clustered())
def test_pool_neighbor_x(fn, reduce, flow, g):
    data = Data(x=g["x"].clone(), edge_index=g["edge_index"])
    out = fn(data, flow=flow)
    assert out is data
    src, dst = g["edge_index"].tolist()
    if flow == "target_to_source":
        src, dst = dst, src
    for i in range(len(g["x"])):
        rows = [g["x"][i]] + [g["x"][s] for s, t in zip(src, dst) if t == i]
        torch.testing.assert_close(out.x[i], REDUCE[reduce](rows))


def test_pool_graph_without_edges():
    data = Data(x=torch.tensor([[1.0], [5.0], [2.0]]))
    out = max_pool(torch.tensor([4, 4, 1]), data)
    assert out.x.view(-1).tolist() == [2.0, 5.0] and out.edge_index is None


def test_consecutive_cluster():
    cluster, perm = consecutive_cluster(torch.tensor([7, 2, 7, 9, 2]))
    assert cluster.tolist() == [1, 0, 1, 2, 0]
    assert perm.tolist() == [4, 2, 3]


def test_bad_input():
    x = torch.randn(4, 2)
    with pytest.raises(ValueError, match="'cluster'"):
        max_pool_x(torch.tensor([0, 1]), x, None)
    with pytest.raises(TypeError, match="'cluster'"):
        avg_pool_x(torch.tensor([0.0, 1, 1, 0]), x, None)
    with pytest.raises(ValueError, match="'size'"):
        max_pool_x(torch.tensor([0, 5, 1, 0]), x, torch.zeros(4, dtype=torch.long), size=3)
    with pytest.raises(ValueError, match="'x'"):
        max_pool_x(torch.tensor([0, 1]), torch.tensor(1.0), None)
    with pytest.raises(ValueError, match="flow"):
        max_pool_neighbor_x(Data(x=x, edge_index=torch.tensor([[0], [1]])), flow="up")
