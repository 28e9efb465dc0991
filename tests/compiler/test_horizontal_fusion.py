"""Horizontal fusion: the relations of a to_hetero layer run as one typed kernel.

Every expectation is computed independently: eager execution of the transformed model
(the spec), explicit loops over rows and relations, or dense adjacency matrices.
"""
import functools
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import gfx
import gfx.nn as gnn
from gfx.capture import capture
from gfx.compile import kernel_backends, pipeline
from gfx.lower import lower
from gfx.ops import fused_typed
from gfx.ops.fused import FusedSpec, fused_message_reduce_op
from gfx.ops.fused_typed import (STATS, TypedFallbackWarning, relation_layout,
                                 relation_linear_sum, relation_message_reduce, reset_stats,
                                 segment_matmul)
from gfx.passes.fusion import fuse_message_reduce
from gfx.passes.horizontal_fusion import fuse_relations, linear_parameters, summed_linear
from gfx.passes.reorder import move_linear_before_gather
from gfx.passes.to_hetero import to_hetero
from gfx.pipeline import CLEANUP, Pass, run_passes
from tests.graphs import dense_adjacency

F64 = torch.float64
CPP = "cpp" in kernel_backends() and kernel_backends()["cpp"].available()
BACKENDS = ["reference"] + (["cpp"] if CPP else [])
MEAN = FusedSpec(("src",), ("in", 0), "mean").to_string()

# One metadata per relation count; every node type receives messages.  Names with
# spaces and dashes exercise the escaped submodule keys.
METADATA = {
    1: (["a"], [("a", "r0", "a")]),
    2: (["a", "b"], [("a", "r0", "b"), ("b", "r1", "a")]),
    3: (["a", "b"], [("a", "r0", "a"), ("b", "r1", "a"), ("a", "r2", "b")]),
    4: (["a", "b"], [("a", "r0", "a"), ("a", "r1", "a"), ("b", "r2", "a"), ("a", "r3", "b")]),
    5: (["a", "b", "c"], [("a", "r0", "b"), ("b", "r1", "c"), ("c", "r2", "a"),
                          ("a", "r3", "a"), ("c", "r4", "a")]),
    6: (["a", "b c", "d-e"], [("a", "r0", "a"), ("b c", "r1", "a"), ("d-e", "r2", "a"),
                              ("a", "r3", "b c"), ("a", "r4", "d-e"),
                              ("d-e", "r5", "d-e")]),
}


# ----------------------------------------------------------------------------- models
class TwoSage(torch.nn.Module):
    def __init__(self, aggr="mean", channels=4):
        super().__init__()
        self.conv1 = gnn.SAGEConv(channels, 5, aggr=aggr)
        self.conv2 = gnn.SAGEConv(5, 3, aggr=aggr)

    def forward(self, x, edge_index):
        return self.conv2(F.relu(self.conv1(x, edge_index)), edge_index)


class Gate(gnn.MessagePassing):
    """A user layer reading both endpoints and an edge attribute, optionally mapped."""

    def __init__(self, channels=4, aggr="sum", linear=True):
        super().__init__(aggr=aggr)
        self.lin = gnn.Linear(channels, channels) if linear else None

    def forward(self, x, edge_index, edge_attr):
        out = self.propagate(edge_index, x=x, edge_attr=edge_attr)
        return self.lin(out) if self.lin is not None else out

    def message(self, x_i, x_j, edge_attr):
        return torch.sigmoid(x_i - x_j) * x_j * edge_attr.view(-1, 1)


class GateNet(torch.nn.Module):
    def __init__(self, linear=True):
        super().__init__()
        self.conv = Gate(linear=linear)

    def forward(self, x, edge_index, edge_attr):
        return self.conv(x, edge_index, edge_attr)


# name -> (homogeneous model factory, to_hetero aggr, the typed call it must become)
MODELS = {
    "sage": (lambda: TwoSage(), "sum", relation_linear_sum),
    "sage-hetero-mean": (lambda: TwoSage(), "mean", relation_linear_sum),
    "sage-max-aggr": (lambda: TwoSage(aggr="max"), "sum", relation_linear_sum),
    "sage-hetero-max": (lambda: TwoSage(), "max", relation_message_reduce),
    "gate": (lambda: GateNet(), "sum", relation_linear_sum),
    "gate-plain": (lambda: GateNet(linear=False), "sum", relation_linear_sum),
    "gate-hetero-min": (lambda: GateNet(), "min", relation_message_reduce),
}


def fused_pipeline(backend):
    """The compile pipeline of ``backend`` (fusion runs for the reference backend too)."""
    return list(CLEANUP) + [Pass("reorder", move_linear_before_gather),
                            Pass("fuse", fuse_message_reduce(backend)),
                            Pass("hfuse", fuse_relations)] + list(CLEANUP)


@functools.lru_cache(maxsize=None)
def hetero_pair(name, relations, backend):
    """``(eager model, compiled graph)`` sharing parameters, built once per session."""
    factory, aggr, _ = MODELS[name]
    torch.manual_seed(relations)
    model = to_hetero(factory(), METADATA[relations], aggr=aggr).double().eval()
    if backend == "cpp":
        return model, gfx.compile(model, backend="cpp").graph_module(*example(name, relations))
    return model, run_passes(lower(capture(model)), fused_pipeline(backend), check=True)


def example(name, relations):
    """Inputs of the right structure (for building graphs; values do not matter)."""
    return random_inputs(name, METADATA[relations], {t: 3 for t in METADATA[relations][0]},
                         {e: [(0, 0), (1, 2)] for e in METADATA[relations][1]})


def random_inputs(name, metadata, sizes, edges, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = {t: torch.randn(sizes[t], 4, generator=g, dtype=F64) for t in metadata[0]}
    ei = {e: torch.tensor(edges[e], dtype=torch.long).view(-1, 2).t().contiguous()
          for e in metadata[1]}
    if not name.startswith("gate"):
        return x, ei
    attr = {e: torch.rand(ei[e].shape[1], generator=g, dtype=F64) for e in metadata[1]}
    return x, ei, attr


@st.composite
def hetero_graphs(draw):
    """``(relations, sizes, edges)``: 1..6 relations, empty ones, isolated nodes, loops."""
    relations = draw(st.integers(1, 6))
    node_types, edge_types = METADATA[relations]
    sizes = {t: draw(st.integers(1, 6)) for t in node_types}
    edges = {}
    for src, rel, dst in edge_types:
        pair = st.tuples(st.integers(0, sizes[src] - 1), st.integers(0, sizes[dst] - 1))
        edges[(src, rel, dst)] = draw(st.lists(pair, max_size=10))
    return relations, sizes, edges


def outputs_and_grads(fn, model, inputs):
    """Output dict, gradients of the node features and of every parameter."""
    x = {t: v.detach().clone().requires_grad_() for t, v in inputs[0].items()}
    model.zero_grad()
    out = fn(x, *inputs[1:])
    loss = sum((v * torch.linspace(-1, 1, v.numel(), dtype=F64).view(v.shape)).sum()
               for v in out.values())
    loss.backward()
    return ({t: v.detach() for t, v in out.items()}, [x[t].grad for t in x],
            [p.grad.clone() if p.grad is not None else None for p in model.parameters()])


def assert_equal_to_eager(model, compiled, inputs):
    got = outputs_and_grads(compiled, model, inputs)
    want = outputs_and_grads(model, model, inputs)
    assert got[0].keys() == want[0].keys()
    for t in want[0]:
        torch.testing.assert_close(got[0][t], want[0][t], rtol=1e-10, atol=1e-12)
    for a, b in zip(got[1] + got[2], want[1] + want[2]):
        if a is None or b is None:  # a parameter no output depends on
            assert a is None and b is None or (a if a is not None else b).abs().max() == 0
            continue
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def calls(gm, target):
    return [n for n in gm.graph.nodes if n.op == "call_function" and n.target is target]


def gfx_ops(gm):
    return [str(n.target).split(".")[1] for n in gm.graph.nodes
            if n.op == "call_function" and str(n.target).startswith("gfx.")]


# ----------------------------------------------------------------------------- equivalence
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dense", [float("inf"), -1.0], ids=["node-major", "pairs"])
@given(graph=hetero_graphs(), name=st.sampled_from(sorted(MODELS)))
def test_compiled_hetero_models_equal_eager(backend, dense, graph, name):
    relations, sizes, edges = graph
    model, compiled = hetero_pair(name, relations, backend)
    inputs = random_inputs(name, METADATA[relations], sizes, edges, seed=relations)
    reset_stats()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fused_typed, "DENSE_SLACK", dense)  # NOTE [dense pairs]: always, never
        assert_equal_to_eager(model, compiled, inputs)
    assert not STATS.fallbacks
    node_types, edge_types = METADATA[relations]
    families = sum(1 for t in node_types if [e[2] for e in edge_types].count(t) >= 2)
    assert STATS.fused_calls == families * (2 if name.startswith("sage") else 1)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_layer_family_becomes_one_typed_call(name):
    _, _, target = MODELS[name]
    _, gm = hetero_pair(name, 6, "reference")
    # Relations per target type in METADATA[6]: a <- 3, "d-e" <- 2, "b c" <- 1.
    layers = 2 if name.startswith("sage") else 1
    typed = calls(gm, target)
    assert sorted(n.meta["relations"] for n in typed) == sorted([3, 2] * layers)
    assert gfx_ops(gm).count("fused_message_reduce") == layers  # the lone "b c" relation
    if target is relation_linear_sum and name.startswith("sage"):
        # lin_l became the typed call's weights and lin_r one summed product, except in
        # the lone relation r3 into "b c".
        linears = [n.target for n in gm.graph.nodes if n.op == "call_module"
                   and n.target.endswith(("lin_l", "lin_r"))]
        assert len(linears) == 2 * layers and all("r3" in t for t in linears)
        assert len(calls(gm, summed_linear)) == 2 * layers


def test_sage_layer_equals_a_dense_reference():
    """One hetero SAGE layer against dense per-relation mean matrices (no gfx code)."""
    torch.manual_seed(0)
    metadata = METADATA[4]

    class One(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.SAGEConv(4, 3)

        def forward(self, x, edge_index):
            return self.conv(x, edge_index)

    model = to_hetero(One(), metadata).double()
    compiled = run_passes(lower(capture(model)), fused_pipeline("reference"))
    assert len(calls(compiled, relation_linear_sum)) == 1
    sizes = {"a": 6, "b": 4}
    edges = {e: [(k % sizes[e[0]], (3 * k + 1) % sizes[e[2]]) for k in range(2 + 3 * i)]
             for i, e in enumerate(metadata[1])}
    edges[("a", "r1", "a")] = []  # an empty relation
    x, ei = random_inputs("sage", metadata, sizes, edges)
    out = compiled(x, ei)
    for dst in metadata[0]:
        want = torch.zeros(sizes[dst], 3, dtype=F64)
        for e in [e for e in metadata[1] if e[2] == dst]:
            conv = model.conv[e[0] + "__" + e[1] + "__" + e[2]]
            adjacency = dense_adjacency(ei[e], sizes[e[0]], sizes[dst])
            mean = adjacency / adjacency.sum(1, keepdim=True).clamp(min=1)
            want += (mean @ x[e[0]]) @ conv.lin_l.weight.t() + conv.lin_l.bias
            want += x[dst] @ conv.lin_r.weight.t()
        torch.testing.assert_close(out[dst], want, rtol=1e-10, atol=1e-12)


@pytest.mark.skipif(not CPP, reason="no C compiler with OpenMP")
@pytest.mark.parametrize("dense, per_layer", [(float("inf"), 2), (-1.0, 3)],
                         ids=["node-major", "pairs"])
def test_kernel_launches_do_not_grow_with_relations(monkeypatch, dense, per_layer):
    """Per layer: the typed kernel into "a" (and, with pairs, their sum into nodes), and
    the lone relation into "b"."""
    from gfx.codegen import cpp
    monkeypatch.setattr(fused_typed, "DENSE_SLACK", dense)
    launches = {}
    for relations in (2, 5):
        metadata = (["a", "b"], [("b", f"r{k}", "a") for k in range(relations)] +
                    [("a", "back", "b")])
        torch.manual_seed(0)
        model = to_hetero(TwoSage(), metadata).double().eval()
        inputs = random_inputs("sage", metadata, {"a": 5, "b": 5},
                               {e: [(0, 1), (2, 3), (3, 4)] for e in metadata[1]})
        compiled = gfx.compile(model, backend="cpp")
        with torch.no_grad():
            compiled(*inputs)  # kernels built, structure cached
            before = cpp.STATS.launches
            compiled(*inputs)
        launches[relations] = cpp.STATS.launches - before
    assert launches == {2: 2 * per_layer, 5: 2 * per_layer}


# ----------------------------------------------------------------------------- fallback
def test_relations_of_different_widths_get_a_kernel_per_width():
    """Lazy layers over node types of different widths: one kernel per feature shape."""
    torch.manual_seed(0)

    class Lazy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.SAGEConv((-1, -1), 3)

        def forward(self, x, edge_index):
            return self.conv(x, edge_index)

    # "a" receives r0 and r1 from "a" (6 features) and r2 from "b" (2 features).
    metadata = (["a", "b"], [("a", "r0", "a"), ("a", "r1", "a"), ("b", "r2", "a"),
                             ("a", "r3", "b")])
    model = to_hetero(Lazy(), metadata).double()
    x = {"a": torch.randn(4, 6, dtype=F64), "b": torch.randn(3, 2, dtype=F64)}
    ei = {("a", "r0", "a"): torch.tensor([[0, 1], [1, 2]]),
          ("a", "r1", "a"): torch.tensor([[3, 3, 2], [0, 1, 1]]),
          ("b", "r2", "a"): torch.tensor([[2, 0], [3, 3]]),
          ("a", "r3", "b"): torch.tensor([[3], [1]])}
    compiled = run_passes(lower(capture(model)), fused_pipeline("reference"))
    assert len(calls(compiled, relation_message_reduce)) == 1  # lazy: no linear rewrite
    reset_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("error", TypedFallbackWarning)
        out = compiled(x, ei)
    assert (STATS.splits, STATS.fused_calls, STATS.fallbacks) == (1, 1, {})
    want = model(x, ei)
    for t in want:
        torch.testing.assert_close(out[t], want[t], rtol=1e-10, atol=1e-12)
    # Materialised, the weights tell the widths apart at compile time: r0 and r1 share
    # a linear sum, r2 keeps its own layer.
    again = run_passes(lower(capture(model)), fused_pipeline("reference"))
    assert [n.meta["relations"] for n in calls(again, relation_linear_sum)] == [2]
    out = again(x, ei)
    for t in want:
        torch.testing.assert_close(out[t], want[t], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("typed", [relation_message_reduce, relation_linear_sum])
def test_edge_values_that_broadcast_run_relation_by_relation(typed):
    spec = FusedSpec(("src", "edge"), ("mul", ("in", 0), ("in", 1)), "sum").to_string()
    x = torch.randn(3, 2, dtype=F64)
    eis = [torch.tensor([[0, 1], [1, 2]]), torch.tensor([[2, 2, 0], [0, 1, 1]])]
    scales = [torch.rand(1, 1, dtype=F64), torch.rand(1, 1, dtype=F64)]  # one row for all
    operands = [[x, scales[0]], [x, scales[1]]]
    reset_stats()
    with pytest.warns(TypedFallbackWarning, match="relation by relation.*broadcasts"):
        got = typed(eis, operands, 0, 0, 3, spec, "reference")
    assert STATS.fallbacks == {"edge rows": 1}
    want = [dense_adjacency(ei, 3, 3) @ x * s for ei, s in zip(eis, scales)]
    if typed is relation_linear_sum:
        want = [want[0] + want[1]]
    for a, b in zip(got if isinstance(got, list) else [got], want):
        torch.testing.assert_close(a, b)


def test_out_of_range_indices_name_the_relation():
    x = torch.randn(3, 2)
    good, bad = torch.tensor([[0, 1], [1, 2]]), torch.tensor([[0, 1], [1, 3]])
    with pytest.raises(IndexError, match="relation 1 has target 3 but dim_size=3"):
        relation_message_reduce([good, bad], [[x], [x]], 0, 0, 3, MEAN, "reference")
    with pytest.raises(IndexError, match="relation 0 has source 1 but its source operands "
                                         "have 1 rows"):
        relation_message_reduce([good, good], [[x[:1]], [x[:1]]], 0, 0, 3, MEAN,
                                "reference")
    with pytest.raises(IndexError, match="negative"):
        relation_message_reduce([good, -bad], [[x], [x]], 0, 0, 3, MEAN, "reference")


# ----------------------------------------------------------------------------- structure cache
def test_typed_structure_is_built_once_per_edge_dict():
    model, compiled = hetero_pair("sage", 6, "reference")
    inputs = random_inputs("sage", METADATA[6], {t: 4 for t in METADATA[6][0]},
                           {e: [(0, 1), (3, 2), (1, 1)] for e in METADATA[6][1]})
    reset_stats()
    compiled(*inputs)
    # Two families (targets "a" and "d-e"); the second layer reuses the first's structure.
    assert STATS.layouts_built == 2 and STATS.fused_calls == 4
    compiled(*inputs)
    compiled(*inputs)
    assert STATS.layouts_built == 2 and STATS.fused_calls == 12
    fresh = {e: t.clone() for e, t in inputs[1].items()}
    compiled(inputs[0], fresh)
    assert STATS.layouts_built == 4
    fresh[("d-e", "r2", "a")][0, 0] = 3  # in place: the version changes
    compiled(inputs[0], fresh)
    assert STATS.layouts_built == 5


def test_layout_groups_pairs_by_relation():
    eis = [torch.tensor([[0, 1, 1], [2, 2, 0]]), torch.tensor([[0, 0], [1, 1]]),
           torch.empty(2, 0, dtype=torch.long)]
    layout = relation_layout(eis, 0, 3, [0, 2, 2], [0, 0, 0])
    assert layout.counts == (2, 1, 0)
    # pairs (relation, node): (0, 0), (0, 2), (1, 1)
    assert layout.to_node.tolist() == [[0, 1, 2], [0, 2, 1]]
    assert layout.to_slot.tolist() == [[0, 1, 2], [0, 2, 4]]
    assert layout.edge_index.tolist() == [[0, 1, 1, 2, 2], [1, 1, 0, 2, 2]]
    assert (layout.src_max, layout.dst_max) == ((1, 0, -1), (2, 1, -1))
    assert relation_layout(eis, 0, 3, [0, 2, 2], [0, 0, 0]) is layout
    assert relation_layout(eis, 0, 4, [0, 2, 2], [0, 0, 0]) is not layout


# ----------------------------------------------------------------------------- the primitives
def explicit_segment_matmul(x, counts, weight):
    rows, start = [], 0
    for r, count in enumerate(counts):
        for p in range(start, start + count):
            rows.append(torch.stack([(weight[r, o] * x[p]).sum()
                                     for o in range(weight.shape[1])]))
        start += count
    return torch.stack(rows) if rows else x.new_zeros(0, weight.shape[1])


@given(st.lists(st.integers(0, 4), min_size=1, max_size=4), st.integers(1, 3),
       st.integers(1, 3))
def test_segment_matmul_equals_explicit_loops(counts, fin, fout):
    g = torch.Generator().manual_seed(sum(counts))
    x = torch.randn(sum(counts), fin, generator=g, dtype=F64)
    weight = torch.randn(len(counts), fout, fin, generator=g, dtype=F64)
    torch.testing.assert_close(segment_matmul(x, counts, weight),
                               explicit_segment_matmul(x, counts, weight))


def test_segment_matmul_gradients_and_registration():
    x = torch.randn(5, 3, dtype=F64, requires_grad=True)
    weight = torch.randn(3, 2, 3, dtype=F64, requires_grad=True)
    torch.autograd.gradcheck(lambda a, w: segment_matmul(a, [2, 0, 3], w), (x, weight))
    torch.autograd.gradgradcheck(lambda a, w: segment_matmul(a, [2, 0, 3], w), (x, weight))
    torch.library.opcheck(torch.ops.gfx.segment_matmul.default, (x, [2, 0, 3], weight))


@pytest.mark.parametrize("args, message", [
    ((torch.randn(4), [4], torch.randn(1, 2, 4)), "'x' must be 2-D"),
    ((torch.randn(4, 3), [4], torch.randn(2, 3)), "'weight' must be 3-D"),
    ((torch.randn(4, 3), [2, 2], torch.randn(1, 2, 3)), "has 2 entries but 'weight' has 1"),
    ((torch.randn(4, 3), [3], torch.randn(1, 2, 3)), "sum to 3 but 'x' has 4 rows"),
    ((torch.randn(4, 3), [4], torch.randn(1, 2, 5)), "takes 5 input features"),
])
def test_segment_matmul_errors_name_the_argument(args, message):
    with pytest.raises(ValueError, match=message):
        segment_matmul(*args)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_typed_calls_gradcheck(reduce):
    """float64 gradcheck through both typed calls, every operand kind, each reduction."""
    spec = FusedSpec(("src", "dst", "edge"),
                     ("mul", ("tanh", ("add", ("in", 0), ("in", 1))), ("in", 2)),
                     reduce).to_string()
    g = torch.Generator().manual_seed(0)
    xa = torch.rand(3, 2, generator=g, dtype=F64, requires_grad=True)
    xb = torch.rand(4, 2, generator=g, dtype=F64, requires_grad=True)
    eis = [torch.tensor([[0, 2, 1], [1, 1, 3]]), torch.tensor([[3, 0], [0, 1]])]
    attrs = [torch.rand(3, 1, generator=g, dtype=F64, requires_grad=True),
             torch.rand(2, 1, generator=g, dtype=F64, requires_grad=True)]
    weights = [torch.rand(3, 2, generator=g, dtype=F64, requires_grad=True) for _ in eis]
    bias = torch.rand(3, generator=g, dtype=F64, requires_grad=True)

    def both(xa, xb, e0, e1, w0, w1, b):
        operands = [[xa, xb, e0], [xb, xb, e1]]
        per = relation_message_reduce(eis, operands, 0, 0, 4, spec, "reference")
        total = relation_linear_sum(eis, operands, 0, 0, 4, spec, "reference", [w0, w1],
                                    [b, None])
        return torch.cat([*per, total], 1)

    torch.autograd.gradcheck(both, (xa, xb, *attrs, *weights, bias))
    per = [fused_message_reduce_op(ei, ops, 0, 0, 4, spec, "reference")
           for ei, ops in zip(eis, [[xa, xb, attrs[0]], [xb, xb, attrs[1]]])]
    got = both(xa, xb, *attrs, *weights, bias)
    want = torch.cat([*per, F.linear(per[0], weights[0], bias) + per[1] @ weights[1].t()], 1)
    torch.testing.assert_close(got, want)


def test_summed_linear_is_the_sum_of_linears():
    x = torch.randn(4, 3, dtype=F64)
    w = [torch.randn(2, 3, dtype=F64) for _ in range(3)]
    b = [torch.randn(2, dtype=F64), None, torch.randn(2, dtype=F64)]
    want = sum(x @ wk.t() + (bk if bk is not None else 0) for wk, bk in zip(w, b))
    torch.testing.assert_close(summed_linear(x, w, b), want)


# ----------------------------------------------------------------------------- the pass
def test_pipeline_runs_horizontal_fusion_after_fusion():
    names = [p.name for p in pipeline("cpp")]
    assert names.index("hfuse") == names.index("fuse") + 1
    assert "hfuse" not in [p.name for p in pipeline("reference")]


def test_dependent_fused_nodes_are_not_grouped():
    """A homogeneous two-layer model: layer 2 reads layer 1, nothing may merge."""
    from tests.compiler.models import SAGE
    gm = run_passes(lower(capture(SAGE().eval())), fused_pipeline("reference"), check=True)
    assert gfx_ops(gm) == ["fused_message_reduce"] * 2
    assert not calls(gm, relation_message_reduce) and not calls(gm, relation_linear_sum)


class Squared(gnn.MessagePassing):
    """``lin(m) * m``: the aggregated result has two uses, so it is no sum term."""

    def __init__(self):
        super().__init__(aggr="mean")
        self.lin = gnn.Linear(4, 4)

    def forward(self, x, edge_index):
        out = self.propagate(edge_index, x=x)
        return self.lin(out) * out


@pytest.mark.parametrize("layer, target", [(lambda: gnn.SAGEConv(4, 3), relation_linear_sum),
                                           (Squared, relation_message_reduce)])
def test_families_whose_results_have_other_uses(layer, target):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = layer()

        def forward(self, x, edge_index):
            h = self.conv(x, edge_index)
            return h + h.sum()  # the layer's output (the sum's root) is used twice

    torch.manual_seed(0)
    model = to_hetero(Net(), METADATA[4]).double()
    gm = run_passes(lower(capture(model)), fused_pipeline("reference"), check=True)
    assert [n.meta["relations"] for n in calls(gm, target)] == [3]
    inputs = random_inputs("sage", METADATA[4], {"a": 4, "b": 3},
                           {e: [(0, 1), (2, 2), (1, 1)] for e in METADATA[4][1]})
    assert_equal_to_eager(model, gm, inputs)


def test_no_warning_on_the_fast_path():
    model, compiled = hetero_pair("gate", 5, "reference")
    inputs = random_inputs("gate", METADATA[5], {t: 3 for t in METADATA[5][0]},
                           {e: [(0, 1), (2, 0)] for e in METADATA[5][1]})
    reset_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("error", TypedFallbackWarning)
        compiled(*inputs)
    assert STATS.fallbacks == {} and STATS.fused_calls == 1  # the family into "a"


class Roots(gnn.MessagePassing):
    """Two root maps of the target (merged into one product) and a term used twice."""

    def __init__(self):
        super().__init__(aggr="mean")
        self.lin = gnn.Linear(4, 3)
        self.root_a = gnn.Linear(4, 3)
        self.root_b = gnn.Linear(4, 3, bias=False)
        self.twice = gnn.Linear(4, 3)

    def forward(self, x, edge_index):
        if isinstance(x, torch.Tensor):
            x = (x, x)
        t = self.twice(x[1])
        out = self.lin(self.propagate(edge_index, x=x)) + self.root_a(x[1])
        return out + self.root_b(x[1]) + t + t


class RootsNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = Roots()

    def forward(self, x, edge_index):
        return self.conv(x, edge_index)


def test_linear_terms_of_one_input_share_one_product():
    torch.manual_seed(0)
    model = to_hetero(RootsNet(), METADATA[4]).double()
    gm = run_passes(lower(capture(model)), fused_pipeline("reference"), check=True)
    (typed,) = calls(gm, relation_linear_sum)
    assert typed.meta["relations"] == 3
    # Into "a": root_a and root_b of three relations (two products by bias or none);
    # "twice" is added twice per relation and stays as it is.
    found = [n.args[1].args[0] for n in calls(gm, summed_linear)]
    assert all(n.target is linear_parameters for n in found)
    assert sorted(n.args[1] for n in found) == [["a__r0__a.root_a", "a__r1__a.root_a",
                                                  "b__r2__a.root_a"],
                                                 ["a__r0__a.root_b", "a__r1__a.root_b",
                                                  "b__r2__a.root_b"]]
    assert len([n for n in gm.graph.nodes if n.op == "call_module"
                and n.target.endswith("twice")]) == 4
    inputs = random_inputs("sage", METADATA[4], {"a": 5, "b": 5},
                           {e: [(0, 1), (2, 2), (4, 0)] for e in METADATA[4][1]})
    inputs[1][("a", "r1", "a")] = torch.empty(2, 0, dtype=torch.long)
    assert_equal_to_eager(model, gm, inputs)


@pytest.mark.parametrize("dense", [float("inf"), -1.0], ids=["node-major", "pairs"])
def test_typed_calls_without_nodes_or_edges(monkeypatch, dense):
    monkeypatch.setattr(fused_typed, "DENSE_SLACK", dense)
    x, none = torch.randn(0, 2, dtype=F64), torch.empty(2, 0, dtype=torch.long)
    weights = [torch.randn(3, 2, dtype=F64)] * 2
    bias = torch.randn(3, dtype=F64)
    for nodes in (0, 2):
        got = relation_linear_sum([none, none], [[x], [x]], 0, 0, nodes, MEAN, "reference",
                                  weights, [bias, bias])
        torch.testing.assert_close(got, (2 * bias).expand(nodes, 3))
        per = relation_message_reduce([none, none], [[x], [x]], 0, 0, nodes, MEAN,
                                      "reference")
        assert [tuple(m.shape) for m in per] == [(nodes, 2)] * 2 and not any(m.any() for m in per)
