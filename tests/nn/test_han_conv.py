"""HANConv against explicit loops: node-level then semantic-level attention."""
import functools

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given

import gfx
from gfx.nn import HANConv
from tests.graphs import edge_lists
from tests.nn.test_glob import assert_lowered_matches_eager
from tests.nn.test_hgt_conv import EDGE_TYPES, IN, NODE_TYPES, graph_inputs

HEADS, OUT, SLOPE = 2, 8, 0.3


def reference_han(conv, x, edges):
    dim = OUT // HEADS
    h = {nt: (feats @ conv.proj[nt].weight.t() + conv.proj[nt].bias).reshape(-1, HEADS, dim)
         for nt, feats in x.items()}
    per_type = {nt: [] for nt in x}
    for et, edge_index in edges.items():
        src, _, dst = et
        key = "__".join(et)
        a_src = (h[src] * conv.lin_src[key]).sum(-1)
        a_dst = (h[dst] * conv.lin_dst[key]).sum(-1)
        out = torch.zeros(h[dst].shape[0], HEADS, dim, dtype=torch.float64)
        for i in range(h[dst].shape[0]):
            js = [j for j, t in edge_index.t().tolist() if t == i]
            if js:
                scores = F.leaky_relu(a_src[js] + a_dst[i], SLOPE)
                out[i] = (torch.softmax(scores, 0).unsqueeze(-1) * h[src][js]).sum(0)
        per_type[dst].append(out.reshape(-1, OUT).clamp(min=0))
    result, attention = {}, {}
    for nt, outs in per_type.items():
        if not outs:
            result[nt] = attention[nt] = None
            continue
        scores = torch.stack([(conv.q.view(-1) * torch.tanh(
            o @ conv.k_lin.weight.t() + conv.k_lin.bias).mean(0)).sum() for o in outs])
        weights = torch.softmax(scores, 0)
        result[nt] = sum(w * o for w, o in zip(weights, outs))
        attention[nt] = weights
    return result, attention


def make_conv(**kwargs):
    torch.manual_seed(0)
    conv = HANConv(IN, OUT, (NODE_TYPES, EDGE_TYPES), heads=HEADS, negative_slope=SLOPE,
                   **kwargs).double()
    with torch.no_grad():
        for p in conv.parameters():
            p.uniform_(-1, 1)
    return conv


@given(edge_lists(bipartite=True, max_nodes=5, max_edges=8),
       edge_lists(bipartite=True, max_nodes=5, max_edges=8), edge_lists(max_nodes=5, max_edges=8),
       edge_lists(bipartite=True, max_nodes=4, max_edges=6))
def test_han_matches_loops(ab, ba, aa, cb):
    conv = make_conv()
    x, edges = graph_inputs(ab, ba, aa, cb)
    out, attention = conv(x, edges, return_semantic_attention_weights=True)
    expected, expected_attention = reference_han(conv, x, edges)
    assert out["c"] is None and attention["c"] is None
    for nt in ("a", "b"):
        torch.testing.assert_close(out[nt], expected[nt])
        torch.testing.assert_close(attention[nt], expected_attention[nt])


def test_han_subsets_of_edge_types_and_empty_node_sets():
    conv = make_conv()
    x = {"a": torch.randn(3, 4, dtype=torch.float64), "b": torch.randn(2, 8, dtype=torch.float64)}
    edges = {EDGE_TYPES[1]: torch.tensor([[0, 1], [2, 2]])}
    out = conv(x, edges)
    assert out["b"] is None
    torch.testing.assert_close(out["a"], reference_han(conv, x, edges)[0]["a"])
    empty = conv({"a": torch.zeros(0, 4, dtype=torch.float64), "b": x["b"]},
                 {EDGE_TYPES[1]: torch.zeros(2, 0, dtype=torch.long)}, True)
    assert empty[0]["a"].shape == (0, 8) and empty[1]["a"] is None


def test_han_attention_dropout_follows_training_mode():
    conv = make_conv(dropout=0.9)
    x = {"a": torch.randn(6, 4, dtype=torch.float64), "b": torch.randn(5, 8, dtype=torch.float64)}
    edges = {EDGE_TYPES[0]: torch.randint(0, 5, (2, 30))}
    conv.eval()
    assert torch.equal(conv(x, edges)["b"], conv(x, edges)["b"])
    conv.train()
    torch.manual_seed(1)
    assert not torch.equal(conv(x, edges)["b"], conv.eval()(x, edges)["b"])


def test_han_state_dict_layout_and_errors():
    shapes = {k: tuple(v.shape) for k, v in
              HANConv(IN, OUT, (NODE_TYPES, EDGE_TYPES), heads=HEADS).state_dict().items()}
    assert shapes["q"] == (1, 8) and shapes["k_lin.weight"] == (8, 8)
    assert shapes["proj.c.weight"] == (8, 3) and shapes["lin_src.c__to__b"] == (1, 2, 4)
    assert shapes["lin_dst.a__self__a"] == (1, 2, 4) and len(shapes) == 3 + 6 + 8
    with pytest.raises(ValueError, match="HANConv: out_channels=8 must be divisible by heads=3"):
        HANConv(IN, 8, (NODE_TYPES, EDGE_TYPES), heads=3)
    with pytest.raises(ValueError, match="HANConv: node type 'a.b' must be"):
        HANConv(4, 8, (["a.b"], []))
    conv = HANConv(IN, 8, (NODE_TYPES, EDGE_TYPES))
    with pytest.raises(KeyError, match="HANConv: x_dict has no features for node type.*'a'"):
        conv({"b": torch.randn(2, 8)}, {EDGE_TYPES[0]: torch.tensor([[0], [1]])})
    with pytest.raises(ValueError, match=r"HANConv: x_dict\['a'\] must have shape \[num_nodes, 4\]"):
        conv({"a": torch.randn(2, 5), "b": torch.randn(2, 8)},
             {EDGE_TYPES[0]: torch.tensor([[0], [1]])})


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = make_conv(dropout=0.5)

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
def test_han_lowered_equals_eager(ab, ba, aa, cb):
    model, low = lowered_model()
    x, edges = graph_inputs(ab, ba, aa, cb)
    assert_lowered_matches_eager(model, x["a"], x["b"], x["c"], *edges.values(), lowered=low)
