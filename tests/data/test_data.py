"""Data: attribute access, sizes, structure queries, validation, copies and devices."""
import copy
import pickle

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.data import Data

EDGES = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])


def path_graph():
    return Data(x=torch.arange(12.0).view(4, 3), edge_index=EDGES.clone())


def test_repr_shows_shapes_and_values():
    assert repr(path_graph()) == "Data(x=[4, 3], edge_index=[2, 6])"
    data = Data(edge_index=EDGES, num_nodes=5, name="g", label=torch.tensor(3), tags=[1, 2])
    assert repr(data) == "Data(edge_index=[2, 6], num_nodes=5, name='g', label=3, tags=[2])"
    assert repr(Data()) == "Data()"


def test_attribute_and_item_access():
    data = path_graph()
    assert data["x"] is data.x
    assert data.keys() == ["x", "edge_index"]
    assert "x" in data and "y" not in data
    assert data.y is None and data.edge_attr is None and data.pos is None
    with pytest.raises(AttributeError, match="'foo'"):
        data.foo
    with pytest.raises(KeyError, match="'foo'"):
        data["foo"]
    data.foo = torch.ones(2)
    data["bar"] = 7
    assert data.keys() == ["x", "edge_index", "foo", "bar"]
    data.foo = None  # assigning None removes the attribute
    del data["bar"]
    assert data.keys() == ["x", "edge_index"]
    assert len(data) == 2
    assert dict(iter(data)) == data.to_dict()


def test_num_nodes_rules():
    assert path_graph().num_nodes == 4
    assert Data(pos=torch.zeros(6, 2)).num_nodes == 6
    # Only connectivity: the largest index (in either row) plus one.
    assert Data(edge_index=torch.tensor([[0, 7], [3, 1]])).num_nodes == 8
    assert Data(edge_index=torch.zeros(2, 0, dtype=torch.long)).num_nodes == 0
    assert Data().num_nodes is None
    # An explicit count wins over x and over edge_index.
    data = path_graph()
    data.num_nodes = 10
    assert data.num_nodes == 10 and "num_nodes" in data
    data.num_nodes = None
    assert data.num_nodes == 4 and "num_nodes" not in data
    assert Data(edge_index=EDGES, num_nodes=9).num_nodes == 9


def test_feature_and_edge_counts():
    data = path_graph()
    assert (data.num_edges, data.num_node_features, data.num_features) == (6, 3, 3)
    assert data.num_edge_features == 0
    data.edge_attr = torch.ones(6, 5)
    assert data.num_edge_features == 5
    assert Data(x=torch.ones(4)).num_node_features == 1
    assert Data().num_node_features == 0 and Data().num_edges == 0
    assert Data(edge_attr=torch.ones(3, 2)).num_edges == 3


def test_structure_queries():
    data = path_graph()
    assert data.is_undirected() and not data.is_directed()
    assert not data.has_self_loops() and not data.has_isolated_nodes()
    directed = Data(edge_index=torch.tensor([[0, 1], [1, 2]]))
    assert not directed.is_undirected()
    # Node 2 has only a self loop: it still counts as isolated.
    loop = Data(edge_index=torch.tensor([[0, 1, 2], [1, 0, 2]]))
    assert loop.has_self_loops() and loop.has_isolated_nodes()
    isolated = Data(x=torch.zeros(5, 1), edge_index=EDGES)
    assert isolated.has_isolated_nodes()
    # edge_attr must agree on both directions for an undirected graph.
    weighted = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), edge_attr=torch.tensor([1., 2.]))
    assert not weighted.is_undirected()
    weighted.edge_attr = torch.tensor([2., 2.])
    assert weighted.is_undirected()
    with pytest.raises(ValueError, match="no 'edge_index'"):
        Data(x=torch.ones(2, 2)).is_undirected()


@given(st.integers(1, 6), st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)),
                                   max_size=15))
def test_structure_queries_match_dense_adjacency(num_nodes, pairs):
    pairs = [(a % num_nodes, b % num_nodes) for a, b in pairs]
    edge_index = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
    data = Data(edge_index=edge_index, num_nodes=num_nodes)
    counts = [[0] * num_nodes for _ in range(num_nodes)]
    for a, b in pairs:
        counts[a][b] += 1
    symmetric = all(counts[a][b] == counts[b][a] for a in range(num_nodes)
                    for b in range(num_nodes))
    touched = {v for a, b in pairs if a != b for v in (a, b)}
    assert data.is_undirected() == symmetric
    assert data.has_self_loops() == any(a == b for a, b in pairs)
    assert data.has_isolated_nodes() == (len(touched) < num_nodes)


@pytest.mark.parametrize("edge_index, message", [
    (torch.zeros(3, 4, dtype=torch.long), r"shape \[2, num_edges\], got \[3, 4\]"),
    (torch.zeros(2, 4), "dtype torch.int64 or torch.int32, got torch.float32"),
    (torch.tensor([[0, -1], [1, 0]]), "negative"),
    (torch.tensor([[0, 1], [1, 4]]), r"row 1 \(destination\) holds index 4, out of range for 4"),
    ([[0, 1], [1, 0]], "must be a torch.Tensor, got list"),
])
def test_validate_names_the_problem(edge_index, message):
    data = Data(x=torch.zeros(4, 2), edge_index=edge_index)
    with pytest.raises(ValueError, match=message):
        data.validate()
    with pytest.warns(UserWarning, match=message):
        assert data.validate(raise_on_error=False) is False


def test_validate_checks_counts():
    assert path_graph().validate() is True
    with pytest.raises(ValueError, match="'num_nodes' is 3 but 'x' has 4 rows"):
        Data(x=torch.zeros(4, 1), num_nodes=3).validate()
    with pytest.raises(ValueError, match="'edge_attr' has 5 rows but 'edge_index' has 6"):
        Data(x=torch.zeros(4, 1), edge_index=EDGES, edge_attr=torch.zeros(5, 2)).validate()
    with pytest.raises(ValueError, match="out of range for 9 nodes"):
        Data(edge_index=torch.tensor([[0], [9]]), num_nodes=9).validate()


def test_to_moves_every_tensor_and_keeps_the_rest():
    data = path_graph()
    data.name = "g"
    out = data.to("meta")
    assert out is data
    assert data.x.is_meta and data.edge_index.is_meta and data.name == "g"
    assert data.keys() == ["x", "edge_index", "name"]
    data = path_graph().to("meta", "x")
    assert data.x.is_meta and not data.edge_index.is_meta
    cpu = path_graph().cpu()
    assert cpu.x.device.type == "cpu" and torch.equal(cpu.x, path_graph().x)


def test_clone_is_independent_and_copy_is_shallow():
    data = path_graph()
    data.nested = {"w": torch.ones(2)}
    twin = data.clone()
    twin.x.add_(1)
    twin.nested["w"].add_(1)
    assert torch.equal(data.x, torch.arange(12.0).view(4, 3))
    assert torch.equal(data.nested["w"], torch.ones(2))
    shallow = copy.copy(data)
    shallow.x = None
    assert data.x is not None and shallow.edge_index is data.edge_index
    restored = pickle.loads(pickle.dumps(data))
    assert torch.equal(restored.x, data.x) and restored.keys() == data.keys()


def test_apply_descends_into_containers():
    data = Data(x=torch.ones(2), extra=[torch.ones(1), (torch.ones(3),)], label="s")
    data.apply(lambda t: t * 2)
    assert data.x.tolist() == [2.0, 2.0]
    assert data.extra[0].tolist() == [2.0] and data.extra[1][0].tolist() == [2.0] * 3
    assert data.label == "s"


def test_batching_protocol():
    data = path_graph()
    assert data.__cat_dim__("edge_index", data.edge_index) == -1
    assert data.__cat_dim__("face", torch.zeros(3, 2)) == -1
    assert data.__cat_dim__("x", data.x) == 0
    assert data.__inc__("edge_index", data.edge_index) == 4
    assert data.__inc__("my_index", torch.zeros(1)) == 4
    assert data.__inc__("x", data.x) == 0
    assert data.__inc__("batch", torch.tensor([0, 0, 2])) == 3
    adj = torch.eye(3).to_sparse()
    assert data.__cat_dim__("adj", adj) == (0, 1)
