import inspect
import os

import pytest
import torch
from hypothesis import given

import gfx
from gfx.pipeline import CLEANUP, Pass, VerificationError, run_passes
from tests.compiler.models import GCN, SAGE
from tests.graphs import edge_lists


@given(edge_lists())
def test_compiled_equals_eager_forward_and_gradients(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    model = SAGE(aggr="mean").double().eval()
    compiled = gfx.compile(model, backend="reference")
    x1 = torch.randn(n, 4, dtype=torch.float64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    torch.testing.assert_close(compiled(x1, edge_index), model(x2, edge_index))
    compiled(x1, edge_index).sum().backward()
    model(x2, edge_index).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)


def test_compiled_has_the_model_signature():
    model = GCN()
    assert inspect.signature(gfx.compile(model)) == inspect.signature(model.forward)


def test_train_and_eval_are_honoured_after_compiling():
    torch.manual_seed(0)
    model = GCN()
    compiled = gfx.compile(model)
    x, ei = torch.ones(6, 4), torch.tensor([[0, 1, 2], [1, 2, 3]])
    compiled.eval()
    torch.testing.assert_close(compiled(x, ei), model.eval()(x, ei))
    compiled.train()
    assert model.training
    a, b = compiled(x, ei), compiled(x, ei)
    assert not torch.equal(a, b), "dropout must be active in training mode"


def test_none_arguments_trace_the_none_branch():
    from gfx.nn import GCNConv
    conv = GCNConv(3, 2)
    compiled = gfx.compile(conv)
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    w = torch.rand(3)
    torch.testing.assert_close(compiled(x, ei), conv(x, ei))
    torch.testing.assert_close(compiled(x, ei, w), conv(x, ei, w))


def test_unknown_backend_lists_the_available_ones():
    with pytest.raises(ValueError, match="reference"):
        gfx.compile(GCN(), backend="tpu")


def test_verifier_names_the_failing_pass_and_those_before():
    def add_unannotated_node(gm):
        out = next(n for n in gm.graph.nodes if n.op == "output")
        with gm.graph.inserting_before(out):
            gm.graph.call_function(torch.zeros, (1,))
        return gm

    gm = gfx.lower(gfx.capture(GCN()))
    with pytest.raises(VerificationError, match=r"after pass 'broken' \(passes before it: dce, cse\)"):
        run_passes(gm, CLEANUP + [Pass("broken", add_unannotated_node)], check=True)


def test_gfx_check_env_enables_the_verifier(monkeypatch):
    monkeypatch.setenv("GFX_CHECK", "1")
    gm = gfx.lower(gfx.capture(GCN()))
    broken = Pass("broken", lambda g: (g.graph.call_function(torch.zeros, (1,)), g)[1])
    with pytest.raises(VerificationError):
        run_passes(gm, [broken])


def test_dce_keeps_in_place_updates_and_cse_merges_duplicates():
    class Dup(torch.nn.Module):
        def forward(self, x, edge_index):
            a = gfx.ops.gather(x, edge_index[0])
            b = gfx.ops.gather(x, edge_index[0])
            x.add_(0)  # in place, result unused: must stay
            return a + b

    gm = gfx.lower(gfx.capture(Dup()))
    out = run_passes(gm, CLEANUP, check=True)
    gathers = [n for n in out.graph.nodes if str(n.target).startswith("gfx.gather")]
    assert len(gathers) == 1
    assert any(n.target == "add_" for n in out.graph.nodes)
    x, ei = torch.randn(3, 2), torch.tensor([[0, 2], [1, 1]])
    torch.testing.assert_close(out(x, ei), 2 * x[ei[0]])


def test_keyword_none_argument_and_shape_errors_name_node_and_line():
    from gfx.compile import CompiledGraphError
    from gfx.nn import GCNConv
    conv = GCNConv(3, 2)
    compiled = gfx.compile(conv)
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    torch.testing.assert_close(compiled(x, ei, edge_weight=None), conv(x, ei))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = GCNConv(3, 2)

        def forward(self, x, edge_index):
            h = self.conv(x, edge_index)
            return h @ torch.ones(5, 1)  # wrong inner size: fails at run time

    with pytest.raises(CompiledGraphError) as info:
        gfx.compile(Net())(x, ei)
    assert "matmul" in str(info.value) and "wrong inner size" in str(info.value)
