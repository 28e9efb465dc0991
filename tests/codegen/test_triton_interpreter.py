"""Generated Triton kernels run by Triton's CPU interpreter: equal to eager and the reference.

The interpreter has to be switched on before triton is imported, so this module's tests
run in a child pytest process started with ``TRITON_INTERPRET=1`` by
:func:`test_in_the_interpreter`; in the parent process they show as skipped.  Graphs are
tiny (the interpreter runs each program in Python).
"""
import contextlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode

import gfx
from gfx.codegen import triton_backend as tb
from gfx.ops.fused import (EXPR_OPS, FusedSpec, fused_message_reduce_op, reference_backward,
                           reference_forward)
from tests.compiler.models import GCN, SAGE, EdgeGate
from tests.graphs import edge_lists

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                       reason="triton is not installed"),
    # masked-off lanes hold zeros, which the interpreter divides like any other value
    pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning"),
]
CHILD = os.environ.get("TRITON_INTERPRET") == "1"
in_child = pytest.mark.skipif(not CHILD, reason="runs in the interpreter child process "
                                                "(test_in_the_interpreter)")
REPO = Path(__file__).resolve().parents[2]
REDUCTIONS = ["sum", "mean", "max", "min"]


@pytest.mark.slow
@pytest.mark.skipif(CHILD, reason="this is the child process")
def test_in_the_interpreter(tmp_path):
    # the child is a plain pytest run: no xdist or options inherited from this one
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(TRITON_INTERPRET="1", GFX_CACHE_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(Path(__file__).relative_to(REPO)), "-q", "-x",
         "-p", "no:cacheprovider", "-k", "not test_in_the_interpreter"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    report = result.stdout[-8000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "skipped" not in summary, report


@contextlib.contextmanager
def generated_kernels_only():
    """Fail if anything ran on the reference backend instead of the generated kernels."""
    tb.reset_stats()
    yield
    assert tb.STATS.fallbacks == {}
    assert tb.STATS.launches.get("forward", 0) > 0


@pytest.fixture
def kernels_only():
    with generated_kernels_only():
        yield


# ---------------------------------------------------------------- end to end

def run_and_compare(model, compiled, *inputs):
    """Output and gradients (float inputs and parameters) of ``compiled`` vs eager ``model``."""
    results = []
    for fn in (compiled, model):
        leaves = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in inputs]
        out = fn(*leaves)
        weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view(out.shape)
        (out * weights).sum().backward()
        results.append([out.detach()] + [t.grad for t in leaves if t.is_floating_point()] +
                       [p.grad.clone() for p in model.parameters()])
        model.zero_grad()
    for got, expected in zip(*results):
        torch.testing.assert_close(got, expected)


def compiled_pair(model):
    model = model.double().eval()
    return model, gfx.compile(model, backend="triton")


if CHILD:
    MODELS = {name: compiled_pair(model) for name, model in [
        ("gcn", GCN()), ("sage_mean", SAGE(aggr="mean")), ("sage_max", SAGE(aggr="max")),
        *[(f"gate_{aggr}", EdgeGate(3, aggr)) for aggr in REDUCTIONS]]}


@in_child
def test_backend_auto_picks_triton_in_the_interpreter():
    assert gfx.compile(GCN(), backend="auto").backend == "triton"


@in_child
@settings(max_examples=5)
@given(edge_lists(max_nodes=5, max_edges=12))
def test_gcn_and_sage_equal_eager(graph):
    edge_index, n, _ = graph
    x = torch.randn(n, 4, dtype=torch.float64)
    with generated_kernels_only():
        for name in ("gcn", "sage_mean", "sage_max"):
            run_and_compare(*MODELS[name], x, edge_index)


@in_child
@settings(max_examples=6)
@given(edge_lists(max_nodes=5, max_edges=12), st.sampled_from(REDUCTIONS))
def test_user_layer_equals_eager(graph, aggr):
    edge_index, n, _ = graph
    x = torch.randn(n, 3, dtype=torch.float64)
    edge_attr = torch.rand(edge_index.shape[1], dtype=torch.float64)
    with generated_kernels_only():
        run_and_compare(*MODELS[f"gate_{aggr}"], x, edge_index, edge_attr)


@in_child
@pytest.mark.parametrize("aggr", REDUCTIONS)
def test_user_layer_every_reduction_on_a_fixed_graph(kernels_only, aggr):
    # an isolated node (4), a self loop (2->2), a duplicate edge (0->1 twice)
    edge_index = torch.tensor([[0, 0, 1, 2, 3, 2], [1, 1, 2, 2, 0, 0]])
    x = torch.randn(5, 3, dtype=torch.float64)
    run_and_compare(*MODELS[f"gate_{aggr}"], x, edge_index,
                    torch.rand(6, dtype=torch.float64))


# ---------------------------------------------------------------- gradcheck of the fused op

GRAPH = torch.tensor([[0, 1, 2, 3, 3, 0, 2, 1], [1, 2, 0, 2, 1, 1, 2, 1]])  # node 3: no in-edge
SRC_DST_EDGE = ("src", "dst", "edge")


def op_expression(op):
    """An expression that exercises ``op`` (in0: src, in1: dst > 0, in2: edge > 0)."""
    x, y, w = ("in", 0), ("in", 1), ("in", 2)
    if op == "leaky_relu":
        return ("leaky_relu", ("sub", x, y), ("const", 0.2))
    if EXPR_OPS[op][0] == 2:
        return ("mul", (op, x, y), w)
    return (op, ("mul", x, w))


ALL_OPS = ("sub", ("leaky_relu", ("add", ("tanh", ("mul", ("in", 0), ("in", 1))),
                                  ("div", ("exp", ("neg", ("in", 2))),
                                   ("add", ("sigmoid", ("in", 0)), ("const", 0.5)))),
                   ("const", 0.2)),
           ("relu", ("in", 1)))


def gradcheck_fused(spec):
    gen = torch.Generator().manual_seed(0)
    operands = (torch.randn(4, 3, dtype=torch.float64, generator=gen),
                torch.rand(4, 3, dtype=torch.float64, generator=gen) + 0.5,
                torch.rand(8, 1, dtype=torch.float64, generator=gen) + 0.5)
    operands = tuple(t.requires_grad_() for t in operands)
    text = spec.to_string()
    assert torch.autograd.gradcheck(
        lambda *ops: fused_message_reduce_op(GRAPH, list(ops), 0, 0, 4, text, "triton"),
        operands, fast_mode=True, check_undefined_grad=False)


@in_child
@pytest.mark.parametrize("op", sorted(EXPR_OPS))
def test_gradcheck_each_expression_op(kernels_only, op):
    # relu is flat below zero: a max/min of several clipped messages would tie there
    reduce = "sum" if op == "relu" else REDUCTIONS[sorted(EXPR_OPS).index(op) % 4]
    gradcheck_fused(FusedSpec(SRC_DST_EDGE, op_expression(op), reduce))


@in_child
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_gradcheck_each_reduction(kernels_only, reduce):
    gradcheck_fused(FusedSpec(SRC_DST_EDGE, ALL_OPS, reduce))


# ---------------------------------------------------------------- layouts vs the reference

def compare_with_reference(spec, edge_index, operands, src_row, dim_size, dtype, tol):
    operands = [t.to(dtype) for t in operands]
    got = tb.triton_forward(spec, edge_index, operands, src_row, 0, dim_size)
    # The reference runs in float64 on the same (rounded) inputs: it is the exact answer.
    exact = [t.double() for t in operands]
    expected = reference_forward(spec, edge_index, exact, src_row, 0, dim_size)
    torch.testing.assert_close(got.double(), expected, **tol)
    grad = torch.randn(expected.shape, dtype=torch.float64)
    grads = tb.triton_backward(spec, edge_index, operands, src_row, 0, dim_size, got,
                               grad.to(dtype))
    wanted = reference_backward(spec, edge_index, exact, src_row, 0, dim_size,
                                got.double(), grad)
    for g, w, t in zip(grads, wanted, operands):
        assert g.dtype == t.dtype and g.shape == t.shape
        torch.testing.assert_close(g.double(), w, **tol)


E = GRAPH.shape[1]
LAYOUTS = {
    # attention: [E, H, 1] * x_j [N, H, C]
    "heads": (FusedSpec(("edge", "src"), ("mul", ("in", 0), ("in", 1)), "sum"),
              [torch.randn(E, 2, 1), torch.randn(4, 2, 3)]),
    # all three kinds, three broadcast patterns over two feature axes
    "mixed": (FusedSpec(SRC_DST_EDGE, ALL_OPS, "max"),
              [torch.randn(4, 2, 3), torch.randn(4, 1, 3), torch.randn(E, 2, 1)]),
    # broadcast along the outer feature axis
    "outer": (FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "min"),
              [torch.randn(4, 2, 3), torch.randn(E, 1, 3)]),
    # an expression of the target only: every message into a node ties under max
    "target only": (FusedSpec(("dst",), ("mul", ("in", 0), ("const", 3)), "max"),
                    [torch.randn(4, 2)]),
    # more features than one block
    "wide": (FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "mean"),
             [torch.randn(4, 130), torch.rand(E, 1)]),
}
PRECISION = {torch.float64: {}, torch.float32: dict(rtol=1e-5, atol=1e-5),
             torch.float16: dict(rtol=2e-3, atol=4e-3)}


@in_child
@pytest.mark.parametrize("name", sorted(LAYOUTS))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16])
def test_layouts_and_dtypes_equal_the_reference(kernels_only, name, dtype):
    spec, operands = LAYOUTS[name]
    compare_with_reference(spec, GRAPH, operands, 0, 4, dtype, PRECISION[dtype])


@in_child
def test_bfloat16_runs_with_float32_accumulation(kernels_only):
    spec, operands = LAYOUTS["heads"]
    # the interpreter converts to bfloat16 by truncation, hence one unit of rounding
    compare_with_reference(spec, GRAPH, operands, 0, 4, torch.bfloat16,
                           dict(rtol=2e-2, atol=2e-2))


@in_child
def test_reverse_flow_bipartite_and_int32_indices(kernels_only):
    # sources are edge_index[1] (src_row=1); 5 source rows, 3 targets, more dst rows
    spec = FusedSpec(SRC_DST_EDGE, ALL_OPS, "mean")
    edge_index = torch.tensor([[0, 2, 1, 1, 0], [4, 0, 3, 3, 1]], dtype=torch.int32)
    operands = [torch.randn(5, 2), torch.randn(6, 2), torch.randn(5, 1)]
    compare_with_reference(spec, edge_index, operands, 1, 3, torch.float64, {})


@in_child
def test_an_empty_graph_gives_zeros(kernels_only):
    spec = FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "max")
    edge_index = torch.zeros(2, 0, dtype=torch.long)
    operands = [torch.randn(3, 2, dtype=torch.float64), torch.rand(0, 1, dtype=torch.float64)]
    out = tb.triton_forward(spec, edge_index, operands, 0, 0, 3)
    assert torch.equal(out, torch.zeros(3, 2, dtype=torch.float64))
    grads = tb.triton_backward(spec, edge_index, operands, 0, 0, 3, out, torch.ones(3, 2))
    assert torch.equal(grads[0], torch.zeros(3, 2, dtype=torch.float64))


# ---------------------------------------------------------------- caching and memory

@in_child
def test_kernels_are_built_once_per_spec_never_per_graph_size(kernels_only):
    tb.forget_loaded_kernels()
    spec = FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "sum")
    for n, e in [(3, 4), (3, 4), (5, 9), (2, 1)]:
        edge_index = torch.stack([torch.arange(e) % n, (torch.arange(e) * 2 + 1) % n])
        operands = [torch.randn(n, 4, dtype=torch.float64), torch.rand(e, 1, dtype=torch.float64)]
        got = tb.triton_forward(spec, edge_index, operands, 0, 0, n)
        torch.testing.assert_close(got, reference_forward(spec, edge_index, operands, 0, 0, n))
    assert tb.STATS.renders == 1 and tb.STATS.launches["forward"] == 4
    # another dtype is another module
    tb.triton_forward(spec, edge_index, [t.float() for t in operands], 0, 0, n)
    assert tb.STATS.renders == 2


class AllocationLog(TorchDispatchMode):
    """Records the element count of every tensor a torch op produces outside kernels."""

    def __init__(self):
        super().__init__()
        self.sizes = []
        self.paused = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor) and not self.paused:
                self.sizes.append(t.numel())
        return out


@in_child
@pytest.mark.parametrize("backend, materialises", [("triton", False), ("reference", True)])
def test_no_edges_by_features_tensor_forward_or_backward(monkeypatch, backend, materialises):
    n, e, f = 4, 40, 8
    edge_index = torch.stack([torch.arange(e) % n, torch.arange(e) * 3 % n])
    x = torch.randn(n, f, dtype=torch.float64, requires_grad=True)
    w = torch.rand(e, 1, dtype=torch.float64, requires_grad=True)
    spec = FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "max").to_string()
    log = AllocationLog()
    launch = tb._launch

    def launch_unlogged(*args, **kwargs):
        # the interpreter copies argument storages to and from the "device" (byte views)
        log.paused = True
        try:
            launch(*args, **kwargs)
        finally:
            log.paused = False

    monkeypatch.setattr(tb, "_launch", launch_unlogged)
    with log:
        out = fused_message_reduce_op(edge_index, [x, w], 0, 0, n, spec, backend)
        out.backward(torch.ones_like(out))
    # the reference gathers x to [E, F]: the check can fail
    assert (max(log.sizes) >= e * f) is materialises, sorted(log.sizes)[-5:]
