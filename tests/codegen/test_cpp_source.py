"""Generated-kernel checks: what the C source holds, and that no [E, F] buffer exists."""
import re

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from gfx.codegen import cpp
from gfx.codegen.cpp_render import Layout, feature_layout, literal, render
from gfx.ops.fused import FusedSpec, reference_backward, reference_forward

GATE = ("mul", ("mul", ("sigmoid", ("add", ("in", 0), ("in", 1))), ("in", 1)), ("in", 2))
KINDS = ("dst", "src", "edge")
SIGNATURE = re.compile(r"^void (\w+)\(([^)]*)\) \{$", re.M)
# Every buffer a kernel may touch: CSR arrays, operands, the node-sized result and
# gradient buffers, and an operand's own gradient.
BUFFERS = {"ptr", "col", "eid", "out", "grad", "scaled", "result"}


def gate_source(reduce: str, ctype: str = "float") -> str:
    layout, _, _ = feature_layout(ctype, [(8,), (8,), (1,)])
    return render(FusedSpec(KINDS, GATE, reduce), layout).source


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_source_allocates_nothing_and_takes_only_known_buffers(reduce):
    rendered = render(FusedSpec(KINDS, GATE, reduce),
                      feature_layout("double", [(8,), (8,), (1,)])[0])
    source = rendered.source
    for word in ("malloc", "calloc", "realloc", "alloca", "new ", "static "):
        assert word not in source
    # No local arrays, fixed or variable length: only scalars live inside a kernel.
    assert not re.search(r"\b(float|double|int64_t)\s+\w+\s*\[", source)
    found = dict(SIGNATURE.findall(source))
    assert set(found) == set(rendered.kernels)
    for name, params in found.items():
        pointers = [p.split()[-1] for p in params.split(", ") if "*" in p]
        assert [p for p in pointers if not re.fullmatch(r"in\d+", p)] == \
            [n for kind, n in rendered.kernels[name].params
             if kind in ("index", "value", "result") and not re.fullmatch(r"in\d+", n)]
        assert set(pointers) <= BUFFERS | {f"in{k}" for k in range(3)}


@pytest.mark.parametrize("reduce", ["sum", "max"])
def test_one_function_per_forward_and_per_operand_gradient(reduce):
    names = set(dict(SIGNATURE.findall(gate_source(reduce))))
    extra = {"gfx_ties"} if reduce == "max" else set()
    assert names == {"gfx_forward", "gfx_grad_0", "gfx_grad_1", "gfx_grad_2"} | extra


def test_src_gradients_walk_sources_and_others_walk_targets():
    source = gate_source("sum")
    bodies = dict(re.findall(r"void (gfx_\w+)\(.*?\n(.*?)\n}\n", source, re.S))
    assert "for (int64_t j = 0; j < rows; ++j)" in bodies["gfx_grad_1"]   # src operand
    for name in ("gfx_forward", "gfx_grad_0", "gfx_grad_2"):
        assert "for (int64_t i = 0; i < rows; ++i)" in bodies[name]
    assert "atomic" not in source


def test_layout_never_depends_on_sizes():
    small = feature_layout("float", [(1,), (3,)])
    large = feature_layout("float", [(1,), (640,)])
    assert small[0] == large[0] and small[1:] == ((3,), (3,))
    assert render(FusedSpec(("edge", "src"), ("mul", ("in", 0), ("in", 1)), "sum"),
                  small[0]).source.count("640") == 0


@pytest.mark.parametrize("trailing, masks, sizes", [
    ([(3, 1), (3, 5)], ((True, False), (True, True)), (3, 5)),   # GAT heads x channels
    ([(4, 5), (4, 5)], ((True,), (True,)), (20,)),                # merged into one axis
    ([(1, 1), (1, 1)], ((), ()), ()),                             # one value per row
    ([(2, 1, 3), (1, 1, 3)], ((True, True), (False, True)), (2, 3)),
])
def test_feature_layout_drops_unit_axes_and_merges_alike_ones(trailing, masks, sizes):
    layout, got_sizes, _ = feature_layout("float", trailing)
    assert layout == Layout("float", masks) and got_sizes == sizes


def test_constants_are_typed_literals():
    assert literal(0.1, "float") == "((float)0.1)"
    assert literal(2, "double") == "((double)2.0)"
    assert literal(float("-inf"), "float") == "(-(float)INFINITY)"
    assert literal(float("nan"), "double") == "((double)NAN)"


def largest_allocation(fn) -> int:
    fn()  # kernels built and CSR cached before measuring
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    return max([e.cpu_memory_usage for e in prof.events()] + [0])


@pytest.mark.skipif(not cpp.available(), reason="no C compiler with OpenMP")
@pytest.mark.parametrize("reduce", ["sum", "max"])
def test_no_edge_by_feature_buffer_forward_or_backward(reduce):
    torch.manual_seed(0)
    nodes, edges, width = 64, 4096, 32
    edge_index = torch.randint(0, nodes, (2, edges))
    ops = [torch.randn(nodes, width), torch.randn(nodes, width), torch.rand(edges, 1)]
    spec = FusedSpec(KINDS, GATE, reduce)
    message_bytes = edges * width * 4

    def run(forward, backward):
        out = forward(spec, edge_index, ops, 0, 0, nodes)
        backward(spec, edge_index, ops, 0, 0, nodes, out, torch.ones_like(out))

    # The probe sees the unfused reference's [E, F] messages ...
    assert largest_allocation(lambda: run(reference_forward, reference_backward)) \
        >= message_bytes
    # ... and nothing near that size in the cpp kernels' forward and backward.
    assert largest_allocation(lambda: run(cpp.cpp_forward, cpp.cpp_backward)) \
        <= message_bytes // 8
