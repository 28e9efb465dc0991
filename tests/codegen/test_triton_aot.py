"""Every generated Triton kernel compiles ahead of time for Hopper (sm_90), without a GPU.

``triton.compile(ASTSource(...), target=GPUTarget("cuda", 90, 32))`` lowers a kernel
through Triton IR, LLVM and PTX to a cubin with the ptxas bundled with triton; a kernel
that only fails on real hardware compilation (types, layouts, unsupported ops) fails
here.  Triton keeps compiled kernels in its cache, so repeated runs are fast.
"""
import importlib.util
import os

import pytest

from gfx.codegen import triton_backend as tb
from gfx.codegen.triton_render import Layout
from gfx.ops.fused import FusedSpec

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                       reason="triton is not installed"),
    pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") == "1",
                       reason="the interpreter replaces the compiler"),
    pytest.mark.slow,
    # triton 3.9 announces a change of its FMA default; the kernels set it explicitly
    pytest.mark.filterwarnings("ignore:TRITON_DEFAULT_FP_FUSION:UserWarning"),
]

ALL_OPS = ("sub", ("leaky_relu", ("add", ("tanh", ("mul", ("in", 0), ("in", 1))),
                                  ("div", ("exp", ("neg", ("in", 2))),
                                   ("add", ("sigmoid", ("in", 0)), ("const", 0.5)))),
                   ("const", 0.2)),
           ("relu", ("in", 1)))
# src [N, H, C], dst [N, 1, C], edge [E, H, 1]
MIXED = Layout("float32", ((True, True), (False, True), (True, False)))
GCN_LIKE = FusedSpec(("edge", "src"), ("mul", ("in", 0), ("in", 1)), "sum")


def check_compiled(spec, layout, width=64):
    compiled = tb.compile_ahead_of_time(spec, layout, width=width, arch=90)
    module, _ = tb.kernels(spec, layout)
    assert sorted(compiled) == sorted(k.name for k in module.kernels)
    for name, kernel in compiled.items():
        ptx = kernel.asm["ptx"]
        assert ".target sm_90" in ptx and kernel.asm["cubin"], name
        # CSR order, no atomics: no atomic or reduction-to-memory instruction at all
        assert "atom.global" not in ptx and "red.global" not in ptx, name
    return compiled


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_every_kernel_of_every_reduction_compiles_for_sm90(reduce):
    compiled = check_compiled(FusedSpec(("src", "dst", "edge"), ALL_OPS, reduce), MIXED)
    ties = ["ties"] if reduce in ("max", "min") else []
    assert sorted(compiled) == sorted(["forward", *ties, "grad_src", "grad_dst",
                                       "grad_edge0"])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_every_dtype_compiles_for_sm90(dtype):
    check_compiled(GCN_LIKE, Layout(dtype, ((False,), (True,))))


@pytest.mark.parametrize("spec, layout, width", [
    # one operand, one feature: the smallest tiles
    (FusedSpec(("src",), ("in", 0), "max"), Layout("float32", ((True,),)), 1),
    # attention heads: [E, H, 1] * [N, H, C], wide rows
    (FusedSpec(("edge", "src"), ("mul", ("in", 0), ("in", 1)), "sum"),
     Layout("float32", ((True, False), (True, True))), 256),
    # the target alone, two edge operands with different broadcasting
    (FusedSpec(("dst", "edge", "edge"), ("mul", ("mul", ("in", 0), ("in", 1)), ("in", 2)),
               "mean"), Layout("float32", ((True,), (True,), (False,))), 16),
])
def test_a_few_expressions_compile_for_sm90(spec, layout, width):
    check_compiled(spec, layout, width)
