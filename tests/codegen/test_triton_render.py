"""The triton backend without a GPU: rendered source, symbolic derivatives, layouts, fallbacks.

Nothing here launches a kernel (see test_triton_interpreter.py and test_triton_aot.py).
"""
import ast
import subprocess
import sys
import warnings

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import gfx
from gfx.codegen import triton_backend as tb
from gfx.codegen.triton_expr import DERIVATIVES, VALUES, ExprCode
from gfx.codegen.triton_render import Layout, render
from gfx.ops.fused import EXPR_OPS, FusedSpec, evaluate, reference_forward
from tests.compiler.models import GCN

ALL_OPS = ("sub", ("leaky_relu", ("add", ("tanh", ("mul", ("in", 0), ("in", 1))),
                                  ("div", ("exp", ("neg", ("in", 2))),
                                   ("add", ("sigmoid", ("in", 0)), ("const", 0.5)))),
                   ("const", 0.2)),
           ("relu", ("in", 1)))
KINDS = ("src", "dst", "edge")


def test_every_expression_op_has_a_value_and_a_derivative():
    assert set(VALUES) == set(EXPR_OPS) == set(DERIVATIVES)


# ---------------------------------------------------------------- symbolic derivatives

class _TorchLanguage:
    """Just enough of ``triton.language`` to run emitted statements on torch tensors."""
    float64 = torch.float64
    exp = staticmethod(torch.exp)
    where = staticmethod(torch.where)
    maximum = staticmethod(lambda a, b: torch.maximum(a, torch.as_tensor(b, dtype=a.dtype)))

    @staticmethod
    def full(shape, value, dtype):
        return torch.full(shape, value, dtype=dtype)


def run_emitted(expr, values, seed):
    """Emit value and adjoints of ``expr``, execute them, return (value, grads)."""
    lines = []
    code = ExprCode(lines, {k: f"v{k}" for k in range(len(values))}, "float64")
    result = code.value(expr)
    adjoints = code.adjoints(expr, "seed", range(len(values)))
    scope = {"tl": _TorchLanguage, "seed": seed, **{f"v{k}": v for k, v in enumerate(values)}}
    exec("\n".join(lines), scope)  # noqa: S102 - the statements under test
    return scope[result], {k: scope[name] for k, name in adjoints.items()}


def expressions(depth=3):
    """Random expressions over three operands; constants only beside an operand."""
    leaf = st.integers(0, 2).map(lambda k: ("in", k))
    if depth == 0:
        return leaf
    sub = expressions(depth - 1)
    const = st.floats(-2, 2, allow_nan=False).map(lambda v: ("const", v))

    def node(op):
        if op == "leaky_relu":
            return st.tuples(st.just(op), sub, st.floats(0.01, 0.5).map(lambda v: ("const", v)))
        if EXPR_OPS[op][0] == 1:
            return st.tuples(st.just(op), sub)
        return st.one_of(st.tuples(st.just(op), sub, sub), st.tuples(st.just(op), sub, const),
                         st.tuples(st.just(op), const, sub))

    return st.one_of(leaf, st.sampled_from(sorted(EXPR_OPS)).flatmap(node))


@given(expressions(), st.integers(0, 2 ** 16))
def test_emitted_derivatives_equal_autograd(expr, seed):
    gen = torch.Generator().manual_seed(seed)
    values = [torch.randn(5, dtype=torch.float64, generator=gen) for _ in range(3)]
    upstream = torch.randn(5, dtype=torch.float64, generator=gen)
    leaves = [v.clone().requires_grad_() for v in values]
    expected = evaluate(expr, leaves)
    assume(isinstance(expected, torch.Tensor) and expected.requires_grad)
    assume(bool(torch.isfinite(expected).all()))
    wanted = torch.autograd.grad(expected, leaves, upstream, allow_unused=True)
    assume(all(g is None or bool(torch.isfinite(g).all()) for g in wanted))
    value, grads = run_emitted(expr, values, upstream)
    torch.testing.assert_close(value.expand(5), expected.detach(), rtol=1e-9, atol=1e-9)
    for k, g in enumerate(wanted):
        if g is None:
            assert k not in grads
        else:
            torch.testing.assert_close(grads[k].expand(5), g, rtol=1e-8, atol=1e-9)


def test_shared_subexpressions_are_emitted_once():
    lines = []
    code = ExprCode(lines, {0: "v0"}, "float32")
    x = ("exp", ("in", 0))
    code.value(("mul", x, x))
    assert sum("tl.exp" in line for line in lines) == 1


# ---------------------------------------------------------------- rendered modules

def parse_kernels(text):
    tree = ast.parse(text)
    return {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}


def layout_for(dtype="float32"):
    # src [N, H, C], dst [N, 1, C], edge [E, H, 1]: two coalesced axes, three patterns.
    return Layout(dtype, ((True, True), (False, True), (True, False)))


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_one_module_holds_the_forward_and_every_backward_kernel(reduce):
    module = render(FusedSpec(KINDS, ALL_OPS, reduce), layout_for())
    names = [k.name for k in module.kernels]
    ties = ["ties"] if reduce in ("max", "min") else []
    assert names == ["forward", *ties, "grad_src", "grad_dst", "grad_edge0"]
    functions = parse_kernels(module.text)
    assert sorted(functions) == sorted(names)
    for kernel in module.kernels:
        # the rendered signature is the one the launcher fills in, parameter by parameter
        assert [a.arg for a in functions[kernel.name].args.args] == \
            [p.name for p in kernel.params]


def test_edge_operands_with_different_broadcasting_get_one_kernel_each():
    spec = FusedSpec(("src", "edge", "edge"), ("mul", ("mul", ("in", 0), ("in", 1)), ("in", 2)),
                     "sum")
    module = render(spec, Layout("float32", ((True,), (True,), (False,))))
    assert [(k.name, k.outputs) for k in module.kernels if k.side == "edge"] == \
        [("grad_edge0", (1,)), ("grad_edge1", (2,))]


def _stores(function):
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "tl.store":
            yield ast.unparse(node.args[0])


@pytest.mark.parametrize("reduce", ["sum", "max"])
def test_no_kernel_has_or_writes_a_buffer_of_edges_by_features(reduce):
    """Every pointer is a CSR/edge array, an operand or a node-sized buffer; every store
    goes to a node row (``node * F + f``) or to an operand's own gradient (``g<k> + p``)."""
    spec = FusedSpec(KINDS, ALL_OPS, reduce)
    module = render(spec, layout_for())
    functions = parse_kernels(module.text)
    operands = {f"in{k}" for k in range(3)}
    node_buffers = {"out", "grad", "gscale"} | {f"g{k}" for k in range(3)}
    for kernel in module.kernels:
        pointers = {p.name for p in kernel.params if p.role in ("index", "value", "acc")}
        indices = {"srcs", "dsts"} if kernel.side == "edge" else {"ptr", "col", "perm"}
        assert pointers <= indices | operands | node_buffers, kernel.name
        for target in _stores(functions[kernel.name]):
            if kernel.side == "edge":
                # g<k> is the edge operand's gradient, laid out like the operand itself
                assert target in {f"g{k} + p" for k in kernel.outputs}, target
            else:
                assert target.endswith(" + node * F + f"), target
        # tiles are shaped by block sizes only
        for node in ast.walk(functions[kernel.name]):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "tl.full" and \
                    isinstance(node.args[0], ast.List):
                assert all(ast.unparse(d).startswith("BLOCK_") for d in node.args[0].elts)
        assert "atomic" not in ast.unparse(functions[kernel.name])


def test_backward_recomputes_the_message_rather_than_reading_it():
    module = render(FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "sum"),
                    Layout("float32", ((True,), (False,))))
    for kernel in module.kernels:
        if kernel.name != "forward":
            names = {p.name for p in kernel.params}
            assert {"in0", "in1"} <= names and "out" not in names  # sum needs no output


def test_float64_constants_are_not_rounded_to_float32():
    module = render(FusedSpec(("src",), ("mul", ("in", 0), ("const", 0.1)), "sum"),
                    Layout("float64", ((True,),)))
    assert "tl.full([], 0.1, tl.float64)" in module.text


# ---------------------------------------------------------------- layouts and fallbacks

@pytest.mark.parametrize("trailing, sizes, patterns", [
    ([(1,), (4,)], (4,), ((False,), (True,))),
    ([(2, 3), (2, 3)], (6,), ((True,), (True,))),
    ([(1, 1), (2, 3)], (6,), ((False,), (True,))),
    ([(2, 1), (2, 3)], (2, 3), ((True, False), (True, True))),
    ([(1, 3), (2, 3)], (2, 3), ((False, True), (True, True))),
    ([(1,), (1,)], (1,), ((True,), (True,))),
    ([(), ()], (1,), ((True,), (True,))),
])
def test_feature_layout_merges_axes_with_the_same_broadcasting(trailing, sizes, patterns):
    layout, got_sizes, shape = tb.feature_layout("float32", trailing)
    assert got_sizes == sizes and layout.patterns == patterns
    assert shape == tuple(torch.broadcast_shapes(*trailing))


def test_feature_integers_locate_each_operand_element():
    # src [H=2, C=3] (full), dst [1, C] and edge [H, 1]: check every message feature f.
    layout = Layout("float32", ((True, True), (False, True), (True, False)))
    ints = tb.feature_ints(layout, (2, 3))
    assert ints["F"] == 6 and [ints[f"rs{k}"] for k in range(3)] == [6, 3, 2]
    for f in range(6):
        h, c = divmod(f, 3)
        assert (f // ints["fi0"], f % ints["fs1"]) == (h, c)
        assert h * ints["s0_0"] + c == f  # src: row-major [2, 3]
    group = tb.group_ints((True, False), (2, 3), num_edges=5)
    assert (group["FK"], group["B"], group["n_pairs"]) == (2, 3, 10)


@pytest.fixture
def cuda_like(monkeypatch):
    """Pretend the backend can run, so that the planning of CPU tensors is what is tested."""
    monkeypatch.setattr(tb, "available", lambda: True)
    monkeypatch.setattr(tb, "interpreting", lambda: False)
    monkeypatch.setattr(tb._report, "warned", set())
    tb.reset_stats()


def inputs(n=3, e=4, features=2):
    edge_index = torch.tensor([[0, 1, 2, 0], [1, 2, 0, 0]])[:, :e]
    return edge_index, [torch.randn(n, features), torch.rand(e, 1)]


def test_calls_the_kernels_cannot_run_use_the_reference_once_warned(cuda_like):
    spec = FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "mean")
    edge_index, operands = inputs()
    expected = reference_forward(spec, edge_index, operands, 0, 0, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            got = tb.triton_forward(spec, edge_index, operands, 0, 0, 3)
            torch.testing.assert_close(got, expected)
    messages = [str(w.message) for w in caught if w.category is tb.TritonFallbackWarning]
    assert len(messages) == 1 and "cpu" in messages[0]
    assert tb.STATS.fallbacks == {"device": 2} and tb.STATS.launches == {}


@pytest.mark.parametrize("change, dim, reason", [
    (lambda ei, ops: (ei, [ops[0].long(), ops[1]]), 0, "dtype"),
    (lambda ei, ops: (ei, [ops[0].double(), ops[1]]), 0, "dtype"),
    (lambda ei, ops: (ei, ops), 1, "dim"),
    (lambda ei, ops: (ei, ops), -1, "dim"),
    (lambda ei, ops: (ei, [ops[0], ops[1][:2]]), 0, "edge rows"),
    (lambda ei, ops: (ei, [ops[0], ops[1].view(-1)]), 0, "rank"),
    (lambda ei, ops: (ei, [ops[0], ops[1].expand(4, 3)]), 0, "broadcast"),
    (lambda ei, ops: (ei.float(), ops), 0, "edge_index"),
])
def test_each_unsupported_layout_names_its_reason(cuda_like, monkeypatch, change, dim, reason):
    monkeypatch.setattr(tb, "interpreting", lambda: True)  # CPU tensors are accepted
    spec = FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "sum")
    edge_index, operands = change(*inputs())
    plan = tb._plan(spec, edge_index, operands, dim)
    assert isinstance(plan, tb.Fallback) and plan.reason == reason


def test_a_slope_that_is_not_constant_is_delegated(cuda_like, monkeypatch):
    monkeypatch.setattr(tb, "interpreting", lambda: True)
    spec = FusedSpec(("src", "edge"), ("leaky_relu", ("in", 0), ("in", 1)), "sum")
    plan = tb._plan(spec, *inputs(), 0)
    assert isinstance(plan, tb.Fallback) and plan.reason == "expression"


@pytest.mark.parametrize("edge_index, message", [
    (torch.tensor([[0, -1], [1, 2]]), "negative"),
    (torch.tensor([[0, 1], [1, 3]]), "dim_size=3"),
    (torch.tensor([[0, 5], [1, 2]]), "operand 0"),
])
def test_out_of_range_indices_raise_before_any_kernel(cuda_like, monkeypatch, edge_index,
                                                      message):
    monkeypatch.setattr(tb, "interpreting", lambda: True)
    spec = FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "sum")
    with pytest.raises(IndexError, match=message):
        tb.triton_forward(spec, edge_index, [torch.randn(3, 2), torch.rand(2, 1)], 0, 0, 3)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
def test_compiling_for_triton_without_cuda_says_it_is_not_available(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(RuntimeError, match="'triton' is not available"):
        gfx.compile(GCN(), backend="triton")


@pytest.mark.slow
def test_gfx_imports_and_compiles_without_triton():
    script = (
        "import sys; sys.modules['triton'] = None\n"
        "import torch, gfx\n"
        "from gfx.compile import kernel_backends, resolve_backend\n"
        "backends = kernel_backends()\n"
        "assert 'triton' in backends and not backends['triton'].available()\n"
        "assert resolve_backend('auto') != 'triton'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
