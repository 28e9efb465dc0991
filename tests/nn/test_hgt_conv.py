"""HGTConv against an explicit loop over edges, heads and edge types."""
import functools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given

import gfx
from gfx.nn import HGTConv
from tests.graphs import edge_lists
from tests.nn.test_glob import assert_lowered_matches_eager

NODE_TYPES = ["a", "b", "c"]
EDGE_TYPES = [("a", "to", "b"), ("b", "to", "a"), ("a", "self", "a"), ("c", "to", "b")]
IN = {"a": 4, "b": 8, "c": 3}
HEADS, OUT = 2, 8


def reference_hgt(conv, x, edges):
    """Attention over all incoming edges of every type at once, then out_lin and skip."""
    heads, dim, num_types = HEADS, OUT // HEADS, len(EDGE_TYPES)
    k, q, v = {}, {}, {}
    for nt, feats in x.items():
        lin = conv.kqv_lin.lins[nt]
        kqv = feats @ lin.weight.t() + lin.bias
        k[nt], q[nt], v[nt] = (kqv[:, s * OUT:(s + 1) * OUT].reshape(-1, heads, dim)
                               for s in range(3))
    out = {}
    for nt in ("a", "b"):  # the destination types of the metadata
        n = x[nt].shape[0]
        incoming = [[] for _ in range(n)]
        for t, et in enumerate(EDGE_TYPES):
            if et not in edges or et[2] != nt:
                continue
            for j, i in edges[et].t().tolist():
                key = torch.stack([k[et[0]][j, h] @ conv.k_rel.weight[h * num_types + t]
                                   for h in range(heads)])
                val = torch.stack([v[et[0]][j, h] @ conv.v_rel.weight[h * num_types + t]
                                   for h in range(heads)])
                prior = conv.p_rel["__".join(et)].view(-1)
                incoming[i].append(((q[nt][i] * key).sum(-1) * prior / math.sqrt(dim), val))
        agg = torch.zeros(n, heads, dim, dtype=torch.float64)
        for i, pairs in enumerate(incoming):
            if pairs:
                weights = torch.softmax(torch.stack([s for s, _ in pairs]), dim=0)
                agg[i] = (weights.unsqueeze(-1) * torch.stack([val for _, val in pairs])).sum(0)
        lin = conv.out_lin.lins[nt]
        res = F.gelu(agg.reshape(n, OUT)) @ lin.weight.t() + lin.bias
        if IN[nt] == OUT:
            beta = torch.sigmoid(conv.skip[nt])
            res = beta * res + (1 - beta) * x[nt]
        out[nt] = res
    return out


def make_conv():
    torch.manual_seed(0)
    conv = HGTConv(IN, OUT, (NODE_TYPES, EDGE_TYPES), heads=HEADS).double()
    with torch.no_grad():
        for p in conv.parameters():
            p.uniform_(-1, 1)
    return conv


def graph_inputs(ab, ba, aa, cb):
    (ei_ab, n_a, n_b), (ei_ba, n_b2, _), (ei_aa, _, _), (ei_cb, n_c, _) = ab, ba, aa, cb
    x = {nt: torch.randn(n, IN[nt], dtype=torch.float64)
         for nt, n in (("a", n_a), ("b", n_b), ("c", n_c))}
    edges = {EDGE_TYPES[0]: ei_ab, EDGE_TYPES[1]: torch.stack([ei_ba[0] % n_b, ei_ba[1] % n_a]),
             EDGE_TYPES[2]: ei_aa % n_a, EDGE_TYPES[3]: torch.stack([ei_cb[0], ei_cb[1] % n_b])}
    return x, edges


@given(edge_lists(bipartite=True, max_nodes=5, max_edges=8),
       edge_lists(bipartite=True, max_nodes=5, max_edges=8), edge_lists(max_nodes=5, max_edges=8),
       edge_lists(bipartite=True, max_nodes=4, max_edges=6))
def test_hgt_matches_loops(ab, ba, aa, cb):
    conv = make_conv()
    x, edges = graph_inputs(ab, ba, aa, cb)
    out = conv(x, edges)
    expected = reference_hgt(conv, x, edges)
    assert set(out) == {"a", "b"}
    for nt in out:
        torch.testing.assert_close(out[nt], expected[nt])


def test_hgt_missing_edge_types_give_zero_messages():
    conv = make_conv()
    x = {"a": torch.randn(3, 4, dtype=torch.float64), "b": torch.randn(2, 8, dtype=torch.float64)}
    edges = {EDGE_TYPES[1]: torch.tensor([[0, 1], [2, 2]])}  # only b -> a; no c features
    out = conv(x, edges)
    expected = reference_hgt(conv, x, edges)
    for nt in ("a", "b"):
        torch.testing.assert_close(out[nt], expected[nt])
    lin, beta = conv.out_lin.lins["b"], torch.sigmoid(conv.skip["b"])
    torch.testing.assert_close(out["b"], beta * lin.bias + (1 - beta) * x["b"])


def test_hgt_state_dict_layout_and_lazy():
    conv = HGTConv(IN, OUT, (NODE_TYPES, EDGE_TYPES), heads=HEADS)
    shapes = {k: tuple(v.shape) for k, v in conv.state_dict().items()}
    assert shapes["k_rel.weight"] == (HEADS * 4, 4, 4) and shapes["v_rel.weight"] == (8, 4, 4)
    assert shapes["kqv_lin.lins.a.weight"] == (24, 4) and shapes["out_lin.lins.c.bias"] == (8,)
    assert shapes["p_rel.a__self__a"] == (1, 2) and shapes["skip.b"] == (1,)
    assert len(shapes) == 6 * 2 + 2 + 3 + 4
    lazy = HGTConv(-1, OUT, (NODE_TYPES, EDGE_TYPES), heads=HEADS)
    x = {"a": torch.randn(3, 4), "b": torch.randn(2, 8), "c": torch.randn(1, 3)}
    out = lazy(x, {EDGE_TYPES[0]: torch.tensor([[0], [1]])})
    assert out["b"].shape == (2, 8) and lazy.kqv_lin.lins["c"].weight.shape == (24, 3)


def test_hgt_errors():
    meta = (NODE_TYPES, EDGE_TYPES)
    with pytest.raises(ValueError, match="HGTConv: out_channels=6 must be divisible by heads=4"):
        HGTConv(IN, 6, meta, heads=4)
    with pytest.raises(ValueError, match="HGTConv: edge type .* uses node type 'd'"):
        HGTConv(IN, 8, (NODE_TYPES, [("a", "to", "d")]))
    conv = HGTConv(IN, 8, meta)
    x = {"a": torch.randn(3, 4), "b": torch.randn(2, 8)}
    with pytest.raises(KeyError, match="HGTConv: x_dict has no features for node type.*'c'"):
        conv(x, {EDGE_TYPES[3]: torch.tensor([[0], [1]])})
    with pytest.raises(ValueError, match="HGTConv: edge_index_dict has edge types"):
        conv(x, {("a", "new", "b"): torch.tensor([[0], [1]])})
    with pytest.raises(ValueError, match=r"HGTConv: x_dict\['a'\] must have shape \[num_nodes, 4\]"):
        conv({"a": torch.randn(3, 5), "b": torch.randn(2, 8)},
             {EDGE_TYPES[0]: torch.tensor([[0], [1]])})


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = make_conv()

    def forward(self, x_a, x_b, x_c, edge_index_ab, edge_index_ba, edge_index_aa,
                edge_index_cb):
        out = self.conv({"a": x_a, "b": x_b, "c": x_c},
                        dict(zip(EDGE_TYPES, (edge_index_ab, edge_index_ba, edge_index_aa,
                                              edge_index_cb))))
        return out["a"], out["b"]


@functools.lru_cache(maxsize=None)
def lowered_model():
    model = Model().eval()
    return model, gfx.lower(gfx.capture(model))


@given(edge_lists(bipartite=True, max_nodes=5, max_edges=8),
       edge_lists(bipartite=True, max_nodes=5, max_edges=8), edge_lists(max_nodes=5, max_edges=8),
       edge_lists(bipartite=True, max_nodes=4, max_edges=6))
def test_hgt_lowered_equals_eager(ab, ba, aa, cb):
    model, low = lowered_model()
    x, edges = graph_inputs(ab, ba, aa, cb)
    assert_lowered_matches_eager(model, x["a"], x["b"], x["c"], *edges.values(), lowered=low)


def test_hgt_lowers_with_dict_placeholders():
    conv = make_conv()
    x, edges = graph_inputs((torch.tensor([[0, 1], [1, 0]]), 2, 2),
                            (torch.tensor([[1], [0]]), 2, 2), (torch.tensor([[0], [1]]), 2, 2),
                            (torch.tensor([[0], [1]]), 1, 2))
    low = gfx.lower(gfx.capture(conv))
    got, want = low(x, edges), conv(x, edges)
    assert set(got) == set(want)
    for nt in want:
        torch.testing.assert_close(got[nt], want[nt])
