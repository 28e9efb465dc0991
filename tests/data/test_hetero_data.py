"""HeteroData: typed stores, metadata, dict views, odd type names, copies, validation."""
import copy
import pickle

import pytest
import torch

from gfx.data import EdgeStorage, HeteroData, NodeStorage

WRITES = ("author", "writes", "paper")
CITES = ("paper", "cites", "paper")


def small_graph():
    data = HeteroData()
    data["paper"].x = torch.randn(4, 16)
    data["author"].x = torch.randn(2, 8)
    data[WRITES].edge_index = torch.tensor([[0, 1, 1], [0, 2, 3]])
    data[CITES].edge_index = torch.tensor([[0, 1], [1, 3]])
    data.y = torch.tensor([1.0])
    return data


def test_stores_and_metadata():
    data = small_graph()
    assert isinstance(data["paper"], NodeStorage) and isinstance(data[WRITES], EdgeStorage)
    assert data.node_types == ["paper", "author"]
    assert data.edge_types == [WRITES, CITES]
    assert data.metadata() == (["paper", "author"], [WRITES, CITES])
    assert data.num_nodes == 6 and data.num_edges == 5
    assert data["paper"].num_nodes == 4 and data[WRITES].num_edges == 3
    assert data[WRITES].size() == (2, 4) and data[WRITES].size(1) == 4
    assert data.num_node_features == {"paper": 16, "author": 8}
    assert data.y.tolist() == [1.0]
    assert "paper" in data and WRITES in data and "y" in data and "venue" not in data
    assert data["paper"].node_type == "paper" and data[WRITES].edge_type == WRITES


def test_dict_views_and_collect():
    data = small_graph()
    assert list(data.x_dict) == ["paper", "author"]
    assert data.x_dict["author"] is data["author"].x
    assert list(data.edge_index_dict) == [WRITES, CITES]
    assert data.collect("edge_index")[CITES] is data[CITES].edge_index
    with pytest.raises(KeyError, match="no node or edge type has an attribute 'edge_attr'"):
        data.edge_attr_dict
    assert data.collect("edge_attr", allow_empty=True) == {}
    with pytest.raises(AttributeError, match="'venue'"):
        data.venue


def test_relation_shorthand_and_pairs():
    data = small_graph()
    assert data["writes"] is data[WRITES]
    assert data["author", "paper"] is data[WRITES]
    data["paper", "cites", "author"].edge_index = torch.tensor([[0], [1]])
    with pytest.raises(KeyError, match="ambiguous"):
        data["cites"]
    with pytest.raises(KeyError, match="exactly one edge type"):
        data["author", "author"]
    with pytest.raises(TypeError, match="node type"):
        data[3]


ODD_NAMES = ["paper node", "a-b", "x<=y", "论文", "a__b", "(p, q)"]


def test_any_string_is_a_type_name():
    data = HeteroData()
    for i, name in enumerate(ODD_NAMES):
        data[name].x = torch.full((i + 1, 2), float(i))
    relations = [(ODD_NAMES[i], f"rel {i}<=", ODD_NAMES[i + 1]) for i in range(len(ODD_NAMES) - 1)]
    for i, edge_type in enumerate(relations):
        data[edge_type].edge_index = torch.tensor([[0], [i + 1]])
    assert data.metadata() == (ODD_NAMES, relations)
    assert list(data.x_dict) == ODD_NAMES
    assert data["论文"].num_nodes == 4
    assert data["rel 0<="] is data[relations[0]]
    assert data.validate()
    clone = data.clone()
    assert clone.metadata() == data.metadata()


def test_num_nodes_from_edges_and_explicit():
    data = HeteroData()
    data["a", "r", "b"].edge_index = torch.tensor([[0, 4], [2, 1]])
    assert data["a"].num_nodes == 5 and data["b"].num_nodes == 3
    data["b"].num_nodes = 10
    assert data["b"].num_nodes == 10 and data.num_nodes == 15
    assert HeteroData().num_nodes is None


def test_constructor_forms():
    data = HeteroData({"paper": {"x": torch.ones(3, 2)},
                       WRITES: {"edge_index": torch.tensor([[0], [1]])}},
                      author={"x": torch.ones(1, 4)},
                      author__writes__book={"edge_index": torch.tensor([[0], [0]])},
                      y=torch.tensor([2]))
    assert data.node_types == ["paper", "author"]
    assert data.edge_types == [WRITES, ("author", "writes", "book")]
    assert data.y.tolist() == [2] and data["y"] is data.y
    data["z"] = torch.ones(1)  # a string key that is no type names a global attribute
    assert data["z"] is data.z and "z" not in data.node_types
    data["paper"] = {"x": torch.zeros(5, 2)}
    assert data["paper"].num_nodes == 5
    del data[WRITES]
    del data["y"]
    assert WRITES not in data and "y" not in data


def test_repr():
    data = HeteroData()
    data["paper"].x = torch.zeros(4, 3)
    data["a b"].x = torch.zeros(2, 5)
    data["a b", "writes", "paper"].edge_index = torch.zeros(2, 7, dtype=torch.long)
    data.y = torch.zeros(1)
    assert repr(data) == (
        "HeteroData(\n"
        "  y=[1],\n"
        "  paper={ x=[4, 3] },\n"
        "  a b={ x=[2, 5] },\n"
        "  (a b, writes, paper)={ edge_index=[2, 7] }\n"
        ")")
    assert repr(HeteroData()) == "HeteroData()"


def test_to_clone_copy_and_pickle():
    data = small_graph()
    twin = data.clone()
    twin["paper"].x.add_(1)
    assert not torch.equal(twin["paper"].x, data["paper"].x)
    assert twin[WRITES].size() == (2, 4)
    shallow = copy.copy(data)
    shallow["paper"].x = torch.zeros(9, 16)  # re-parented: sizes follow the copy
    assert shallow[WRITES].size() == (2, 9) and data[WRITES].size() == (2, 4)
    restored = pickle.loads(pickle.dumps(data))
    assert restored.metadata() == data.metadata()
    assert torch.equal(restored[CITES].edge_index, data[CITES].edge_index)
    data.to("meta")
    assert all(t.is_meta for t in data.x_dict.values()) and data.y.is_meta
    assert data[WRITES].edge_index.is_meta


def test_validate_names_edge_type_and_problem():
    data = small_graph()
    assert data.validate()
    data[WRITES].edge_index = torch.tensor([[0, 2], [0, 1]])
    with pytest.raises(ValueError, match=r"edge type \('author', 'writes', 'paper'\).*row 0 "
                                         r"\(source\) holds index 2, out of range for 2"):
        data.validate()
    data = small_graph()
    data["venue", "hosts", "paper"].edge_index = torch.tensor([[0], [0]])
    with pytest.raises(ValueError, match="node type 'venue' does not exist"):
        data.validate()


def test_batching_protocol_for_edge_stores():
    data = small_graph()
    inc = data.__inc__("edge_index", data[WRITES].edge_index, data[WRITES])
    assert inc.tolist() == [[2], [4]]
    assert data.__inc__("x", data["paper"].x, data["paper"]) == 0
    assert data.__cat_dim__("edge_index", data[WRITES].edge_index, data[WRITES]) == -1
