import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import MessagePassing
from gfx.utils import edge_index_to_adj_t
from tests.graphs import edge_lists, neighbour_lists


class EdgeMLP(MessagePassing):
    """A user layer: message depends on both endpoints and the edge attribute."""

    def __init__(self, aggr="sum", **kwargs):
        super().__init__(aggr=aggr, **kwargs)

    def forward(self, x, edge_index, edge_attr, size=None):
        return self.propagate(edge_index, x=x, edge_attr=edge_attr, size=size)

    def message(self, x_i, x_j, edge_attr):
        return torch.tanh(x_i * 2 + x_j) * edge_attr.view(-1, 1)


def loop_reference(x_src, x_dst, edge_index, edge_attr, reduce, flow="source_to_target"):
    if flow == "target_to_source":
        edge_index = edge_index.flip(0)
    out = torch.zeros(x_dst.shape[0], x_src.shape[1], dtype=x_src.dtype)
    for i, nbrs in enumerate(neighbour_lists(edge_index, x_dst.shape[0])):
        msgs = [torch.tanh(x_dst[i] * 2 + x_src[j]) * edge_attr[e] for e, j in nbrs]
        if msgs:
            stacked = torch.stack(msgs)
            out[i] = {"sum": stacked.sum(0), "mean": stacked.mean(0),
                      "max": stacked.max(0).values, "min": stacked.min(0).values}[reduce]
    return out


@given(edge_lists(), st.sampled_from(["sum", "mean", "max", "min"]))
def test_user_layer_matches_loop(graph, reduce):
    edge_index, n, _ = graph
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64)
    out = EdgeMLP(reduce)(x, edge_index, w)
    torch.testing.assert_close(out, loop_reference(x, x, edge_index, w, reduce))


@given(edge_lists(bipartite=True), st.sampled_from(["source_to_target", "target_to_source"]))
def test_bipartite_pairs_and_flow(graph, flow):
    edge_index, n_src, n_dst = graph
    x_src = torch.randn(n_src, 2, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64)
    pair = (x_src, x_dst)
    if flow == "target_to_source":
        # Pair entries follow edge_index rows: row 0 now holds the targets.
        edge_index, pair = edge_index.flip(0), (x_dst, x_src)
    out = EdgeMLP("sum", flow=flow)(pair, edge_index, w)
    expected = loop_reference(x_src, x_dst, edge_index, w, "sum", flow)
    torch.testing.assert_close(out, expected)


def test_special_arguments():
    seen = {}

    class Spy(MessagePassing):
        def message(self, x_j, index, size_i, size_j, dim_size, edge_index_i, edge_index_j,
                    ptr, size):
            seen.update(index=index, size_i=size_i, size_j=size_j, dim_size=dim_size,
                        edge_index_i=edge_index_i, edge_index_j=edge_index_j, ptr=ptr,
                        size=size)
            return x_j

    edge_index = torch.tensor([[0, 1, 2], [3, 3, 1]])
    Spy().propagate(edge_index, x=(torch.randn(3, 2), torch.randn(4, 2)))
    assert seen["size"] == (3, 4) and seen["size_i"] == 4 and seen["size_j"] == 3
    assert seen["dim_size"] == 4 and seen["ptr"] is None
    assert seen["index"].tolist() == [3, 3, 1] == seen["edge_index_i"].tolist()
    assert seen["edge_index_j"].tolist() == [0, 1, 2]


def test_hooks_modify_and_are_removable():
    layer = MessagePassing()
    edge_index = torch.tensor([[0, 1], [1, 0]])
    x = torch.tensor([[1.0], [2.0]])
    calls = []
    h1 = layer.register_message_forward_pre_hook(
        lambda m, inp: ({**inp[0], "x_j": inp[0]["x_j"] * 10},))
    h2 = layer.register_propagate_forward_hook(lambda m, inp, out: out + 1)
    h3 = layer.register_aggregate_forward_hook(lambda m, inp, out: calls.append(out.clone()))
    assert layer.propagate(edge_index, x=x).tolist() == [[21.0], [11.0]]
    assert calls[0].tolist() == [[20.0], [10.0]]
    for h in (h1, h2, h3):
        h.remove()
    assert layer.propagate(edge_index, x=x).tolist() == [[2.0], [1.0]]


def test_explain_mask_scales_messages_and_pads_self_loops():
    layer = MessagePassing()
    layer.explain = True
    layer._edge_mask = torch.tensor([0.0, 100.0])
    edge_index = torch.tensor([[0, 1, 2], [1, 0, 2]])  # third edge: a self-loop added later
    x = torch.tensor([[2.0], [4.0], [8.0]])
    out = layer.propagate(edge_index, x=x)
    torch.testing.assert_close(out, torch.tensor([[4.0], [1.0], [8.0]]))
    layer._edge_mask = None
    with pytest.raises(ValueError, match="no edge mask"):
        layer.propagate(edge_index, x=x)


def test_decomposed_layers_equal_single_pass():
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    x = torch.randn(4, 6)
    w = torch.rand(4)
    torch.testing.assert_close(EdgeMLP("max", decomposed_layers=3)(x, edge_index, w),
                               EdgeMLP("max")(x, edge_index, w))


def test_sparse_adjacency_layouts():
    edge_index = torch.tensor([[0, 1, 1, 3], [1, 0, 2, 2]])
    x = torch.randn(4, 3)
    expected = MessagePassing(aggr="mean").propagate(edge_index, x=x)
    adj_t = edge_index_to_adj_t(edge_index, size=(4, 4))
    for adj in (adj_t, adj_t.to_sparse_csr(), adj_t.to_sparse_csc()):
        torch.testing.assert_close(MessagePassing(aggr="mean").propagate(adj, x=x), expected)


def test_message_and_aggregate_used_for_sparse_input():
    class Fused(MessagePassing):
        def message_and_aggregate(self, adj_t, x):
            return torch.sparse.mm(adj_t, x)

    edge_index = torch.tensor([[0, 1, 1], [1, 0, 2]])
    x = torch.randn(3, 2)
    adj_t = edge_index_to_adj_t(edge_index, size=(3, 3))
    torch.testing.assert_close(Fused().propagate(adj_t, x=x),
                               MessagePassing().propagate(edge_index, x=x))


def test_edge_updater():
    class Scores(MessagePassing):
        def edge_update(self, a_i, a_j):
            return a_i - a_j

    a = torch.tensor([[1.0], [10.0], [100.0]])
    edge_index = torch.tensor([[0, 2], [1, 0]])
    assert Scores().edge_updater(edge_index, a=a).tolist() == [[9.0], [-99.0]]


def test_node_dim_zero_on_3d_features():
    x = torch.randn(3, 2, 4)  # [nodes, heads, channels]
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 1]])
    out = MessagePassing(node_dim=0).propagate(edge_index, x=x)
    expected = torch.zeros_like(x)
    expected[1] = x[0] + x[2]
    expected[2] = x[1]
    torch.testing.assert_close(out, expected)


def test_input_errors():
    layer = MessagePassing()
    x = torch.randn(3, 2)
    with pytest.raises(ValueError, match=r"shape \[2, num_edges\]"):
        layer.propagate(torch.tensor([0, 1]), x=x)
    with pytest.raises(TypeError, match="int64"):
        layer.propagate(torch.tensor([[0.0], [1.0]]), x=x)
    with pytest.raises(ValueError, match="3 nodes"):
        layer.propagate(torch.tensor([[0], [1]]), size=(5, 5), x=x)
    with pytest.raises(TypeError, match="needs 'x_j'"):
        layer.propagate(torch.tensor([[0], [1]]), y=x)
    with pytest.raises(ValueError, match="flow"):
        MessagePassing(flow="sideways")
    with pytest.raises(IndexError, match=r"edge_index\[1\] \(targets\) contains node 7"):
        layer.propagate(torch.tensor([[0], [7]]), x=x)


def test_aggregate_override_with_only_inputs_and_index():
    # A user layer written against the early contract: aggregate(self, inputs, index).
    class SumByHand(MessagePassing):
        def forward(self, x, edge_index):
            return self.propagate(edge_index, x=x)

        def aggregate(self, inputs, index):
            return torch.zeros(6, inputs.shape[1]).index_add_(0, index, inputs)

    x = torch.randn(6, 3)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 2]])
    expected = torch.zeros(6, 3).index_add_(0, edge_index[1], x[edge_index[0]])
    torch.testing.assert_close(SumByHand()(x, edge_index), expected)
