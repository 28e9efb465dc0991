"""The vectorised random walks: every step follows an edge, dead ends hold the walker,
and second-order steps follow node2vec's p/q distribution."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.nn.models._random_walk import random_walk, sample_neighbors, to_csr
from tests.graphs import edge_lists


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=8, max_edges=20), length=st.integers(0, 6),
       pq=st.sampled_from([(1.0, 1.0), (0.5, 2.0), (4.0, 0.25)]), seed=st.integers(0, 999))
def test_walks_follow_edges(graph, length, pq, seed):
    edge_index, n, _ = graph
    torch.manual_seed(seed)
    rowptr, col = to_csr(edge_index, n)
    edges = set(map(tuple, edge_index.t().tolist()))
    out_deg = torch.bincount(edge_index[0], minlength=n)
    start = torch.arange(n).repeat(3)
    walks = random_walk(rowptr, col, start, length, *pq)
    assert walks.shape == (3 * n, length + 1)
    assert torch.equal(walks[:, 0], start)
    for walk in walks.tolist():
        for a, b in zip(walk[:-1], walk[1:]):
            assert (a, b) in edges or (out_deg[a] == 0 and a == b)


def test_csr_sorted():
    rowptr, col = to_csr(torch.tensor([[2, 0, 2, 0], [1, 3, 0, 1]]), 4)
    assert rowptr.tolist() == [0, 2, 2, 4, 4]
    assert col.tolist() == [1, 3, 0, 1]
    with pytest.raises(ValueError, match="edge_index"):
        to_csr(torch.tensor([[0], [5]]), 4)


def test_first_order_is_uniform():
    torch.manual_seed(0)
    rowptr, col = to_csr(torch.tensor([[0, 0, 0, 0], [1, 2, 3, 3]]), 4)
    picked = sample_neighbors(rowptr, col, torch.zeros(40000, dtype=torch.long))
    freq = torch.bincount(picked, minlength=4).double() / 40000
    torch.testing.assert_close(freq, torch.tensor([0.0, 0.25, 0.25, 0.5], dtype=torch.double),
                               atol=0.015, rtol=0)
    fill = sample_neighbors(rowptr, col, torch.tensor([1, 9]), fill=-1)
    assert fill.tolist() == [-1, -1]


@pytest.mark.parametrize("p,q", [(0.5, 4.0), (2.0, 0.5), (1.0, 3.0)])
def test_second_order_distribution(p, q):
    """From v=1, having come from t=0: back to 0 (weight 1/p), to 2 (a neighbour of 0,
    weight 1) or to 3 (not adjacent to 0, weight 1/q)."""
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 0, 1, 1, 1], [1, 2, 0, 2, 3]])
    rowptr, col = to_csr(edge_index, 4)
    walks = random_walk(rowptr, col, torch.zeros(40000, dtype=torch.long), 2, p, q)
    second = walks[walks[:, 1] == 1, 2]
    freq = torch.bincount(second, minlength=4).double() / second.numel()
    w = torch.tensor([1 / p, 0.0, 1.0, 1 / q], dtype=torch.double)
    torch.testing.assert_close(freq, w / w.sum(), atol=0.02, rtol=0)


def test_bad_arguments():
    rowptr, col = to_csr(torch.tensor([[0], [1]]), 2)
    with pytest.raises(ValueError, match="walk_length"):
        random_walk(rowptr, col, torch.tensor([0]), -1)
    with pytest.raises(ValueError, match="'p'"):
        random_walk(rowptr, col, torch.tensor([0]), 2, p=0.0)
    with pytest.raises(ValueError, match="start"):
        random_walk(rowptr, col, torch.tensor([2]), 2)
