"""Every catalogue convolution, compiled with the CPU kernel backend, equals eager
(forward and gradients) on hypothesis-generated graphs."""
import pytest
import torch
from hypothesis import given, settings

import gfx
from gfx.catalogue import E, EXAMPLES, F_IN, N
from gfx.compile import kernel_backends
from tests.graphs import edge_lists

BACKEND = "cpp" if "cpp" in kernel_backends() and kernel_backends()["cpp"].available() \
    else "reference"
_COMPILED = {}


def inputs_for(name, edge_index, n):
    """The example's inputs, resized to a graph with ``n`` nodes and ``edge_index``."""
    g = torch.Generator().manual_seed(1)
    if EXAMPLES[name].resize is not None:
        return [t.double() if t.is_floating_point() else t
                for t in EXAMPLES[name].resize(edge_index, n, g)]
    template = EXAMPLES[name].inputs(g)
    num_edges = edge_index.shape[1]
    out = []
    for t in template:
        if t.dtype == torch.long and t.dim() == 2:
            out.append(edge_index)
        elif t.dtype == torch.long:
            out.append(torch.randint(0, 3, (num_edges,), generator=g))
        elif t.shape[0] == N:
            out.append(torch.randn((n,) + tuple(t.shape[1:]), generator=g, dtype=torch.float64))
        else:
            assert t.shape[0] == E
            out.append(torch.randn((num_edges,) + tuple(t.shape[1:]), generator=g,
                                   dtype=torch.float64))
    return out


def models(name):
    if name not in _COMPILED:
        torch.manual_seed(0)
        model = EXAMPLES[name].build().double().eval()
        _COMPILED[name] = (model, gfx.compile(model, backend=BACKEND).eval())
    return _COMPILED[name]


def run(fn, inputs, params):
    leaves = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in inputs]
    out = fn(*leaves)
    grads = torch.autograd.grad(out.sum(), [t for t in leaves if t.requires_grad] + params,
                                allow_unused=True)
    return out.detach(), grads


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_compiled_layer_equals_eager(name):
    model, compiled = models(name)
    params = [p for p in model.parameters() if p.requires_grad]

    @settings(max_examples=6)
    @given(edge_lists(max_nodes=7, max_edges=16))
    def check(graph):
        edge_index, n, _ = graph
        inputs = inputs_for(name, edge_index, n)
        try:
            expected = run(model, inputs, params)
        except Exception as exc:  # noqa: BLE001 - then compiled must refuse as well
            with pytest.raises(type(exc)):
                run(compiled, inputs, params)
            return
        got = run(compiled, inputs, params)
        torch.testing.assert_close(got[0], expected[0])
        for a, b in zip(got[1], expected[1]):
            if a is None or b is None:
                assert a is None and b is None or (a if b is None else b).abs().max() == 0
            else:
                torch.testing.assert_close(a, b)

    check()
