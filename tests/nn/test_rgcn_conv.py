import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx
from gfx.nn.conv.rgcn_conv import FastRGCNConv, RGCNConv
from gfx.utils import edge_index_to_adj_t
from tests.graphs import edge_lists


def relation_weights(conv):
    w = conv.weight.detach().double()
    if conv.num_bases is not None:
        return torch.einsum("rb,bio->rio", conv.comp.detach().double(), w)
    if conv.num_blocks is not None:
        return torch.stack([torch.block_diag(*blocks) for blocks in w])
    return w


def loop_rgcn(conv, x_src, x_dst, edge_index, edge_type, aggr):
    """The documented formula with explicit loops (x given as dense features)."""
    weights = relation_weights(conv)
    out = torch.zeros(x_dst.shape[0], conv.out_channels, dtype=torch.float64)
    for i in range(x_dst.shape[0]):
        for r in range(conv.num_relations):
            js = [j for (j, t), rel in zip(edge_index.t().tolist(), edge_type.tolist())
                  if t == i and rel == r]
            if not js:
                continue
            feats = x_src[js]
            pooled = {"mean": feats.mean(0), "add": feats.sum(0), "max": feats.max(0).values}
            out[i] += pooled[aggr] @ weights[r]
    if conv.root is not None:
        out += x_dst @ conv.root.detach().double()
    if conv.bias is not None:
        out += conv.bias.detach().double()
    return out


@st.composite
def typed_graphs(draw, bipartite=False, num_relations=3):
    edge_index, num_src, num_dst = draw(edge_lists(bipartite=bipartite))
    types = draw(st.lists(st.integers(0, num_relations - 1), min_size=edge_index.shape[1],
                          max_size=edge_index.shape[1]))
    return edge_index, torch.tensor(types, dtype=torch.long), num_src, num_dst


@given(typed_graphs(), st.sampled_from([{}, {"num_bases": 2}, {"num_blocks": 2},
                                        {"aggr": "add"}, {"aggr": "max"},
                                        {"root_weight": False, "bias": False}]))
def test_rgcn_matches_the_formula(graph, kwargs):
    edge_index, edge_type, n, _ = graph
    torch.manual_seed(0)
    conv = RGCNConv(4, 6, 3, **kwargs).double()
    x = torch.randn(n, 4, dtype=torch.float64)
    expected = loop_rgcn(conv, x, x, edge_index, edge_type, kwargs.get("aggr", "mean"))
    torch.testing.assert_close(conv(x, edge_index, edge_type), expected)
    if kwargs.get("aggr") != "max":
        fast = FastRGCNConv(4, 6, 3, **kwargs).double()
        fast.load_state_dict(conv.state_dict())
        torch.testing.assert_close(fast(x, edge_index, edge_type), expected)


@given(typed_graphs(bipartite=True))
def test_rgcn_bipartite(graph):
    edge_index, edge_type, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = RGCNConv((4, 2), 3, 3).double()
    x_src = torch.randn(n_src, 4, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    out = conv((x_src, x_dst), edge_index, edge_type)
    torch.testing.assert_close(out, loop_rgcn(conv, x_src, x_dst, edge_index, edge_type, "mean"))


@pytest.mark.parametrize("cls", [RGCNConv, FastRGCNConv])
def test_node_ids_and_none_mean_one_hot_features(cls):
    torch.manual_seed(0)
    conv = cls(5, 3, 2).double()
    edge_index = torch.tensor([[0, 1, 2, 4, 3], [1, 2, 0, 0, 0]])
    edge_type = torch.tensor([0, 1, 1, 0, 1])
    one_hot = torch.eye(5, dtype=torch.float64)
    expected = loop_rgcn(conv, one_hot, one_hot, edge_index, edge_type, "mean")
    torch.testing.assert_close(conv(None, edge_index, edge_type), expected)
    torch.testing.assert_close(conv(torch.arange(5), edge_index, edge_type), expected)
    ids = torch.tensor([4, 0, 2])  # three nodes whose features are rows 4, 0, 2
    sub = torch.tensor([[0, 1], [1, 2]])
    torch.testing.assert_close(conv(ids, sub, torch.tensor([1, 0])),
                               loop_rgcn(conv, one_hot[ids], one_hot[ids], sub,
                                         torch.tensor([1, 0]), "mean"))


def test_sparse_adjacency_carries_the_relations_and_sorting_is_optional():
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 1, 2, 3, 1], [1, 2, 3, 0, 0]])
    edge_type = torch.tensor([2, 0, 1, 0, 2])
    x = torch.randn(4, 3)
    conv = RGCNConv(3, 2, 3)
    expected = conv(x, edge_index, edge_type)
    adj_t = edge_index_to_adj_t(edge_index, edge_type, size=(4, 4))
    torch.testing.assert_close(conv(x, adj_t), expected)
    order = edge_type.argsort(stable=True)
    sorted_conv = RGCNConv(3, 2, 3, is_sorted=True)
    sorted_conv.load_state_dict(conv.state_dict())
    torch.testing.assert_close(sorted_conv(x, edge_index[:, order], edge_type[order]), expected)
    with pytest.raises(ValueError, match="is_sorted=True, but 'edge_type' is not sorted"):
        sorted_conv(x, edge_index, edge_type)


class Wrap(torch.nn.Module):
    def __init__(self, conv):
        super().__init__()
        self.conv = conv

    def forward(self, x, edge_index, edge_type):
        return self.conv(x, edge_index, edge_type)


@pytest.mark.parametrize("cls,kwargs", [(RGCNConv, {}), (RGCNConv, {"num_bases": 2}),
                                        (RGCNConv, {"num_blocks": 2, "aggr": "max"}),
                                        (FastRGCNConv, {"num_blocks": 2})])
def test_lowered_equals_eager_with_gradients(cls, kwargs):
    torch.manual_seed(0)
    model = Wrap(cls(4, 6, 3, **kwargs)).double().eval()
    lowered = gfx.lower(gfx.capture(model))
    assert not any(isinstance(lowered.get_submodule(n.target), cls)
                   for n in lowered.graph.nodes if n.op == "call_module")
    edge_index = torch.randint(0, 7, (2, 20))
    edge_type = torch.randint(0, 3, (20,))
    x1 = torch.randn(7, 4, dtype=torch.float64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    out1, out2 = lowered(x1, edge_index, edge_type), model(x2, edge_index, edge_type)
    torch.testing.assert_close(out1, out2)
    out1.pow(2).sum().backward()
    out2.pow(2).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)


def test_lowered_bipartite_and_one_hot_inputs_equal_eager():
    class Bipartite(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = RGCNConv((4, 2), 3, 2)
            self.embed = RGCNConv(6, 3, 2)

        def forward(self, x_src, x_dst, edge_index, edge_type):
            return self.conv((x_src, x_dst), edge_index, edge_type), \
                self.embed(None, edge_index, edge_type)

    torch.manual_seed(0)
    model = Bipartite().double()
    lowered = gfx.lower(gfx.capture(model))
    edge_index = torch.tensor([[0, 1, 5, 3, 2], [1, 0, 2, 2, 1]])
    edge_type = torch.tensor([0, 1, 1, 0, 0])
    x_src = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    x_dst = torch.randn(6, 2, dtype=torch.float64)
    for a, b in zip(lowered(x_src, x_dst, edge_index, edge_type),
                    model(x_src, x_dst, edge_index, edge_type)):
        torch.testing.assert_close(a, b)
    grad_a, = torch.autograd.grad(lowered(x_src, x_dst, edge_index, edge_type)[0].sum(), x_src)
    grad_b, = torch.autograd.grad(model(x_src, x_dst, edge_index, edge_type)[0].sum(), x_src)
    torch.testing.assert_close(grad_a, grad_b)


def test_bad_input_names_the_layer_and_argument():
    conv = RGCNConv(4, 2, 3)
    x, edge_index = torch.randn(3, 4), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="RGCNConv: 'edge_type' is required"):
        conv(x, edge_index)
    with pytest.raises(ValueError, match=r"'edge_type' values must lie in \[0, 3\)"):
        conv(x, edge_index, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"'edge_type' must be an integer tensor \[num_edges\]"):
        conv(x, edge_index, torch.tensor([0]))
    with pytest.raises(ValueError, match="have 5 channels, but in_channels=4"):
        conv(torch.randn(3, 5), edge_index, torch.tensor([0, 1]))
    with pytest.raises(IndexError, match=r"node ids 'x' must lie in \[0, 4\)"):
        conv(torch.tensor([0, 7, 1]), edge_index, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="either num_bases or num_blocks"):
        RGCNConv(4, 2, 3, num_bases=2, num_blocks=2)
    with pytest.raises(ValueError, match="num_blocks=3 must divide"):
        RGCNConv(4, 6, 3, num_blocks=3)
    with pytest.raises(ValueError, match="block-diagonal decomposition needs feature"):
        RGCNConv(4, 2, 3, num_blocks=2)(None, edge_index, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="FastRGCNConv: aggr must be"):
        FastRGCNConv(4, 2, 3, aggr="max")
    with pytest.raises(ValueError, match="lazy -1 sizes are not supported"):
        RGCNConv(-1, 2, 3)
