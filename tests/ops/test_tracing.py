"""The primitives under ``torch.fx``, ``torch.compile`` and ``torch.library.opcheck``.

``propagate`` is a small GCN-like layer made only of primitives and elementwise torch
ops: weighted neighbour sum (gather -> multiply -> scatter), attention scores normalised
per destination (segment_softmax), an attention-weighted max, and a CSR mean over the
destination-sorted edges (segment).
"""
from __future__ import annotations

import pytest
import torch

import gfx.ops as ops

NUM_NODES = 6
# Destination-sorted edges (node 3 and node 5 receive nothing); PTR is the CSR of EDGES[1].
EDGES = torch.tensor([[1, 2, 0, 4, 5, 0, 1, 3, 3], [0, 0, 1, 1, 1, 2, 2, 4, 4]])
PTR = torch.tensor([0, 2, 5, 7, 7, 9, 9])


def propagate(x, edge_index, edge_weight, ptr):
    """One message-passing step built from the four primitives."""
    num_nodes = x.shape[0]
    src, dst = edge_index[0], edge_index[1]
    x_j = ops.gather(x, src)
    summed = ops.scatter(x_j * edge_weight.unsqueeze(-1), dst, 0, num_nodes, "sum")
    score = (ops.gather(summed, dst) * x_j).sum(-1)
    alpha = ops.segment_softmax(score, dst, num_segments=num_nodes)
    peak = ops.scatter(alpha.unsqueeze(-1) * x_j, dst, 0, num_nodes, "max")
    mean = ops.segment(x_j, ptr, 0, "mean")
    tied = ops.segment_softmax(score, ptr=ptr)
    return summed + peak + mean, alpha + tied


def _inputs(seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(NUM_NODES, 4, generator=gen, requires_grad=True)
    weight = torch.rand(EDGES.shape[1], generator=gen, requires_grad=True)
    return x, EDGES, weight, PTR


def _run_with_grads(fn, seed=0):
    x, edges, weight, ptr = _inputs(seed)
    nodes, edge_values = fn(x, edges, weight, ptr)
    (nodes.square().sum() + (edge_values * torch.arange(edges.shape[1])).sum()).backward()
    return nodes.detach(), edge_values.detach(), x.grad, weight.grad


def _assert_same(got, expected):
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_compile_eager_backend_fullgraph_matches_eager():
    torch._dynamo.reset()
    compiled = torch.compile(propagate, fullgraph=True, backend="eager")
    _assert_same(_run_with_grads(compiled), _run_with_grads(propagate))
    _assert_same(_run_with_grads(compiled, seed=1), _run_with_grads(propagate, seed=1))


def test_compile_aot_eager_dynamic_matches_eager():
    """Fake kernels and the autograd rules are traced by AOTAutograd with symbolic sizes."""
    torch._dynamo.reset()
    compiled = torch.compile(propagate, fullgraph=True, backend="aot_eager", dynamic=True)
    _assert_same(_run_with_grads(compiled), _run_with_grads(propagate))


@pytest.mark.slow  # about 20 s with a cold inductor cache on 2 cores
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_compile_inductor_fullgraph_matches_eager():
    torch._dynamo.reset()
    compiled = torch.compile(propagate, fullgraph=True, backend="inductor")
    _assert_same(_run_with_grads(compiled), _run_with_grads(propagate))


def test_compiled_call_still_checks_index_values():
    """Value checks live in the real kernels, so they run in compiled code too."""
    torch._dynamo.reset()
    compiled = torch.compile(propagate, fullgraph=True, backend="eager")
    x, edges, weight, ptr = _inputs()
    bad = edges.clone()
    bad[1, 0] = NUM_NODES
    with pytest.raises(IndexError, match="'index' contains 6"):
        compiled(x, bad, weight, ptr)


def test_fx_symbolic_trace_records_gfx_ops():
    traced = torch.fx.symbolic_trace(propagate)
    targets = [node.target for node in traced.graph.nodes if node.op == "call_function"]
    gfx_targets = {str(t) for t in targets if str(t).startswith("gfx.")}
    assert gfx_targets == {"gfx.gather.default", "gfx.scatter.default",
                           "gfx.segment.default", "gfx.segment_softmax.default"}
    assert targets.count(torch.ops.gfx.gather.default) == 2
    assert targets.count(torch.ops.gfx.scatter.default) == 2
    assert targets.count(torch.ops.gfx.segment_softmax.default) == 2
    # Non-negative dims stay constants in the graph: no rank arithmetic is traced.
    assert all(n.args[2] == 0 for n in traced.graph.nodes
               if n.target in (torch.ops.gfx.gather.default, torch.ops.gfx.scatter.default))
    _assert_same(_run_with_grads(traced), _run_with_grads(propagate))


def test_fx_trace_with_negative_dims_matches_eager():
    """A traced graph gives the same values and gradients for ``dim=-1`` as eager calls."""
    def last_axis(x, index, ptr):
        picked = ops.gather(x, index, -1)
        reduced = ops.scatter(picked, index, -1, 4, "max") + ops.segment(x, ptr, -1, "mul")
        return reduced.sum(-1, keepdim=True) * ops.segment_softmax(picked, index, dim=-1,
                                                                   num_segments=4)

    traced = torch.fx.symbolic_trace(last_axis)
    index, ptr = torch.tensor([3, 0, 3, 1]), torch.tensor([0, 1, 1, 3, 4])
    results = []
    for fn in (last_axis, traced):
        x = torch.randn(2, 4, generator=torch.Generator().manual_seed(0), requires_grad=True)
        out = fn(x, index, ptr)
        out.sum().backward()
        results.append((out.detach(), x.grad))
    _assert_same(results[1], results[0])


def test_fx_trace_without_dim_size_is_refused():
    def no_size(x, index):
        return ops.scatter(x, index)

    with pytest.raises(ValueError, match="'dim_size' must be given"):
        torch.fx.symbolic_trace(no_size)


def _double(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


def _opcheck_cases():
    index = torch.tensor([2, 0, 2, 1, 0])
    ptr = torch.tensor([0, 2, 2, 5])
    yield "gather", torch.ops.gfx.gather.default, (_double(3, 4), index, 0)
    yield "gather dim 1 int32", torch.ops.gfx.gather.default, (
        _double(4, 3), index.int(), 1)
    for reduce in ("sum", "mean", "max", "min", "mul"):
        yield f"scatter {reduce}", torch.ops.gfx.scatter.default, (
            _double(5, 3), index, 0, 4, reduce)
        yield f"segment {reduce}", torch.ops.gfx.segment.default, (
            _double(2, 5), ptr, 1, reduce)
    yield "scatter int32", torch.ops.gfx.scatter.default, (_double(5), index.int(), 0, 3, "sum")
    yield "segment_softmax", torch.ops.gfx.segment_softmax.default, (
        _double(5, 2), index, 0, 4)
    yield "segment_softmax dim 1", torch.ops.gfx.segment_softmax.default, (
        _double(3, 5), index.int(), 1, 3)


OPCHECK_CASES = {name: (op, args) for name, op, args in _opcheck_cases()}


@pytest.mark.parametrize("name", list(OPCHECK_CASES))
def test_opcheck(name):
    op, args = OPCHECK_CASES[name]
    results = torch.library.opcheck(op, args)
    assert set(results.values()) == {"SUCCESS"}, results


def test_fake_kernels_check_structure():
    """Under FakeTensorMode (compile, export) the fake kernels refuse bad structure."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        src = torch.empty(5, 3)
        with pytest.raises(ValueError, match="'index' has 4 entries"):
            torch.ops.gfx.scatter(src, torch.zeros(4, dtype=torch.long), 0, 2, "sum")
        with pytest.raises(TypeError, match="'index' must be int64 or int32"):
            torch.ops.gfx.gather(src, torch.zeros(4), 0)
        with pytest.raises(ValueError, match="'ptr' must be 1-D"):
            torch.ops.gfx.segment(src, torch.zeros(2, 2, dtype=torch.long), 0, "sum")
        with pytest.raises(ValueError, match="'index' must be 1-D"):
            torch.ops.gfx.segment_softmax(src, torch.zeros(5, 1, dtype=torch.long), 0, 2)

