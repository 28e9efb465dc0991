"""The cpp kernels against explicit loops: values, gradients, layouts, errors, fallbacks."""
import warnings

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.codegen import cpp
from gfx.ops.fused import EXPR_OPS, FusedSpec, fused_message_reduce_op
from tests.codegen.fused_loops import loop_forward, loop_gradients
from tests.graphs import edge_lists

pytestmark = pytest.mark.skipif(not cpp.available(), reason="no C compiler with OpenMP")

REDUCTIONS = ("sum", "mean", "max", "min")
F64 = torch.float64
# A message from both endpoints and an edge weight, like EdgeGate's.
GATE = ("mul", ("mul", ("sigmoid", ("add", ("in", 0), ("in", 1))), ("in", 1)), ("in", 2))


def run_cpp(spec, edge_index, operands, src_row, dim_size, grad):
    """Forward and gradients through the registered op, as a compiled graph runs it."""
    leaves = [t.detach().clone().requires_grad_() for t in operands]
    out = fused_message_reduce_op(edge_index, leaves, src_row, 0, dim_size, spec.to_string(),
                                  "cpp")
    grads = torch.autograd.grad(out, leaves, grad, allow_unused=True)
    return out.detach(), list(grads)


def assert_matches_loops(spec, edge_index, operands, src_row, dim_size):
    expected = loop_forward(spec, edge_index, operands, src_row, dim_size)
    torch.manual_seed(1)
    grad = torch.randn(expected.shape, dtype=operands[0].dtype)
    _, expected_grads = loop_gradients(spec, edge_index, operands, src_row, dim_size, grad)
    out, grads = run_cpp(spec, edge_index, operands, src_row, dim_size, grad)
    torch.testing.assert_close(out, expected)
    for got, want in zip(grads, expected_grads):
        torch.testing.assert_close(got, want)


@given(edge_lists(bipartite=True), st.sampled_from(REDUCTIONS), st.sampled_from([0, 1]),
       st.integers(1, 4))
def test_gate_message_equals_loops_with_gradients(graph, reduce, src_row, width):
    edge_index, num_src, num_dst = graph
    if src_row == 1:  # edge_index[1] holds the sources
        edge_index = edge_index.flip(0)
    torch.manual_seed(0)
    x_src = torch.randn(num_src, width, dtype=F64)
    x_dst = torch.randn(num_dst, width, dtype=F64)
    weight = torch.rand(edge_index.shape[1], 1, dtype=F64)
    spec = FusedSpec(("dst", "src", "edge"), GATE, reduce)
    assert_matches_loops(spec, edge_index, [x_dst, x_src, weight], src_row, num_dst)


@given(edge_lists(), st.sampled_from(REDUCTIONS))
def test_attention_layout_broadcasts_heads_and_channels(graph, reduce):
    # GAT: alpha [E, H, 1] times x_j [N, H, C]; and a per-node scale [N, 1, C].
    edge_index, n, _ = graph
    torch.manual_seed(0)
    alpha = torch.rand(edge_index.shape[1], 3, 1, dtype=F64)
    x = torch.randn(n, 3, 5, dtype=F64)
    scale = torch.randn(n, 1, 5, dtype=F64)
    spec = FusedSpec(("edge", "src", "dst"),
                     ("mul", ("mul", ("in", 0), ("in", 1)), ("in", 2)), reduce)
    assert_matches_loops(spec, edge_index, [alpha, x, scale], 0, n)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_dimensional_and_vector_edge_operands(dtype):
    edge_index = torch.tensor([[0, 1, 2, 2, 3], [1, 1, 0, 3, 3]])
    torch.manual_seed(0)
    x, w = torch.randn(4, dtype=dtype), torch.rand(5, dtype=dtype)
    spec = FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "sum")
    assert_matches_loops(spec, edge_index, [x, w], 0, 4)
    e = torch.randn(5, 6, dtype=dtype)  # a full [E, F] edge operand
    spec = FusedSpec(("src", "edge"), ("sub", ("in", 1), ("in", 0)), "max")
    assert_matches_loops(spec, edge_index, [x.view(4, 1), e], 0, 4)


# Per op: an expression with distinct messages along every row (gradcheck needs a
# differentiable point), and the reduction it is checked under.
OP_CASES = {
    "add": (("add", ("in", 0), ("mul", ("in", 1), ("in", 2))), "sum"),
    "sub": (("sub", ("in", 0), ("in", 1)), "max"),
    "mul": (("mul", ("in", 0), ("in", 2)), "mean"),
    "div": (("div", ("in", 0), ("add", ("in", 2), ("const", 2.0))), "min"),
    "neg": (("neg", ("mul", ("in", 0), ("in", 2))), "sum"),
    "exp": (("exp", ("mul", ("in", 0), ("in", 2))), "max"),
    "sigmoid": (("sigmoid", ("add", ("in", 0), ("in", 1))), "mean"),
    "tanh": (("tanh", ("sub", ("in", 0), ("in", 1))), "min"),
    "relu": (("relu", ("add", ("in", 0), ("in", 2))), "max"),
    "leaky_relu": (("leaky_relu", ("mul", ("in", 0), ("add", ("in", 2), ("const", 1))),
                    ("const", 0.2)), "sum"),
}
# Unique (source, target) pairs, a self loop, a target without edges (4) and a
# source without edges (3).
GRADCHECK_EDGES = torch.tensor([[0, 2, 4, 1, 2, 4, 1, 0], [1, 1, 1, 2, 2, 0, 0, 3]])


def gradcheck_inputs():
    torch.manual_seed(0)
    # Sources away from 0 so that relu/leaky_relu inputs never sit on their kink.
    sign = torch.tensor([1.0, -1.0]).repeat(8)[:15].view(5, 3)
    x = (sign * (0.5 + torch.rand(5, 3))).to(F64)
    y = torch.rand(5, 3, dtype=F64)
    w = 0.2 * torch.rand(GRADCHECK_EDGES.shape[1], 1, dtype=F64)
    return [x.requires_grad_(), y.requires_grad_(), w.requires_grad_()]


def test_every_expression_op_has_a_gradcheck_case():
    assert set(OP_CASES) == set(EXPR_OPS)


@pytest.mark.parametrize("op", sorted(OP_CASES))
def test_gradcheck_each_expression_op(op):
    expr, reduce = OP_CASES[op]
    spec = FusedSpec(("src", "dst", "edge"), expr, reduce).to_string()
    assert torch.autograd.gradcheck(
        lambda *ops: fused_message_reduce_op(GRADCHECK_EDGES, list(ops), 0, 0, 5, spec, "cpp"),
        gradcheck_inputs())


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_gradcheck_each_reduction(reduce):
    spec = FusedSpec(("dst", "src", "edge"), GATE, reduce).to_string()
    y, x, w = gradcheck_inputs()
    assert torch.autograd.gradcheck(
        lambda *ops: fused_message_reduce_op(GRADCHECK_EDGES, list(ops), 0, 0, 5, spec, "cpp"),
        [y, x, w])


def test_empty_graphs_and_empty_features_give_zeros():
    spec = FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "max")
    empty = torch.zeros(2, 0, dtype=torch.long)
    x, w = torch.randn(3, 4, dtype=F64), torch.rand(0, 1, dtype=F64)
    out, grads = run_cpp(spec, empty, [x, w], 0, 3, torch.ones(3, 4, dtype=F64))
    assert torch.equal(out, torch.zeros(3, 4, dtype=F64))
    assert torch.equal(grads[0], torch.zeros_like(x)) and grads[1].shape == (0, 1)
    no_features = cpp.cpp_forward(spec, torch.tensor([[0], [1]]),
                                  [torch.randn(3, 0), torch.rand(1, 1)], 0, 0, 3)
    assert no_features.shape == (3, 0)
    assert cpp.cpp_forward(spec, empty, [torch.randn(0, 2), torch.rand(0, 1)], 0, 0, 0
                           ).shape == (0, 2)


def test_int32_edge_index_equals_int64():
    torch.manual_seed(0)
    edge_index = torch.randint(0, 6, (2, 30))
    x = torch.randn(6, 4)
    spec = FusedSpec(("src", "dst"), ("sub", ("in", 0), ("in", 1)), "mean")
    want = cpp.cpp_forward(spec, edge_index, [x, x], 0, 0, 6)
    got = cpp.cpp_forward(spec, edge_index.int(), [x, x], 0, 0, 6)
    assert torch.equal(got, want)


def test_results_are_bitwise_identical_across_thread_counts():
    torch.manual_seed(0)
    edge_index = torch.randint(0, 500, (2, 20_000))
    x, w = torch.randn(500, 16), torch.rand(20_000, 1)
    spec = FusedSpec(("edge", "src"), ("mul", ("in", 0), ("in", 1)), "sum")
    threads = torch.get_num_threads()
    results = []
    try:
        for n in (1, 2, 2):
            torch.set_num_threads(n)
            out, grads = run_cpp(spec, edge_index, [w, x], 0, 500, torch.ones(500, 16))
            results.append([out, *grads])
    finally:
        torch.set_num_threads(threads)
    for other in results[1:]:
        assert all(torch.equal(a, b) for a, b in zip(results[0], other))


def test_out_of_range_indices_are_refused_before_any_kernel_runs():
    spec = FusedSpec(("src", "dst"), ("add", ("in", 0), ("in", 1)), "sum")
    x, y = torch.randn(3, 2), torch.randn(5, 2)
    with pytest.raises(IndexError, match=r"edge_index\[0\] contains 3 but operand 0 \(src\)"):
        cpp.cpp_forward(spec, torch.tensor([[3], [0]]), [x, y], 0, 0, 5)
    with pytest.raises(IndexError, match=r"edge_index\[1\] \(targets\) contains 4 but "
                                         r"dim_size=4"):
        cpp.cpp_forward(spec, torch.tensor([[0], [4]]), [x, y], 0, 0, 4)
    with pytest.raises(IndexError, match="negative value -1"):
        cpp.cpp_forward(spec, torch.tensor([[-1], [0]]), [x, y], 0, 0, 5)


def test_unsupported_layouts_fall_back_to_the_reference_with_one_warning():
    cpp.reset_stats()
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 2]])
    spec = FusedSpec(("src",), ("mul", ("in", 0), ("const", 3)), "sum")
    x = torch.randint(-4, 5, (4, 3)).float()  # 3 nodes along axis 1; exact in bfloat16
    expected = loop_forward(spec, edge_index, [x.t()], 0, 3)
    with pytest.warns(cpp.CppFallbackWarning, match="dim=1 is not the first axis"):
        out = cpp.cpp_forward(spec, edge_index, [x], 0, 1, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same spec and reason warn once
        again = cpp.cpp_forward(spec, edge_index, [x], 0, 1, 3)
    torch.testing.assert_close(out, expected.t())
    torch.testing.assert_close(again, expected.t())
    with pytest.warns(cpp.CppFallbackWarning, match="float32 or float64"):
        half = cpp.cpp_forward(spec, edge_index, [x.t().to(torch.bfloat16)], 0, 0, 3)
    torch.testing.assert_close(half.float(), expected)
    assert cpp.STATS.fallbacks == {"dim": 2, "dtype": 1}
    assert cpp.STATS.launches == 0


def test_fallback_backward_equals_loops():
    # A rank-1 "edge" operand broadcasts along features, not edges: the kernels refuse.
    spec = FusedSpec(("src", "edge"), ("add", ("in", 0), ("in", 1)), "max")
    edge_index = torch.tensor([[0, 1, 2, 0], [1, 2, 2, 2]])
    x, bias = torch.randn(3, 2, dtype=F64), torch.randn(2, dtype=F64)
    grad = torch.randn(3, 2, dtype=F64)
    with pytest.warns(cpp.CppFallbackWarning, match="ranks"):
        out, grads = run_cpp(spec, edge_index, [x, bias], 0, 3, grad)
    expanded = bias.expand(4, 2)
    want_out, want = loop_gradients(spec, edge_index, [x, expanded], 0, 3, grad)
    torch.testing.assert_close(out, want_out)
    torch.testing.assert_close(grads[0], want[0])
    torch.testing.assert_close(grads[1], want[1].sum(0))


@pytest.mark.parametrize("reduce, sign", [("max", 1.0), ("min", -1.0)])
def test_tied_extrema_share_the_gradient_evenly(reduce, sign):
    # Target 0 hears sources 0, 1, 2 and, twice, 0 again: channel 0 ties between
    # sources 0 (twice) and 1, channel 1 between sources 0 (twice) and 2.
    x = sign * torch.tensor([[1.0, 5.0], [1.0, 2.0], [0.0, 5.0]], dtype=F64)
    edge_index = torch.tensor([[0, 1, 2, 0], [0, 0, 0, 0]])
    spec = FusedSpec(("src",), ("in", 0), reduce)
    out, (grad,) = run_cpp(spec, edge_index, [x], 0, 2, torch.ones(2, 2, dtype=F64))
    assert torch.equal(out, sign * torch.tensor([[1.0, 5.0], [0.0, 0.0]], dtype=F64))
    third = 1.0 / 3.0
    expected = torch.tensor([[2 * third, 2 * third], [third, 0.0], [0.0, third]], dtype=F64)
    torch.testing.assert_close(grad, expected)


def test_operands_that_need_no_gradient_cost_no_kernel():
    torch.manual_seed(0)
    edge_index = torch.randint(0, 6, (2, 25))
    weight, x = torch.rand(25, 1, dtype=F64), torch.randn(6, 4, dtype=F64)
    spec = FusedSpec(("edge", "src"), ("mul", ("in", 0), ("in", 1)), "sum")
    grad = torch.randn(6, 4, dtype=F64)
    cpp.reset_stats()
    leaf = x.clone().requires_grad_()
    out = fused_message_reduce_op(edge_index, [weight, leaf], 0, 0, 6, spec.to_string(), "cpp")
    out.backward(grad)
    assert cpp.STATS.launches == 2  # the forward and x's gradient only
    _, want = loop_gradients(spec, edge_index, [weight, x], 0, 6, grad)
    torch.testing.assert_close(leaf.grad, want[1])
    direct = cpp.cpp_backward(spec, edge_index, [weight, x], 0, 0, 6, out.detach(), grad)
    torch.testing.assert_close(direct[0], want[0])
    torch.testing.assert_close(direct[1], want[1])
