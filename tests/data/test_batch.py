"""Batch: concatenation, index shifting, batch/ptr vectors and the way back, checked
against hand-written tensors and explicit loops."""
import pickle

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.data import Batch, Data, DataBatch, HeteroData, HeteroDataBatch


def three_graphs():
    g0 = Data(x=torch.tensor([[1., 1.], [2., 2.]]), edge_index=torch.tensor([[0, 1], [1, 0]]),
              edge_attr=torch.tensor([[10.], [11.]]), y=torch.tensor([0]), score=0.5,
              name="a", w=torch.tensor(7.0))
    g1 = Data(x=torch.tensor([[3., 3.], [4., 4.], [5., 5.]]),
              edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]),
              edge_attr=torch.tensor([[12.], [13.], [14.]]), y=torch.tensor([1]), score=1.5,
              name="b", w=torch.tensor(8.0))
    g2 = Data(x=torch.tensor([[6., 6.]]), edge_index=torch.zeros(2, 0, dtype=torch.long),
              edge_attr=torch.zeros(0, 1), y=torch.tensor([2]), score=2.5, name="c",
              w=torch.tensor(9.0))
    return [g0, g1, g2]


def assert_same_graph(left, right):
    assert type(left) is type(right)
    assert left.keys() == right.keys()
    for key in left.keys():
        a, b = left[key], right[key]
        if isinstance(a, torch.Tensor):
            assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), key
        else:
            assert a == b, key


def test_batch_against_hand_built_tensors():
    batch = Batch.from_data_list(three_graphs())
    assert isinstance(batch, DataBatch) and isinstance(batch, Batch) and isinstance(batch, Data)
    assert batch.num_graphs == 3 == len(batch) == batch.batch_size
    assert torch.equal(batch.x, torch.tensor([[1., 1.], [2., 2.], [3., 3.], [4., 4.],
                                              [5., 5.], [6., 6.]]))
    assert torch.equal(batch.edge_index, torch.tensor([[0, 1, 2, 3, 4], [1, 0, 3, 4, 2]]))
    assert torch.equal(batch.edge_attr, torch.tensor([[10.], [11.], [12.], [13.], [14.]]))
    assert torch.equal(batch.batch, torch.tensor([0, 0, 1, 1, 1, 2]))
    assert torch.equal(batch.ptr, torch.tensor([0, 2, 5, 6]))
    assert torch.equal(batch.y, torch.tensor([0, 1, 2]))
    assert torch.equal(batch.score, torch.tensor([0.5, 1.5, 2.5]))
    assert batch.name == ["a", "b", "c"]
    assert torch.equal(batch.w, torch.tensor([7.0, 8.0, 9.0]))
    assert batch.num_nodes == 6 and batch.num_edges == 5
    assert repr(batch) == ("DataBatch(x=[6, 2], edge_index=[2, 5], edge_attr=[5, 1], y=[3], "
                           "score=[3], name=[3], w=[3], batch=[6], ptr=[4])")


def test_round_trip_and_indexing():
    graphs = three_graphs()
    batch = Batch.from_data_list(graphs)
    for original, rebuilt in zip(graphs, batch.to_data_list()):
        assert_same_graph(original, rebuilt)
    assert_same_graph(batch.get_example(-1), graphs[2])
    assert_same_graph(batch[1], graphs[1])
    assert_same_graph(batch[torch.tensor(0)], graphs[0])
    assert [g.name for g in batch[1:]] == ["b", "c"]
    assert [g.name for g in batch[[2, 0]]] == ["c", "a"]
    assert [g.name for g in batch[torch.tensor([True, False, True])]] == ["a", "c"]
    assert batch["x"] is batch.x
    with pytest.raises(IndexError, match="graph index 3 is out of range for a batch of 3"):
        batch.get_example(3)


def test_explicit_num_nodes_without_features():
    graphs = [Data(edge_index=torch.tensor([[0], [1]]), num_nodes=3),
              Data(edge_index=torch.tensor([[1], [0]]), num_nodes=2)]
    batch = Batch.from_data_list(graphs)
    assert batch.num_nodes == 5
    assert torch.equal(batch.edge_index, torch.tensor([[0, 4], [1, 3]]))
    assert torch.equal(batch.batch, torch.tensor([0, 0, 0, 1, 1]))
    assert [g.num_nodes for g in batch.to_data_list()] == [3, 2]
    assert_same_graph(batch[1], graphs[1])


def test_int32_indices_keep_their_dtype():
    graphs = [Data(x=torch.zeros(2, 1), edge_index=torch.tensor([[0], [1]], dtype=torch.int32))] * 2
    batch = Batch.from_data_list(graphs)
    assert batch.edge_index.dtype == torch.int32
    assert batch.edge_index.tolist() == [[0, 2], [1, 3]]


class PairData(Data):
    """Two graphs in one object: source graph (x_s, edge_index_s), target (x_t, ...)."""

    def __inc__(self, key, value, store=None):
        if key == "edge_index_s":
            return self.x_s.size(0)
        if key == "edge_index_t":
            return self.x_t.size(0)
        return super().__inc__(key, value, store)

    def __cat_dim__(self, key, value, store=None):
        if key == "stacked":
            return None
        return super().__cat_dim__(key, value, store)


def test_subclass_protocol_follow_batch_and_exclude():
    pairs = [PairData(x_s=torch.zeros(2, 1), edge_index_s=torch.tensor([[0], [1]]),
                      x_t=torch.zeros(3, 1), edge_index_t=torch.tensor([[2], [0]]),
                      stacked=torch.full((2, 2), float(i)), note=i)
             for i in range(2)]
    batch = Batch.from_data_list(pairs, follow_batch=["x_s", "x_t"], exclude_keys=["note"])
    assert type(batch).__name__ == "PairDataBatch" and isinstance(batch, PairData)
    assert batch.edge_index_s.tolist() == [[0, 2], [1, 3]]
    assert batch.edge_index_t.tolist() == [[2, 5], [0, 3]]
    assert batch.stacked.shape == (2, 2, 2)
    assert batch.x_s_batch.tolist() == [0, 0, 1, 1]
    assert batch.x_t_batch.tolist() == [0, 0, 0, 1, 1, 1]
    assert batch.x_t_ptr.tolist() == [0, 3, 6]
    assert "note" not in batch and "batch" not in batch  # no node count to follow
    rebuilt = batch.to_data_list()[1]
    assert isinstance(rebuilt, PairData)
    assert rebuilt.edge_index_t.tolist() == [[2], [0]]
    assert torch.equal(rebuilt.stacked, torch.full((2, 2), 1.0))


def test_sparse_adjacency_is_block_diagonal():
    dense = [torch.tensor([[0., 1.], [2., 0.]]), torch.tensor([[0., 0., 3.], [0., 4., 0.],
                                                               [5., 0., 0.]])]
    graphs = [Data(x=torch.zeros(a.size(0), 1), adj=a.to_sparse()) for a in dense]
    batch = Batch.from_data_list(graphs)
    assert torch.equal(batch.adj.to_dense(), torch.block_diag(*dense))
    for original, rebuilt in zip(dense, batch.to_data_list()):
        assert torch.equal(rebuilt.adj.to_dense(), original)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="'data_list' is empty"):
        Batch.from_data_list([])
    graphs = three_graphs()
    with pytest.raises(TypeError, match=r"data_list\[1\] is a HeteroData"):
        Batch.from_data_list([graphs[0], HeteroData()])
    with pytest.raises(TypeError, match=r"data_list\[0\] is a dict"):
        Batch.from_data_list([{"x": 1}])
    graphs[2].extra = torch.ones(1)
    with pytest.raises(ValueError, match=r"data_list\[2\] and data_list\[0\] differ in "
                                         r"attributes \['extra'\]"):
        Batch.from_data_list(graphs)
    batch = Batch.from_data_list(three_graphs())
    with pytest.raises(TypeError, match="already a batch"):
        Batch.from_data_list([batch])
    bad = [Data(x=torch.zeros(2, 3)), Data(x=torch.zeros(2, 4))]
    with pytest.raises(ValueError, match="cannot batch attribute 'x'"):
        Batch.from_data_list(bad)


def test_pickle_and_device_move():
    batch = Batch.from_data_list(three_graphs())
    restored = pickle.loads(pickle.dumps(batch))
    assert restored.num_graphs == 3
    assert_same_graph(restored[1], three_graphs()[1])
    batch.to("meta")
    assert batch.batch.is_meta and batch.ptr.is_meta and batch.num_graphs == 3


def test_hand_made_batch_counts_graphs_from_ptr():
    batch = Batch(x=torch.zeros(3, 1), batch=torch.tensor([0, 1, 1]), ptr=torch.tensor([0, 1, 3]))
    assert isinstance(batch, DataBatch) and batch.num_graphs == 2
    with pytest.raises(RuntimeError, match="not built by Batch.from_data_list"):
        batch.get_example(0)


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6)), min_size=1, max_size=5),
       st.randoms(use_true_random=False))
def test_shifts_match_an_explicit_loop(shapes, rng):
    graphs = []
    for num_nodes, num_edges in shapes:
        pairs = [(rng.randrange(num_nodes), rng.randrange(num_nodes))
                 for _ in range(num_edges if num_nodes else 0)]
        edge_index = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
        graphs.append(Data(x=torch.randn(num_nodes, 3), edge_index=edge_index))
    batch = Batch.from_data_list(graphs)
    rows, cols, graph_ids, offset, ptr = [], [], [], 0, [0]
    for i, graph in enumerate(graphs):
        for e in range(graph.edge_index.size(1)):
            rows.append(int(graph.edge_index[0, e]) + offset)
            cols.append(int(graph.edge_index[1, e]) + offset)
        graph_ids += [i] * graph.x.size(0)
        offset += graph.x.size(0)
        ptr.append(offset)
    assert batch.edge_index.tolist() == [rows, cols]
    assert batch.batch.tolist() == graph_ids and batch.ptr.tolist() == ptr
    for original, rebuilt in zip(graphs, batch.to_data_list()):
        assert_same_graph(original, rebuilt)


def hetero_pair():
    h0 = HeteroData()
    h0["paper"].x = torch.tensor([[1.], [2.]])
    h0["author"].x = torch.tensor([[10.]])
    h0["author", "writes", "paper"].edge_index = torch.tensor([[0], [1]])
    h0["paper", "cites", "paper"].edge_index = torch.tensor([[0], [1]])
    h0.y = torch.tensor([0])
    h1 = HeteroData()
    h1["paper"].x = torch.tensor([[3.], [4.], [5.]])
    h1["author"].x = torch.tensor([[11.], [12.]])
    h1["author", "writes", "paper"].edge_index = torch.tensor([[1, 0], [2, 0]])
    h1["paper", "cites", "paper"].edge_index = torch.tensor([[2], [0]])
    h1.y = torch.tensor([1])
    return [h0, h1]


def test_hetero_batch_against_hand_built_tensors():
    batch = Batch.from_data_list(hetero_pair())
    assert isinstance(batch, HeteroDataBatch) and isinstance(batch, HeteroData)
    assert batch.num_graphs == 2
    assert batch.metadata() == hetero_pair()[0].metadata()
    assert batch["paper"].x.view(-1).tolist() == [1., 2., 3., 4., 5.]
    assert batch["paper"].batch.tolist() == [0, 0, 1, 1, 1]
    assert batch["paper"].ptr.tolist() == [0, 2, 5]
    assert batch["author"].batch.tolist() == [0, 1, 1]
    assert batch["author"].ptr.tolist() == [0, 1, 3]
    # Sources shift by the author counts (1), destinations by the paper counts (2).
    assert batch["writes"].edge_index.tolist() == [[0, 2, 1], [1, 4, 2]]
    assert batch["cites"].edge_index.tolist() == [[0, 4], [1, 2]]
    assert batch.y.tolist() == [0, 1]
    for original, rebuilt in zip(hetero_pair(), batch.to_data_list()):
        assert type(rebuilt) is HeteroData and rebuilt.metadata() == original.metadata()
        for store_key in (*original.node_types, *original.edge_types):
            assert_same_graph(rebuilt[store_key], original[store_key])
        assert torch.equal(rebuilt.y, original.y)


def test_hetero_batch_needs_the_same_types():
    h0, h1 = hetero_pair()
    h1["venue"].x = torch.zeros(1, 1)
    with pytest.raises(ValueError, match=r"data_list\[1\] has node/edge types"):
        Batch.from_data_list([h0, h1])
