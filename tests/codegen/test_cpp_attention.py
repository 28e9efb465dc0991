"""The cpp attention kernels: equal to an explicit loop, gradients, source and cache checks."""
import re
import warnings

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.codegen import cpp_attention
from gfx.codegen.cpp_attention_render import AttentionLayout, render
from gfx.ops.fused import EXPR_OPS
from gfx.ops.fused_attention import AttentionSpec, fused_attention_op
from tests.codegen.fused_loops import evaluate
from tests.graphs import edge_lists

pytestmark = pytest.mark.skipif(not cpp_attention.available(),
                                reason="no C compiler with OpenMP")

# GAT: operands x [N, H, C] (src), a_src [N, H] (src), a_dst [N, H] (dst).
GAT = AttentionSpec(("src", "src", "dst"),
                    ("leaky_relu", ("add", ("in", 1), ("in", 2)), ("const", 0.2)),
                    ("mul", ("in", 3), ("in", 0)), 1)
# Edge and target operands in both expressions: w [E, H] in the score, y [N, H, C] (dst)
# and b [E, 1, C] (edge) in the message.
MIXED = AttentionSpec(("src", "edge", "dst", "edge"),
                      ("tanh", ("mul", ("in", 0), ("in", 1))),
                      ("add", ("mul", ("in", 4), ("in", 2)), ("mul", ("in", 3), ("in", 4))), 1)


def loop_attention(spec, edge_index, operands, src_row, num_targets):
    """Explicit loops: per target, softmax of its edges' scores, then the weighted sum."""
    src, dst = edge_index[src_row].tolist(), edge_index[1 - src_row].tolist()
    rows = []
    for i in range(num_targets):
        edges = [e for e in range(len(dst)) if dst[e] == i]
        at = lambda e: [t[src[e]] if kind == "src" else t[dst[e]] if kind == "dst" else t[e]  # noqa: E731
                        for kind, t in zip(spec.kinds, operands)]
        scores = [evaluate(spec.score, at(e)) for e in edges]
        if scores:
            top = torch.stack(scores).amax(0).detach()
            weights = [torch.exp(s - top) for s in scores]
            total = sum(weights)
            messages = []
            for e, w in zip(edges, weights):
                alpha = w / total
                for _ in range(spec.alpha_axes):
                    alpha = alpha.unsqueeze(-1)
                messages.append(evaluate(spec.message, at(e) + [alpha]))
            rows.append(torch.stack(messages).sum(0))
        else:
            rows.append(None)
    shape = next((r.shape for r in rows if r is not None), None)
    return rows, shape


def expected(spec, edge_index, operands, src_row, num_targets, grad_seed=0):
    leaves = [t.detach().clone().requires_grad_() for t in operands]
    rows, shape = loop_attention(spec, edge_index, leaves, src_row, num_targets)
    if shape is None:
        return None, [torch.zeros_like(t) for t in leaves]
    out = torch.stack([torch.zeros(shape, dtype=leaves[0].dtype) if r is None else r
                       for r in rows])
    grad = torch.randn(out.shape, dtype=out.dtype,
                       generator=torch.Generator().manual_seed(grad_seed))
    grads = torch.autograd.grad(out, leaves, grad, allow_unused=True)
    return (out.detach(), grad), [torch.zeros_like(t) if g is None else g
                                  for t, g in zip(leaves, grads)]


def gat_operands(num_src, num_dst, heads, channels, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(num_src, heads, channels, generator=g, dtype=dtype),
            torch.randn(num_src, heads, generator=g, dtype=dtype),
            torch.randn(num_dst, heads, generator=g, dtype=dtype)]


@given(edge_lists(bipartite=True), st.integers(1, 3), st.integers(1, 4), st.sampled_from([0, 1]))
def test_gat_kernels_equal_explicit_loops(graph, heads, channels, src_row):
    edge_index, num_src, num_dst = graph
    if src_row == 1:
        edge_index = edge_index.flip(0)
    operands = gat_operands(num_src, num_dst, heads, channels)
    out = cpp_attention.attention_forward(GAT, edge_index, operands, src_row, 0, 0, num_dst)
    assert out.shape == (num_dst, heads, channels)
    reference, grads = expected(GAT, edge_index, operands, src_row, num_dst)
    if reference is None:
        assert torch.equal(out, torch.zeros_like(out))
        grad = torch.ones_like(out)
    else:
        torch.testing.assert_close(out, reference[0])
        grad = reference[1]
    found = cpp_attention.attention_backward(GAT, edge_index, operands, src_row, 0, 0,
                                             num_dst, out, grad)
    for a, b in zip(found, grads):
        torch.testing.assert_close(a, b)


@given(edge_lists(), st.integers(1, 3))
def test_edge_and_target_operands_equal_explicit_loops(graph, heads):
    edge_index, n, _ = graph
    num_edges, channels = edge_index.shape[1], 3
    g = torch.Generator().manual_seed(1)
    operands = [torch.randn(n, heads, generator=g, dtype=torch.float64),
                torch.randn(num_edges, heads, generator=g, dtype=torch.float64),
                torch.randn(n, heads, channels, generator=g, dtype=torch.float64),
                torch.randn(num_edges, 1, channels, generator=g, dtype=torch.float64)]
    out = cpp_attention.attention_forward(MIXED, edge_index, operands, 0, 0, 0, n)
    reference, grads = expected(MIXED, edge_index, operands, 0, n)
    grad = torch.ones_like(out) if reference is None else reference[1]
    if reference is not None:
        torch.testing.assert_close(out, reference[0])
    found = cpp_attention.attention_backward(MIXED, edge_index, operands, 0, 0, 0, n, out, grad)
    for a, b in zip(found, grads):
        torch.testing.assert_close(a, b)
    assert cpp_attention.STATS.fallbacks.get("broadcast", 0) == 0


def test_float32_and_single_score_per_edge():
    # Scores [E] (one softmax per target) times x_j [E, C]: no head axis.
    spec = AttentionSpec(("src", "dst", "src"), ("add", ("in", 0), ("in", 1)),
                         ("mul", ("in", 3), ("in", 2)), 1)
    edge_index = torch.tensor([[0, 1, 2, 2, 3], [1, 1, 0, 3, 3]])
    g = torch.Generator().manual_seed(2)
    operands = [torch.randn(4, generator=g), torch.randn(4, generator=g),
                torch.randn(4, 5, generator=g)]
    out = cpp_attention.attention_forward(spec, edge_index, operands, 0, 0, 0, 4)
    reference, _ = expected(spec, edge_index, operands, 0, 4)
    torch.testing.assert_close(out, reference[0])
    assert torch.equal(out[2], torch.zeros(5))  # node 2 receives nothing


SCORE_OPS = [name for name in EXPR_OPS]


def _score_with(name):
    a, b = ("in", 1), ("in", 2)
    arity = EXPR_OPS[name][0]
    if name == "leaky_relu":
        return ("leaky_relu", ("add", a, b), ("const", 0.1))
    if name == "div":
        return ("div", a, ("add", ("mul", b, b), ("const", 1.0)))
    return (name, a, b) if arity == 2 else (name, ("add", a, b))


@pytest.mark.parametrize("name", SCORE_OPS)
def test_gradcheck_through_the_fused_op_for_every_score_op(name):
    spec = AttentionSpec(("src", "src", "dst"), _score_with(name), GAT.message, 1)
    edge_index = torch.tensor([[0, 1, 2, 3, 3, 0, 2], [1, 1, 0, 0, 2, 2, 2]])
    operands = [t.requires_grad_() for t in gat_operands(4, 4, 2, 3)]

    def run(*ops):
        return fused_attention_op(edge_index, list(ops), 0, 0, 0, 4, spec.to_string(), "cpp")
    assert torch.autograd.gradcheck(run, operands)


def test_gradcheck_of_a_message_with_every_operand_kind():
    edge_index = torch.tensor([[0, 1, 2, 3, 3], [1, 1, 0, 0, 2]])
    g = torch.Generator().manual_seed(3)
    operands = [torch.randn(4, 2, generator=g, dtype=torch.float64),
                torch.randn(5, 2, generator=g, dtype=torch.float64),
                torch.randn(3, 2, 3, generator=g, dtype=torch.float64),
                torch.randn(5, 1, 3, generator=g, dtype=torch.float64)]
    operands = [t.requires_grad_() for t in operands]

    def run(*ops):
        return fused_attention_op(edge_index, list(ops), 0, 0, 0, 3, MIXED.to_string(), "cpp")
    assert torch.autograd.gradcheck(run, operands)


SIGNATURE = re.compile(r"^void (\w+)\(([^)]*)\) \{$", re.M)
NODE_BUFFERS = {"ptr", "col", "eid", "out", "grad", "stat_max", "stat_sum", "stat_dot"}


def test_source_has_no_edge_sized_buffer():
    layout = AttentionLayout("float", (None, True, True), ((True, True), None, None))
    rendered = render(GAT, layout)
    source = rendered.source
    for word in ("malloc", "calloc", "realloc", "alloca", "static ", "atomic"):
        assert word not in source
    # The only local arrays are the per-row softmax values, H entries each.
    arrays = re.findall(r"\b(?:float|double|int64_t)\s+(\w+\[[^\]]*\])", source)
    arrays += re.findall(r",\s*(\w+\[[^\]]*\]);", source)
    assert set(arrays) == {"mx[H]", "sm[H]", "dot[H]"}
    found = dict(SIGNATURE.findall(source))
    assert set(found) == {"gfx_attention_forward", "gfx_attention_grad_dst",
                          "gfx_attention_grad_src"}
    for params in found.values():
        pointers = {p.split()[-1] for p in params.split(", ") if "*" in p}
        # Operands (in<k>), their gradients (grad<k>: same shapes) and node-sized buffers.
        assert all(re.fullmatch(r"(in|grad)\d", p) or p in NODE_BUFFERS for p in pointers)
        assert "int64_t E" not in params and "num_edges" not in params


def test_same_spec_builds_once_and_new_sizes_rebuild_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GFX_CACHE_DIR", str(tmp_path))
    cpp_attention.forget_loaded_kernels()
    cpp_attention.reset_stats()
    spec = AttentionSpec(GAT.kinds, ("leaky_relu", ("add", ("in", 1), ("in", 2)),
                                     ("const", 0.3125)), GAT.message, 1)
    for nodes, edges, heads, channels in [(5, 9, 2, 3), (5, 9, 2, 3), (50, 400, 4, 16),
                                          (3, 0, 1, 2)]:
        edge_index = torch.randint(0, nodes, (2, edges))
        operands = gat_operands(nodes, nodes, heads, channels, torch.float32)
        out = cpp_attention.attention_forward(spec, edge_index, operands, 0, 0, 0, nodes)
        cpp_attention.attention_backward(spec, edge_index, operands, 0, 0, 0, nodes, out,
                                         torch.ones_like(out))
    assert (cpp_attention.STATS.sources, cpp_attention.STATS.builds) == (1, 1)
    cpp_attention.forget_loaded_kernels()


def test_unsupported_dtype_runs_the_reference_and_warns_once():
    cpp_attention.reset_stats()
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 2]])
    operands = gat_operands(3, 3, 2, 2, torch.bfloat16, seed=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = cpp_attention.attention_forward(GAT, edge_index, operands, 0, 0, 0, 3)
        cpp_attention.attention_forward(GAT, edge_index, operands, 0, 0, 0, 3)
    ours = [w for w in caught if w.category is cpp_attention.CppAttentionFallbackWarning]
    assert len(ours) <= 1 and cpp_attention.STATS.fallbacks == {"dtype": 2}
    reference, _ = expected(GAT, edge_index, [t.double() for t in operands], 0, 3)
    torch.testing.assert_close(out.double(), reference[0], atol=0.05, rtol=0.05)


def test_out_of_range_targets_are_refused():
    edge_index = torch.tensor([[0, 1], [1, 5]])
    with pytest.raises(IndexError, match="dim_size=3"):
        cpp_attention.attention_forward(GAT, edge_index, gat_operands(3, 3, 1, 1), 0, 0, 0, 3)
