"""``gfx.compile(model, backend="cpp")`` equals eager: outputs, input and parameter grads."""
import copy
import functools

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx
from gfx.codegen import cpp
from gfx.compile import resolve_backend
from tests.compiler.models import GCN, SAGE, EdgeGate
from tests.graphs import edge_lists

pytestmark = pytest.mark.skipif(not cpp.available(), reason="no C compiler with OpenMP")

F64 = torch.float64


@functools.lru_cache(maxsize=None)
def compiled_pair(name: str):
    """``(eager model, compiled model)`` sharing parameters, built once per session."""
    torch.manual_seed(0)
    model = {"gcn": lambda: GCN(), "sage-mean": lambda: SAGE(aggr="mean"),
             "sage-max": lambda: SAGE(aggr="max"),
             **{f"gate-{a}": functools.partial(EdgeGate, 3, a)
                for a in ("sum", "mean", "max", "min")}}[name]()
    model = model.double().eval()
    return model, gfx.compile(model, backend="cpp")


def outputs_and_grads(fn, model, inputs):
    leaves = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in inputs]
    model.zero_grad()
    out = fn(*leaves)
    (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view(out.shape)).sum() \
        .backward()
    input_grads = [t.grad for t in leaves if t.is_floating_point()]
    return out.detach(), input_grads, [p.grad.clone() for p in model.parameters()]


def assert_compiled_equals_eager(name, *inputs):
    model, compiled = compiled_pair(name)
    launches = cpp.STATS.launches
    got = outputs_and_grads(compiled, model, inputs)
    assert cpp.STATS.launches > launches, "the compiled model did not run cpp kernels"
    want = outputs_and_grads(model, model, inputs)
    torch.testing.assert_close(got[0], want[0])
    for a, b in zip(got[1] + got[2], want[1] + want[2]):
        torch.testing.assert_close(a, b)


@given(edge_lists(max_edges=40), st.sampled_from(["gcn", "sage-mean", "sage-max"]))
def test_gcn_and_sage_compiled_equal_eager(graph, name):
    edge_index, n, _ = graph
    torch.manual_seed(1)
    assert_compiled_equals_eager(name, torch.randn(n, 4, dtype=F64), edge_index)


@given(edge_lists(max_edges=40), st.sampled_from(["sum", "mean", "max", "min"]))
def test_user_layer_compiled_equals_eager(graph, aggr):
    edge_index, n, _ = graph
    torch.manual_seed(1)
    assert_compiled_equals_eager(f"gate-{aggr}", torch.randn(n, 3, dtype=F64), edge_index,
                                 torch.rand(edge_index.shape[1], dtype=F64))


def test_compiled_graph_holds_cpp_fused_nodes_only():
    model, compiled = compiled_pair("gate-max")
    x, edge_index = torch.randn(4, 3, dtype=F64), torch.tensor([[0, 1, 2], [1, 2, 3]])
    gm = compiled.graph_module(x, edge_index, torch.rand(3, dtype=F64))
    targets = [str(n.target) for n in gm.graph.nodes if n.op == "call_function"
               and str(n.target).startswith("gfx.")]
    assert targets == ["gfx.fused_message_reduce.default"]
    fused = next(n for n in gm.graph.nodes if "fused" in n.meta)
    assert fused.args[-1] == "cpp"


@pytest.mark.skipif(torch.cuda.is_available(), reason="auto prefers triton with a GPU")
def test_auto_picks_cpp_on_a_cpu_machine():
    assert resolve_backend("auto") == "cpp"
    assert gfx.compile(GCN()).backend == "cpp"


def test_float32_training_steps_match_eager():
    torch.manual_seed(0)
    model = SAGE(8, 16, 4, aggr="max")
    twin = copy.deepcopy(model)
    compiled = gfx.compile(model, backend="cpp").train()
    x, edge_index = torch.randn(30, 8), torch.randint(0, 30, (2, 120))
    target = torch.randn(30, 4)
    for net, params in ((compiled, model.parameters()), (twin, twin.parameters())):
        optimizer = torch.optim.SGD(params, lr=0.1)
        for _ in range(3):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(net(x, edge_index), target).backward()
            optimizer.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b)
