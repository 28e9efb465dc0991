"""The container API: calling with keys, subgraphs, coalesce, update, conversions."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.data import Batch, Data, DataLoader, HeteroData
from tests.graphs import edge_lists


def _graph(edge_index, n):
    g = torch.Generator().manual_seed(n)
    return Data(x=torch.randn(n, 3, generator=g), edge_index=edge_index,
                edge_weight=torch.randn(edge_index.size(1), generator=g),
                y=torch.arange(n), label="seven")


def test_call_iterates_over_the_given_keys():
    data = Data(x=torch.ones(2, 1), train_mask=torch.tensor([True, False]),
                val_mask=torch.tensor([False, True]))
    assert [k for k, _ in data("val_mask", "train_mask", "test_mask")] == ["val_mask",
                                                                           "train_mask"]
    assert [k for k, _ in data()] == ["x", "train_mask", "val_mask"]


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.data(), st.booleans())
def test_subgraph_filters_node_and_edge_attributes(graph, draw, as_mask):
    edge_index, n, _ = graph
    data = _graph(edge_index, n)
    chosen = draw.draw(st.lists(st.integers(0, n - 1), unique=True))
    subset = torch.tensor(chosen, dtype=torch.long)
    if as_mask:
        subset = torch.zeros(n, dtype=torch.bool)
        subset[chosen] = True
        chosen = sorted(chosen)
    out = data.subgraph(subset)
    assert torch.equal(out.x, data.x[chosen]) and out.y.tolist() == chosen
    kept = [e for e, (u, v) in enumerate(edge_index.t().tolist())
            if u in chosen and v in chosen]
    assert out.edge_index.t().tolist() == [[chosen.index(int(edge_index[0, e])),
                                            chosen.index(int(edge_index[1, e]))] for e in kept]
    assert torch.equal(out.edge_weight, data.edge_weight[kept])
    assert out.label == "seven"  # graph-level attribute untouched
    assert data.x.size(0) == n  # the original is unchanged


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.data())
def test_edge_subgraph_keeps_all_nodes(graph, draw):
    edge_index, n, _ = graph
    data = _graph(edge_index, n)
    ids = draw.draw(st.lists(st.integers(0, max(edge_index.size(1) - 1, 0)), unique=True)
                    if edge_index.size(1) else st.just([]))
    out = data.edge_subgraph(torch.tensor(ids, dtype=torch.long))
    assert torch.equal(out.x, data.x)
    assert torch.equal(out.edge_index, edge_index[:, ids])
    assert torch.equal(out.edge_weight, data.edge_weight[ids])


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_coalesce_and_structure_queries(graph):
    edge_index, n, _ = graph
    data = _graph(edge_index, n)
    sums = {}
    for (u, v), w in zip(edge_index.t().tolist(), data.edge_weight.tolist()):
        sums[(u, v)] = sums.get((u, v), 0.0) + w
    data.coalesce()
    assert data.is_coalesced()
    assert [tuple(p) for p in data.edge_index.t().tolist()] == sorted(sums)
    assert torch.allclose(data.edge_weight, torch.tensor([sums[p] for p in sorted(sums)]
                                                         ).view(-1), atol=1e-6)
    pairs = set(sums)
    assert data.has_self_loops() == any(u == v for u, v in pairs)
    touched = {u for u, v in pairs if u != v} | {v for u, v in pairs if u != v}
    assert data.has_isolated_nodes() == (len(touched) < n)


def test_update_namedtuple_size_to_dict():
    data = Data(x=torch.ones(3, 2), edge_index=torch.tensor([[0], [1]]))
    other = Data(y=torch.tensor([1]), x=torch.zeros(3, 2))
    assert data.update(other) is data and data.y.tolist() == [1] and data.x.sum() == 0
    assert data.update({"z": 5}).z == 5
    tup = data.to_namedtuple()
    assert tup._fields == ("x", "edge_index", "y", "z") and tup.z == 5
    assert data.size() == (3, 3) and data.size(1) == 3
    assert set(data.to_dict()) == {"x", "edge_index", "y", "z"}
    assert Data.from_dict({"x": torch.ones(2, 1)}).num_nodes == 2
    assert data.to("cpu") is data
    assert data.node_attrs() == ["x"] and data.edge_attrs()[0] == "edge_index"


def test_errors_name_the_problem():
    data = Data(x=torch.ones(2, 1))
    with pytest.raises(ValueError, match="edge_index"):
        data.subgraph(torch.tensor([0]))
    data.edge_index = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="subset"):
        data.edge_subgraph(torch.tensor([True, False]))
    with pytest.raises(TypeError, match="not a graph"):
        Batch.from_data_list([data, {"x": 1}])


def _hetero():
    h = HeteroData()
    h["a"].x = torch.randn(3, 2)
    h["b"].x = torch.randn(2, 2)
    h["a", "r", "b"].edge_index = torch.tensor([[0, 2], [1, 0]])
    h["b", "s", "a"].edge_index = torch.tensor([[1], [2]])
    h["a", "r", "b"].edge_attr = torch.randn(2, 4)
    h["b", "s", "a"].edge_attr = torch.randn(1, 4)
    h.y = torch.tensor([1])
    return h


def test_hetero_metadata_and_homogeneous_roundtrip():
    h = _hetero()
    assert h.metadata() == (["a", "b"], [("a", "r", "b"), ("b", "s", "a")])
    d = h.to_homogeneous()
    assert torch.equal(d.x, torch.cat([h["a"].x, h["b"].x]))
    assert d.edge_index.tolist() == [[0, 2, 4], [4, 3, 2]]
    assert d.node_type.tolist() == [0, 0, 0, 1, 1] and d.edge_type.tolist() == [0, 0, 1]
    assert torch.equal(d.edge_attr, torch.cat([h["a", "r", "b"].edge_attr,
                                               h["b", "s", "a"].edge_attr]))
    back = d.to_heterogeneous()
    assert back.metadata() == h.metadata()
    for t in h.node_types:
        assert torch.equal(back[t].x, h[t].x)
    for t in h.edge_types:
        assert torch.equal(back[t].edge_index, h[t].edge_index)
        assert torch.equal(back[t].edge_attr, h[t].edge_attr)
    assert [k for k, _ in h("x")] == ["x", "x"]
    other = HeteroData()
    other["a"].z = torch.ones(3)
    assert "z" in h.update(other)["a"]
    assert set(h.to_dict()) == {"y", "a", "b", ("a", "r", "b"), ("b", "s", "a")}


def test_dataloader_collates_look_alike_graphs():
    """A graph class that is not gfx's (here a minimal stand-in) is collated by duck typing,
    with its own increments."""
    class Foreign:
        def __init__(self, **kw):
            self._d = kw

        def to_dict(self):
            return dict(self._d)

        def keys(self):
            return list(self._d)

        def __cat_dim__(self, key, value, *args):
            return -1 if "index" in key else 0

        def __inc__(self, key, value, *args):
            return 10 if "index" in key else 0

    graphs = [Foreign(x=torch.ones(2, 1), edge_index=torch.tensor([[0], [1]]))
              for _ in range(3)]
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch.edge_index.tolist() == [[0, 10, 20], [1, 11, 21]]
    assert batch.num_graphs == 3 and batch.x.shape == (6, 1)


def test_hetero_subgraph_by_nodes_and_types():
    h = _hetero()
    out = h.subgraph({"a": torch.tensor([2, 0])})
    assert torch.equal(out["a"].x, h["a"].x[[2, 0]]) and torch.equal(out["b"].x, h["b"].x)
    # (a, r, b): edges 0->1 and 2->0 survive, a-ids renumbered 2 -> 0, 0 -> 1
    assert out["a", "r", "b"].edge_index.tolist() == [[1, 0], [1, 0]]
    assert torch.equal(out["a", "r", "b"].edge_attr, h["a", "r", "b"].edge_attr)
    assert out["b", "s", "a"].edge_index.tolist() == [[1], [0]]
    assert h["a"].x.size(0) == 3  # the input is unchanged
    only_a = h.node_type_subgraph(["a"])
    assert only_a.node_types == ["a"] and only_a.edge_types == []
    one = h.edge_type_subgraph([("a", "r", "b")])
    assert one.edge_types == [("a", "r", "b")] and one.node_types == ["a", "b"]
    with pytest.raises(ValueError, match="node type"):
        h.subgraph({"zzz": torch.tensor([0])})
