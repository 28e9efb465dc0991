"""The triton backend on a real CUDA device: compiled models equal eager (skipped without one)."""
import importlib.util

import pytest
import torch

import gfx
from gfx.codegen import triton_backend as tb
from gfx.ops.fused import FusedSpec, reference_backward, reference_forward
from tests.compiler.models import GCN, SAGE, EdgeGate

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                       reason="triton is not installed"),
]


def random_graph(n, e, seed):
    gen = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, n, (2, e), generator=gen)
    # an isolated node and a duplicated edge
    edge_index[:, edge_index[1] == n - 1] = 0
    return torch.cat([edge_index, edge_index[:, :3]], dim=1).cuda()


def compare_on_cuda(model, *inputs, tol=None):
    model = model.cuda().eval()
    compiled = gfx.compile(model, backend="triton")
    assert compiled.backend == "triton"
    results = []
    for fn in (compiled, model):
        leaves = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in inputs]
        out = fn(*leaves)
        weights = torch.linspace(-1, 1, out.numel(), device="cuda").view(out.shape)
        (out * weights.to(out.dtype)).sum().backward()
        results.append([out.detach()] + [t.grad for t in leaves if t.is_floating_point()] +
                       [p.grad.clone() for p in model.parameters()])
        model.zero_grad()
    for got, expected in zip(*results):
        torch.testing.assert_close(got, expected, **(tol or {}))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_compiled_models_equal_eager_on_cuda(dtype):
    tb.reset_stats()
    edge_index = random_graph(50, 300, seed=0)
    x = torch.randn(50, 4, device="cuda", dtype=dtype)
    for model in (GCN(), SAGE(aggr="mean"), SAGE(aggr="max")):
        compare_on_cuda(model.to(dtype), x, edge_index)
    for aggr in ("sum", "mean", "max", "min"):
        edge_attr = torch.rand(edge_index.shape[1], device="cuda", dtype=dtype)
        compare_on_cuda(EdgeGate(4, aggr).to(dtype), x, edge_index, edge_attr)
    assert tb.STATS.fallbacks == {} and tb.STATS.launches["forward"] > 0


def test_half_precision_forward_and_backward_on_cuda():
    spec = FusedSpec(("edge", "src"), ("mul", ("in", 0), ("in", 1)), "sum")
    edge_index = random_graph(40, 200, seed=1)
    operands = [torch.rand(edge_index.shape[1], 1, device="cuda"),
                torch.randn(40, 64, device="cuda")]
    for dtype in (torch.float16, torch.bfloat16):
        half = [t.to(dtype) for t in operands]
        exact = [t.double() for t in half]
        got = tb.triton_forward(spec, edge_index, half, 0, 0, 40)
        expected = reference_forward(spec, edge_index, exact, 0, 0, 40)
        torch.testing.assert_close(got.double(), expected, rtol=1e-2, atol=1e-2)
        grad = torch.randn_like(expected)
        grads = tb.triton_backward(spec, edge_index, half, 0, 0, 40, got, grad.to(dtype))
        wanted = reference_backward(spec, edge_index, exact, 0, 0, 40, got.double(), grad)
        for g, w in zip(grads, wanted):
            torch.testing.assert_close(g.double(), w, rtol=2e-2, atol=2e-2)


def test_a_new_graph_size_reuses_the_kernels_on_cuda():
    tb.forget_loaded_kernels()
    tb.reset_stats()
    model = SAGE(aggr="max").cuda().eval()
    compiled = gfx.compile(model, backend="triton")
    for n, e in [(30, 100), (70, 500), (9, 5)]:
        edge_index = random_graph(n, e, seed=n)
        x = torch.randn(n, 4, device="cuda")
        torch.testing.assert_close(compiled(x, edge_index), model(x, edge_index))
    assert tb.STATS.renders == 1
