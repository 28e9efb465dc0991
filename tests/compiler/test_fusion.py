"""The fusion pass: one fused node per message-passing reduction, equal to eager."""
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx.nn as gnn
from gfx.compile import build_graph
from gfx.ops.fused import FusedSpec
from gfx.passes.fusion import ELEMENTWISE, fuse_message_reduce
from gfx.pipeline import CLEANUP, Pass, run_passes
from tests.compiler.models import GCN, SAGE, EdgeGate, ReverseFlow
from tests.graphs import edge_lists


def fused_graph(model):
    gm = build_graph(model.eval())
    return run_passes(gm, [Pass("fuse", fuse_message_reduce("reference"))] + CLEANUP,
                      check=True)


def primitive_targets(gm):
    return [str(n.target).split(".")[1] for n in gm.graph.nodes
            if n.op == "call_function" and str(n.target).startswith("gfx.")]


def specs(gm):
    return [n.meta["fused"] for n in gm.graph.nodes if "fused" in n.meta]


def test_gcn_fuses_to_one_node_per_layer():
    gm = fused_graph(GCN())
    assert primitive_targets(gm) == ["fused_message_reduce"] * 2
    spec = specs(gm)[0]
    assert spec.reduce == "sum" and sorted(spec.kinds) == ["edge", "src"]
    assert spec.expr[0] == "mul"


def test_user_message_with_both_endpoints_fuses():
    gm = fused_graph(EdgeGate(4))
    (spec,) = specs(gm)
    assert sorted(spec.kinds) == ["dst", "edge", "src"]
    assert "sigmoid" in spec.describe()
    assert "gather" not in primitive_targets(gm) and "scatter" not in primitive_targets(gm)


def test_values_used_outside_the_message_are_not_fused():
    import gfx.ops

    class Net(torch.nn.Module):
        def forward(self, x, edge_index):
            x_j = gfx.ops.gather(x, edge_index[0])
            out = gfx.ops.scatter(x_j * 2, edge_index[1], 0, x.shape[0], "sum")
            return out, x_j.sum()  # x_j is also an output: it must stay materialised

    gm = fused_graph(Net())
    assert "fused_message_reduce" not in primitive_targets(gm)
    x, ei = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    torch.testing.assert_close(gm(x, ei), Net()(x, ei))


def run_both(model, *inputs):
    model = model.double().eval()
    gm = fused_graph(model)
    grads = []
    for fn in (gm, model):
        leaves = [t.detach().clone().requires_grad_(t.is_floating_point())
                  if isinstance(t, torch.Tensor) else t for t in inputs]
        out = fn(*leaves)
        out.square().sum().backward()
        grads.append((out.detach(), [t.grad for t in leaves if isinstance(t, torch.Tensor)
                                     and t.is_floating_point()],
                      [p.grad.clone() for p in model.parameters()]))
        model.zero_grad()
    (out_f, in_f, par_f), (out_e, in_e, par_e) = grads
    torch.testing.assert_close(out_f, out_e)
    for a, b in zip(in_f + par_f, in_e + par_e):
        torch.testing.assert_close(a, b)


@given(edge_lists(), st.sampled_from(["sum", "mean", "max", "min"]))
def test_fused_user_layer_equals_eager_with_gradients(graph, aggr):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    run_both(EdgeGate(3, aggr), torch.randn(n, 3, dtype=torch.float64), edge_index,
             torch.rand(edge_index.shape[1], dtype=torch.float64))


@given(edge_lists())
def test_fused_gcn_sage_and_reverse_flow_equal_eager(graph):
    edge_index, n, _ = graph
    x = torch.randn(n, 4, dtype=torch.float64)
    run_both(GCN(), x, edge_index)
    run_both(SAGE(aggr="mean"), x, edge_index)
    run_both(ReverseFlow(), x[:, :3], edge_index)


def test_spec_round_trips_and_rejects_bad_expressions():
    import pytest
    spec = FusedSpec(("src", "edge"), ("mul", ("in", 0), ("leaky_relu", ("in", 1), ("const", 0.2))),
                     "max")
    assert FusedSpec.parse(spec.to_string()) == spec
    with pytest.raises(ValueError, match="unknown op"):
        FusedSpec(("src",), ("cosh", ("in", 0)), "sum")
    with pytest.raises(ValueError, match="out of range"):
        FusedSpec(("src",), ("in", 3), "sum")


def test_every_elementwise_entry_names_a_known_expression_op():
    from gfx.ops.fused import EXPR_OPS
    assert set(ELEMENTWISE.values()) <= set(EXPR_OPS)
