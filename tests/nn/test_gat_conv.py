import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import gfx
from gfx.nn import GATConv
from gfx.structure import cache_clear, cache_info
from gfx.utils import edge_index_to_adj_t
from tests.graphs import edge_lists


def replace_loops(edge_index, n_src, n_dst, edge_attr=None, fill="mean"):
    """Drop every loop, then add (i, i) for i < min(n_src, n_dst): explicit Python."""
    edges, attrs = [], []
    for e, (j, i) in enumerate(edge_index.t().tolist()):
        if i != j:
            edges.append((j, i))
            attrs.append(None if edge_attr is None else edge_attr[e])
    incoming = {i: [a for (_, t), a in zip(edges, attrs) if t == i] for i in range(n_dst)}
    for i in range(min(n_src, n_dst)):
        edges.append((i, i))
        if edge_attr is None:
            attrs.append(None)
        elif isinstance(fill, float):
            attrs.append(torch.full(edge_attr.shape[1:], fill, dtype=edge_attr.dtype))
        elif not incoming[i]:
            attrs.append(torch.zeros(edge_attr.shape[1:], dtype=edge_attr.dtype))
        elif fill == "mean":
            attrs.append(torch.stack(incoming[i]).mean(0))
        else:  # "max"
            attrs.append(torch.stack(incoming[i]).max(0).values)
    return edges, attrs


def gat_reference(conv, x_src, x_dst, edges, attrs):
    """The documented GAT formula, one target and one head at a time."""
    H, C = conv.heads, conv.out_channels
    lin_s = conv.lin if conv.lin is not None else conv.lin_src
    lin_t = conv.lin if conv.lin is not None else conv.lin_dst
    hs = (x_src @ lin_s.weight.t()).view(-1, H, C)
    ht = (x_dst @ lin_t.weight.t()).view(-1, H, C)
    out = torch.zeros(x_dst.shape[0], H, C, dtype=x_src.dtype)
    alphas = torch.zeros(len(edges), H, dtype=x_src.dtype)
    for i in range(x_dst.shape[0]):
        inc = [(k, j) for k, (j, t) in enumerate(edges) if t == i]
        if not inc:
            continue
        scores = torch.zeros(len(inc), H, dtype=x_src.dtype)
        for r, (k, j) in enumerate(inc):
            for h in range(H):
                s = conv.att_src[0, h] @ hs[j, h] + conv.att_dst[0, h] @ ht[i, h]
                if conv.lin_edge is not None and attrs[k] is not None:
                    he = (attrs[k].view(-1) @ conv.lin_edge.weight.t()).view(H, C)
                    s = s + conv.att_edge[0, h] @ he[h]
                scores[r, h] = s
        alpha = torch.softmax(F.leaky_relu(scores, conv.negative_slope), dim=0)
        for r, (k, j) in enumerate(inc):
            alphas[k] = alpha[r]
            out[i] += alpha[r].view(H, 1) * hs[j]
    out = out.reshape(-1, H * C) if conv.concat else out.mean(1)
    if conv.res is not None:
        out = out + x_dst @ conv.res.weight.t()
    if conv.bias is not None:
        out = out + conv.bias
    return out, alphas


@given(edge_lists(bipartite=True), st.sampled_from(["mean", "max", 0.5]), st.booleans())
def test_gat_bipartite_edge_features_match_formula(graph, fill, concat):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = GATConv((3, 2), 4, heads=2, edge_dim=2, fill_value=fill, concat=concat,
                   residual=True).double()
    with torch.no_grad():
        conv.bias.normal_()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    attr = torch.randn(edge_index.shape[1], 2, dtype=torch.float64)
    out, (ei, alpha) = conv((x_src, x_dst), edge_index, attr, return_attention_weights=True)
    edges, attrs = replace_loops(edge_index, n_src, n_dst, attr, fill)
    expected, expected_alpha = gat_reference(conv, x_src, x_dst, edges, attrs)
    assert ei.t().tolist() == [list(e) for e in edges]
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(alpha, expected_alpha)


@given(edge_lists(), st.booleans())
def test_gat_homogeneous_matches_formula(graph, add_self_loops):
    edge_index, n, _ = graph
    torch.manual_seed(1)
    conv = GATConv(3, 2, heads=3, add_self_loops=add_self_loops, negative_slope=0.1).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    edges = (replace_loops(edge_index, n, n)[0] if add_self_loops
             else [tuple(e) for e in edge_index.t().tolist()])
    expected, _ = gat_reference(conv, x, x, edges, [None] * len(edges))
    torch.testing.assert_close(conv(x, edge_index), expected)


def test_attention_sums_to_one_and_dropout_follows_training():
    torch.manual_seed(0)
    conv = GATConv(4, 3, heads=2, dropout=0.5)
    x, ei = torch.randn(6, 4), torch.randint(0, 6, (2, 30))
    conv.eval()
    _, (loops, alpha) = conv(x, ei, return_attention_weights=True)
    per_target = torch.zeros(6, 2).index_add_(0, loops[1], alpha)
    torch.testing.assert_close(per_target, torch.ones(6, 2))
    torch.testing.assert_close(conv(x, ei), conv(x, ei))
    conv.train()
    _, (_, dropped) = conv(x, ei, return_attention_weights=True)
    assert (dropped == 0).any() and not torch.allclose(dropped, alpha)


def test_gat_sparse_adjacency_and_lazy():
    torch.manual_seed(0)
    conv = GATConv(-1, 3, heads=2)
    edge_index = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 3, 0]])
    x = torch.randn(4, 5)
    expected = conv(x, edge_index)
    assert conv.lin.weight.shape == (6, 5)
    torch.testing.assert_close(conv(x, edge_index_to_adj_t(edge_index, size=(4, 4))), expected)


def test_gat_state_dict_layout():
    assert set(GATConv(3, 4, heads=2).state_dict()) == {"lin.weight", "att_src", "att_dst",
                                                         "bias"}
    keys = GATConv((3, 5), 4, heads=2, edge_dim=2, residual=True, concat=False).state_dict()
    assert {k: tuple(v.shape) for k, v in keys.items()} == {
        "lin_src.weight": (8, 3), "lin_dst.weight": (8, 5), "att_src": (1, 2, 4),
        "att_dst": (1, 2, 4), "att_edge": (1, 2, 4), "lin_edge.weight": (8, 2),
        "res.weight": (4, 5), "bias": (4,)}


def test_self_loops_are_one_cached_structure_node():
    cache_clear()
    conv = GATConv(3, 3).eval()
    ei = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 2]])
    x = torch.randn(3, 3)
    conv(conv(x, ei), ei)
    assert (cache_info().misses, cache_info().hits) == (1, 1)
    low = gfx.lower(gfx.capture(conv))
    calls = [n for n in low.graph.nodes if n.op == "call_function"
             and getattr(n.target, "__name__", "") == "attention_self_loops"]
    assert len(calls) == 1
    torch.testing.assert_close(low(x, ei), conv(x, ei))


class Bipartite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GATConv((3, 2), 4, heads=2, edge_dim=2, residual=True)

    def forward(self, x_src, x_dst, edge_index, edge_attr):
        return self.conv((x_src, x_dst), edge_index, edge_attr)


def assert_lowered_matches_eager(model, *inputs):
    """Outputs and gradients (inputs and parameters) of the lowered graph equal eager."""
    model.eval()
    low = gfx.lower(gfx.capture(model))
    results = []
    for module in (low, model):
        args = [t.clone().requires_grad_() if t.is_floating_point() else t for t in inputs]
        model.zero_grad()
        out = module(*args)
        out.pow(2).sum().backward()
        results.append((out, [a.grad for a in args if a.is_floating_point()],
                        [None if p.grad is None else p.grad.clone()
                         for p in model.parameters()]))
    (out_l, in_l, par_l), (out_e, in_e, par_e) = results
    torch.testing.assert_close(out_l, out_e)
    for got, want in zip(in_l + par_l, in_e + par_e):
        assert (got is None) == (want is None)
        if got is not None:
            torch.testing.assert_close(got, want)


@settings(max_examples=15)  # each example captures and lowers anew
@given(edge_lists(bipartite=True))
def test_gat_lowered_equals_eager_bipartite(graph):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    model = Bipartite().double()
    assert_lowered_matches_eager(model, torch.randn(n_src, 3, dtype=torch.float64),
                                 torch.randn(n_dst, 2, dtype=torch.float64), edge_index,
                                 torch.randn(edge_index.shape[1], 2, dtype=torch.float64))


def test_gat_lowered_equals_eager_homogeneous():
    torch.manual_seed(0)
    # edge_dim is set but no edge_attr is passed: the edge term is skipped, traced too.
    conv = GATConv(3, 4, heads=2, concat=False, edge_dim=2).double()
    assert_lowered_matches_eager(conv, torch.randn(7, 3, dtype=torch.float64),
                                 torch.randint(0, 7, (2, 25)))


def test_gat_errors():
    conv = GATConv(3, 2, edge_dim=2)
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="GATConv.*'x' have 5 channels"):
        conv(torch.randn(4, 5), ei)
    with pytest.raises(ValueError, match="GATConv.*edge_dim=2"):
        conv(x, ei, torch.randn(2, 3))
    with pytest.raises(ValueError, match="GATConv.*3 rows.*2 edges"):
        conv(x, ei, torch.randn(3, 2))
    with pytest.raises(ValueError, match="GATConv.*residual"):
        GATConv((3, 3), 2, residual=True)((x, None), ei)
