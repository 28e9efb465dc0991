"""Lowering: primitives replace layers, and the lowered graph equals eager."""
import os
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx
import gfx.nn as gnn
from gfx.compile import build_graph
from gfx.printing import format_ir
from tests.compiler.models import GCN, SAGE, Bipartite, EdgeGate, ReverseFlow
from tests.graphs import edge_lists

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def targets(gm):
    return [str(n.target) for n in gm.graph.nodes if n.op == "call_function"]


def test_no_message_passing_module_survives_lowering():
    low = gfx.lower(gfx.capture(GCN()))
    modules = [type(low.get_submodule(n.target)).__name__ for n in low.graph.nodes
               if n.op == "call_module"]
    assert set(modules) <= {"Linear"}
    assert targets(low).count("gfx.gather.default") == 2
    assert targets(low).count("gfx.scatter.default") == 2


def test_levels_of_primitives():
    low = gfx.lower(gfx.capture(EdgeGate(3)))
    for node in low.graph.nodes:
        if str(node.target).startswith("gfx.gather"):
            assert node.meta["level"] == "edge"
        if str(node.target).startswith("gfx.scatter"):
            assert node.meta["level"] == "node"


def test_lowered_nodes_carry_the_layer_call_source():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.SAGEConv(3, 3)

        def forward(self, x, edge_index):
            return self.conv(x, edge_index)  # the line users look for

    low = gfx.lower(gfx.capture(Net()))
    scatter = next(n for n in low.graph.nodes if str(n.target).startswith("gfx.scatter"))
    assert "the line users look for" in scatter.meta["source"]


def check_equal(model, *inputs):
    model.eval()
    low = gfx.lower(gfx.capture(model))
    torch.testing.assert_close(low(*inputs), model(*inputs))


@given(edge_lists(), st.sampled_from(["sum", "mean", "max", "min"]))
def test_user_layer_lowered_equals_eager(graph, aggr):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    model = EdgeGate(3, aggr).double()
    check_equal(model, torch.randn(n, 3, dtype=torch.float64), edge_index,
                torch.rand(edge_index.shape[1], dtype=torch.float64))


@given(edge_lists())
def test_gcn_and_sage_lowered_equal_eager(graph):
    edge_index, n, _ = graph
    x = torch.randn(n, 4)
    check_equal(GCN(), x, edge_index)
    check_equal(SAGE(aggr="max"), x, edge_index)


@given(edge_lists(bipartite=True))
def test_bipartite_lowered_equals_eager(graph):
    edge_index, n_src, n_dst = graph
    check_equal(Bipartite(), torch.randn(n_src, 4), torch.randn(n_dst, 2), edge_index)


@given(edge_lists())
def test_target_to_source_lowered_equals_eager(graph):
    edge_index, n, _ = graph
    check_equal(ReverseFlow(), torch.randn(n, 3), edge_index)


def test_explain_mask_is_lowered_faithfully():
    layer = ReverseFlow()
    layer.explain = True
    layer._edge_mask = torch.tensor([0.5, -1.0, 2.0])
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    check_equal(layer, x, ei)


def test_traceable_hooks_are_lowered_and_untraceable_ones_refused():
    layer = ReverseFlow()
    layer.register_message_forward_hook(lambda m, inp, out: out * 3)
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    check_equal(layer, x, ei)

    def data_dependent(module, inputs, out):
        return out if out.sum() > 0 else -out

    layer.register_message_forward_hook(data_dependent)
    with pytest.raises(gfx.CaptureError, match="out.sum"):
        gfx.lower(gfx.capture(layer))


def test_lowered_graph_trains_like_eager():
    torch.manual_seed(0)
    model = SAGE().double()
    x = torch.randn(6, 4, dtype=torch.float64)
    ei = torch.tensor([[0, 1, 2, 3, 4, 5, 0], [1, 2, 3, 4, 5, 0, 3]])
    low = gfx.lower(gfx.capture(model))
    low(x, ei).square().sum().backward()
    eager_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(x, ei).square().sum().backward()
    for got, want in zip(eager_grads, [p.grad for p in model.parameters()]):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("name,factory", [
    ("gcn_conv", lambda: gnn.GCNConv(4, 8)),
    ("sage_conv", lambda: gnn.SAGEConv(4, 8)),
    ("user_edge_gate", lambda: EdgeGate(4)),
])
def test_golden_lowered_ir(name, factory):
    """The printed IR after lowering and clean-up, reviewed like code (tests/golden/)."""
    torch.manual_seed(0)
    text = format_ir(build_graph(factory().eval()))
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("GFX_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"lowered IR of {name} changed; see {path}"
