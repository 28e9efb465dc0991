"""scipy / networkx conversions round-trip; train_test_split_edges partitions the edges."""
import networkx as nx
import pytest
import torch
from hypothesis import given, settings

from gfx.data import Data
from gfx.utils import (from_networkx, from_scipy_sparse_matrix, to_networkx,
                       to_scipy_sparse_matrix, to_undirected, train_test_split_edges)
from tests.graphs import dense_adjacency, edge_lists


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_scipy_roundtrip(graph):
    edge_index, n, _ = graph
    w = torch.rand(edge_index.size(1), dtype=torch.float64)
    A = to_scipy_sparse_matrix(edge_index, w, n)
    assert A.shape == (n, n)
    dense = torch.from_numpy(A.toarray())
    assert torch.allclose(dense, dense_adjacency(edge_index, n, n, w).t())
    back, back_w = from_scipy_sparse_matrix(A)
    assert torch.equal(back, edge_index) and torch.allclose(back_w, w)
    with pytest.raises(TypeError, match="'A'"):
        from_scipy_sparse_matrix(dense)


def test_networkx_roundtrip_with_attributes():
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    data = Data(x=torch.tensor([[1.0], [2.0], [3.0]]), edge_index=ei,
                edge_weight=torch.tensor([5.0, 5.0, 7.0, 7.0]))
    data.label = torch.tensor(3)
    G = to_networkx(data, node_attrs=["x"], edge_attrs=["edge_weight"], graph_attrs=["label"])
    assert isinstance(G, nx.DiGraph) and sorted(G.edges()) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    assert G.nodes[2]["x"] == [3.0] and G.edges[1, 2]["edge_weight"] == 7.0
    assert G.graph["label"] == 3
    U = to_networkx(data, to_undirected="upper")
    assert isinstance(U, nx.Graph) and sorted(U.edges()) == [(0, 1), (1, 2)]
    one_way = Data(edge_index=torch.tensor([[1], [0]]), num_nodes=2)
    assert list(to_networkx(one_way, to_undirected=True).edges()) == [(0, 1)]
    assert list(to_networkx(one_way, to_undirected="upper").edges()) == []
    back = from_networkx(G, group_node_attrs=["x"], group_edge_attrs=["edge_weight"])
    assert torch.equal(back.edge_index, ei) and torch.equal(back.x, data.x)
    assert torch.equal(back.edge_attr, data.edge_weight.view(-1, 1))
    assert int(back.label) == 3


def test_from_networkx_undirected_and_errors():
    G = nx.path_graph(4)
    data = from_networkx(G)
    assert data.num_nodes == 4
    assert torch.equal(to_undirected(data.edge_index), data.edge_index)
    assert data.edge_index.size(1) == 6
    G.nodes[0]["a"] = 1
    with pytest.raises(ValueError, match="same attributes"):
        from_networkx(G)
    with pytest.raises(TypeError, match="'G'"):
        from_networkx([(0, 1)])


def test_train_test_split_edges_partitions():
    torch.manual_seed(0)
    n = 30
    pairs = {(u, v) for u in range(n) for v in range(u + 1, n) if (u * 7 + v * 3) % 5 == 0}
    upper = torch.tensor(sorted(pairs)).t()
    data = Data(edge_index=to_undirected(upper, num_nodes=n), num_nodes=n)
    data = train_test_split_edges(data, 0.1, 0.2)
    assert "edge_index" not in data
    E = len(pairs)
    assert data.val_pos_edge_index.size(1) == int(0.1 * E)
    assert data.test_pos_edge_index.size(1) == int(0.2 * E)
    seen = [tuple(p) for key in ("val_pos_edge_index", "test_pos_edge_index")
            for p in data[key].t().tolist()]
    train = {tuple(p) for p in data.train_pos_edge_index.t().tolist() if p[0] < p[1]}
    assert sorted(seen + list(train)) == sorted(pairs) and len(set(seen)) == len(seen)
    for key in ("val_neg_edge_index", "test_neg_edge_index"):
        for u, v in data[key].t().tolist():
            assert u < v and (u, v) not in pairs and not data.train_neg_adj_mask[u, v]
