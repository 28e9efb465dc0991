"""Attention fusion: GAT-style score -> softmax -> weighted sum becomes one node."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import gfx
import gfx.nn as gnn
from gfx.codegen import cpp_attention
from gfx.compile import build_graph
from gfx.ops.fused_attention import AttentionSpec
from gfx.passes.fusion import fuse_message_reduce
from gfx.passes.fusion_attention import fuse_attention
from gfx.pipeline import CLEANUP, Pass, run_passes
from tests.graphs import edge_lists


def fused_graph(model, *, concrete=None):
    gm = build_graph(model, concrete_args=concrete)
    return run_passes(gm, [Pass("attention", fuse_attention("reference")),
                           Pass("fuse", fuse_message_reduce("reference"))] + CLEANUP,
                      check=True)


def primitives(gm):
    return [str(n.target).split(".")[1] for n in gm.graph.nodes
            if n.op == "call_function" and str(n.target).startswith("gfx.")]


class TwoGAT(torch.nn.Module):
    def __init__(self, heads=2, dropout=0.0):
        super().__init__()
        self.conv1 = gnn.GATConv(5, 3, heads=heads, dropout=dropout)
        self.conv2 = gnn.GATConv(3 * heads, 2, heads=heads, concat=False, dropout=dropout)

    def forward(self, x, edge_index):
        return self.conv2(F.elu(self.conv1(x, edge_index)), edge_index)


class ScalarAttention(gnn.MessagePassing):
    """A user layer: one score per edge, ``[E]``, from both endpoints (GAT-like)."""

    def __init__(self, channels):
        super().__init__(aggr="add", node_dim=0)  # node axis 0: ``a`` is one-dimensional
        self.lin = gnn.Linear(channels, channels)
        self.att = torch.nn.Parameter(torch.randn(channels))

    def forward(self, x, edge_index):
        h = self.lin(x)
        a = (h * self.att).sum(-1)
        return self.propagate(edge_index, x=h, a=a)

    def message(self, x_j, a_j, a_i, index, size_i):
        alpha = gfx.utils.softmax(torch.sigmoid(a_j - a_i) * 2.0, index, num_nodes=size_i)
        return alpha.unsqueeze(-1) * x_j


def test_gat_becomes_one_attention_node_per_layer():
    gm = fused_graph(TwoGAT().eval())
    assert primitives(gm) == ["fused_attention"] * 2
    spec = next(n.meta["fused_attention"] for n in gm.graph.nodes
                if "fused_attention" in n.meta)
    assert sorted(spec.kinds) == ["dst", "src", "src"] and spec.alpha_axes == 1
    assert spec.score[0] == "leaky_relu" and spec.message[0] == "mul"
    assert "segment_softmax" not in gm.code and "gfx.scatter" not in gm.code


def test_returned_attention_weights_keep_the_softmax():
    class Returning(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.GATConv(4, 2, heads=2)

        def forward(self, x, edge_index):
            return self.conv(x, edge_index, return_attention_weights=True)

    model = Returning().eval()
    gm = fused_graph(model, concrete={"return_attention_weights": True})
    assert "fused_attention" not in primitives(gm)
    assert "segment_softmax" in primitives(gm)
    x, ei = torch.randn(6, 4), torch.randint(0, 6, (2, 15))
    out, (ei2, alpha) = gm(x, ei)
    out_e, (_, alpha_e) = model(x, ei)
    torch.testing.assert_close(out, out_e)
    torch.testing.assert_close(alpha, alpha_e)


@pytest.mark.parametrize("dropout,training,fuses", [(0.0, True, True), (0.5, False, True),
                                                    (0.5, True, False)])
def test_dropout_is_identity_only_when_it_cannot_drop(dropout, training, fuses):
    gm = fused_graph(TwoGAT(dropout=dropout).train(training))
    assert ("fused_attention" in primitives(gm)) == fuses
    if not fuses:
        assert primitives(gm).count("segment_softmax") == 2


def test_gatv2_stays_unfused():
    # GATv2's score reduces over channels and reads x_j, which the message reads too:
    # x_j must exist for the score, so the pattern does not match; the graph is correct.
    layer = gnn.GATv2Conv(4, 3, heads=2).eval()
    gm = fused_graph(layer)
    assert "fused_attention" not in primitives(gm)
    x, ei = torch.randn(5, 4), torch.randint(0, 5, (2, 12))
    torch.testing.assert_close(gm(x, ei), layer(x, ei))


def test_transformer_conv_fuses_softmax_and_messages():
    # The channel sum query_i . key_j stays unfused and enters as an [E, H] edge operand;
    # the softmax, the coefficients and the value messages are fused.
    layer = gnn.TransformerConv(4, 3, heads=2).eval()
    gm = fused_graph(layer)
    assert primitives(gm).count("fused_attention") == 1
    assert "segment_softmax" not in primitives(gm)
    spec = next(n.meta["fused_attention"] for n in gm.graph.nodes
                if "fused_attention" in n.meta)
    assert spec.kinds == ("src", "edge")
    x, ei = torch.randn(5, 4), torch.randint(0, 5, (2, 12))
    torch.testing.assert_close(gm(x, ei), layer(x, ei))


def test_user_layer_with_one_score_per_edge_fuses():
    gm = fused_graph(ScalarAttention(4).eval())
    assert primitives(gm) == ["fused_attention"]
    spec = next(n.meta["fused_attention"] for n in gm.graph.nodes
                if "fused_attention" in n.meta)
    assert "sigmoid" in spec.describe()


def test_spec_round_trips_and_rejects_bad_descriptions():
    spec = AttentionSpec(("src", "dst"), ("add", ("in", 0), ("in", 1)),
                         ("mul", ("in", 2), ("in", 0)), 1)
    assert AttentionSpec.parse(spec.to_string()) == spec
    with pytest.raises(ValueError, match="coefficient"):
        AttentionSpec(("src",), ("in", 0), ("in", 0), 0)
    with pytest.raises(ValueError, match="uses no operand"):
        AttentionSpec(("src",), ("const", 1.0), ("in", 1), 0)
    with pytest.raises(ValueError, match="alpha_axes"):
        AttentionSpec(("src",), ("in", 0), ("in", 1), -1)


def compare(model, make_inputs, backend):
    """Compiled and eager: outputs and gradients of inputs and parameters."""
    model = model.double()
    compiled = gfx.compile(model, backend=backend)
    compiled.train(model.training)
    results = []
    for fn in (compiled, model):
        inputs = make_inputs()
        out = fn(*inputs)
        out.square().sum().backward()
        results.append((out.detach(), [t.grad for t in inputs
                                       if isinstance(t, torch.Tensor) and t.is_floating_point()],
                        [p.grad.clone() for p in model.parameters()]))
        model.zero_grad()
    (o1, i1, p1), (o2, i2, p2) = results
    torch.testing.assert_close(o1, o2)
    for a, b in zip(i1 + p1, i2 + p2):
        torch.testing.assert_close(a, b)
    return compiled


def _leaf(t):
    return t.clone().requires_grad_()


needs_cpp = pytest.mark.skipif(not cpp_attention.available(),
                               reason="no C compiler with OpenMP")


@needs_cpp
@given(edge_lists(), st.integers(1, 3), st.booleans())
def test_compiled_gat_equals_eager_with_gradients(graph, heads, training):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    x = torch.randn(n, 5, dtype=torch.float64)
    compiled = compare(TwoGAT(heads).train(training), lambda: (_leaf(x), edge_index), "cpp")
    assert primitives(compiled.graph_module(x, edge_index)) == ["fused_attention"] * 2


class BipartiteGAT(torch.nn.Module):
    def __init__(self, add_self_loops):
        super().__init__()
        self.conv = gnn.GATConv((4, 3), 2, heads=3, add_self_loops=add_self_loops)

    def forward(self, x_src, x_dst, edge_index):
        return self.conv((x_src, x_dst), edge_index)


@needs_cpp
@given(edge_lists(bipartite=True), st.booleans())
def test_compiled_bipartite_gat_equals_eager(graph, loops):
    edge_index, num_src, num_dst = graph
    torch.manual_seed(1)
    xs = torch.randn(num_src, 4, dtype=torch.float64)
    xd = torch.randn(num_dst, 3, dtype=torch.float64)
    compare(BipartiteGAT(loops).eval(), lambda: (_leaf(xs), _leaf(xd), edge_index), "cpp")


@needs_cpp
@given(edge_lists())
def test_compiled_user_attention_layer_equals_eager(graph):
    edge_index, n, _ = graph
    torch.manual_seed(2)
    x = torch.randn(n, 4, dtype=torch.float64)
    compare(ScalarAttention(4).eval(), lambda: (_leaf(x), edge_index), "cpp")


@needs_cpp
def test_gat_with_edge_features_fuses_and_equals_eager():
    class EdgeGAT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.GATConv(4, 3, heads=2, edge_dim=2)

        def forward(self, x, edge_index, edge_attr):
            return self.conv(x, edge_index, edge_attr)

    torch.manual_seed(3)
    x, ei, ea = torch.randn(7, 4).double(), torch.randint(0, 7, (2, 20)), torch.randn(20, 2)
    compiled = compare(EdgeGAT().eval(), lambda: (_leaf(x), ei, _leaf(ea.double())), "cpp")
    spec = next(n.meta["fused_attention"] for n in compiled.graph_module(x, ei, ea).graph.nodes
                if "fused_attention" in n.meta)
    assert "edge" in spec.kinds


@needs_cpp
@given(edge_lists(), st.integers(1, 2))
def test_compiled_transformer_conv_equals_eager(graph, heads):
    edge_index, n, _ = graph
    torch.manual_seed(4)
    x = torch.randn(n, 4, dtype=torch.float64)
    compare(gnn.TransformerConv(4, 3, heads=heads).eval(), lambda: (_leaf(x), edge_index),
            "cpp")


@needs_cpp
def test_empty_graph_and_isolated_nodes():
    model = TwoGAT().double().eval()
    for gat in (model.conv1, model.conv2):
        gat.add_self_loops = False
    compiled = gfx.compile(model, backend="cpp")
    x = torch.randn(4, 5, dtype=torch.float64)
    empty = torch.zeros(2, 0, dtype=torch.long)
    torch.testing.assert_close(compiled(x, empty), model(x, empty))
    isolated = torch.tensor([[0, 1], [1, 1]])   # nodes 0, 2, 3 receive nothing
    torch.testing.assert_close(compiled(x, isolated), model(x, isolated))
