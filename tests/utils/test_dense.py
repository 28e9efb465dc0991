"""to_dense_batch / to_dense_adj / dense_to_sparse against loops over nodes and edges."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.utils import dense_to_sparse, to_dense_adj, to_dense_batch
from tests.graphs import edge_lists


@st.composite
def batched_graphs(draw):
    """Several graphs stacked: ``(edge_index, batch, sizes)`` with global node ids."""
    sizes = draw(st.lists(st.integers(0, 5), min_size=1, max_size=4))
    edges, start = [], 0
    for n in sizes:
        if n:
            ei, _, _ = draw(edge_lists(max_nodes=n, max_edges=8))
            ei = ei.clamp(max=n - 1) + start
            edges.append(ei)
        start += n
    edge_index = torch.cat(edges, 1) if edges else torch.zeros(2, 0, dtype=torch.long)
    batch = torch.cat([torch.full((n,), g, dtype=torch.long) for g, n in enumerate(sizes)])
    return edge_index, batch, sizes


@settings(max_examples=10, deadline=None)
@given(batched_graphs(), st.one_of(st.none(), st.integers(0, 6)))
def test_to_dense_batch_loop(graphs, max_num_nodes):
    _, batch, sizes = graphs
    x = torch.randn(batch.numel(), 3)
    out, mask = to_dense_batch(x, batch, fill_value=-7.0, max_num_nodes=max_num_nodes,
                               batch_size=len(sizes))
    width = max(sizes) if max_num_nodes is None else max_num_nodes
    expected = torch.full((len(sizes), width, 3), -7.0)
    expected_mask = torch.zeros(len(sizes), width, dtype=torch.bool)
    start = 0
    for g, n in enumerate(sizes):
        for k in range(min(n, width)):
            expected[g, k] = x[start + k]
            expected_mask[g, k] = True
        start += n
    assert torch.equal(out, expected)
    assert torch.equal(mask, expected_mask)


def test_to_dense_batch_without_batch_and_errors():
    x = torch.randn(4, 2)
    out, mask = to_dense_batch(x)
    assert out.shape == (1, 4, 2) and torch.equal(out[0], x) and bool(mask.all())
    with pytest.raises(ValueError, match="batch"):
        to_dense_batch(x, torch.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="batch"):
        to_dense_batch(x, torch.tensor([0, 0]))


@settings(max_examples=10, deadline=None)
@given(batched_graphs(), st.one_of(st.none(), st.integers(0, 6)), st.booleans())
def test_to_dense_adj_loop(graphs, max_num_nodes, weighted):
    edge_index, batch, sizes = graphs
    weight = torch.randn(edge_index.size(1), 2) if weighted else None
    adj = to_dense_adj(edge_index, batch, weight, max_num_nodes, batch_size=len(sizes))
    width = max(sizes) if max_num_nodes is None else max_num_nodes
    expected = torch.zeros((len(sizes), width, width) + ((2,) if weighted else ()))
    starts = [sum(sizes[:g]) for g in range(len(sizes))]
    for e, (u, v) in enumerate(edge_index.t().tolist()):
        g = int(batch[u])
        i, j = u - starts[g], v - starts[g]
        if i < width and j < width:
            expected[g, i, j] += 1.0 if weight is None else weight[e]
    assert torch.allclose(adj, expected, atol=1e-6)


def test_to_dense_adj_single_graph_and_errors():
    ei = torch.tensor([[0, 2], [1, 2]])
    adj = to_dense_adj(ei)
    assert adj.shape == (1, 3, 3) and adj.sum() == 2 and adj[0, 0, 1] == 1 and adj[0, 2, 2] == 1
    assert to_dense_adj(torch.zeros(2, 0, dtype=torch.long)).shape == (1, 0, 0)
    with pytest.raises(ValueError, match="edge_index"):
        to_dense_adj(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="edge_attr"):
        to_dense_adj(ei, edge_attr=torch.ones(3))


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(1, 5), st.booleans())
def test_dense_to_sparse_roundtrip(b, n, use_mask):
    adj = torch.randn(b, n, n) * (torch.rand(b, n, n) < 0.4)
    mask = torch.rand(b, n) < 0.7 if use_mask else None
    edge_index, value = dense_to_sparse(adj, mask)
    expected, ids, next_id = [], {}, 0
    for g in range(b):
        for i in range(n):
            if mask is None or mask[g, i]:
                ids[(g, i)] = g * n + i if mask is None else next_id
                next_id += 1
    for g in range(b):
        for i in range(n):
            for j in range(n):
                if adj[g, i, j] != 0 and (g, i) in ids and (g, j) in ids:
                    expected.append((ids[(g, i)], ids[(g, j)], float(adj[g, i, j])))
    got = [(int(u), int(v), float(w)) for (u, v), w in zip(edge_index.t(), value)]
    assert got == expected


def test_dense_to_sparse_2d_and_errors():
    adj = torch.tensor([[0.0, 2.0], [3.0, 0.0]])
    edge_index, value = dense_to_sparse(adj)
    assert edge_index.tolist() == [[0, 1], [1, 0]] and value.tolist() == [2.0, 3.0]
    with pytest.raises(ValueError, match="adj"):
        dense_to_sparse(torch.zeros(2))
    with pytest.raises(ValueError, match="mask"):
        dense_to_sparse(torch.zeros(2, 2, 2), torch.ones(3, 2, dtype=torch.bool))
