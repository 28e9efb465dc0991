import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import HypergraphConv
from tests.graphs import edge_lists


def incidence(hyperedge_index, n, m):
    h = torch.zeros(n, m, dtype=torch.float64)
    for i, e in hyperedge_index.t().tolist():
        h[i, e] += 1.0
    return h


def inv(t):
    return torch.where(t == 0, torch.zeros_like(t), 1.0 / t)


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14, bipartite=True), st.booleans(), st.integers(0, 2**16))
def test_matches_dense_formula(graph, weighted, seed):
    hi, n, m = graph
    g = torch.Generator().manual_seed(seed)
    conv = HypergraphConv(3, 2).double()
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    w = torch.rand(m, generator=g, dtype=torch.float64) + 0.5 if weighted else None
    h = incidence(hi, n, m)
    d = h @ (torch.ones(m, dtype=torch.float64) if w is None else w)
    b = h.sum(0)
    expected = inv(d)[:, None] * (h @ (inv(b)[:, None] * (h.t() @ (x @ conv.lin.weight.t())))) \
        + conv.bias
    torch.testing.assert_close(conv(x, hi, w, num_edges=m), expected)


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14, bipartite=True), st.sampled_from(["node", "edge"]),
       st.booleans(), st.integers(0, 2**16))
def test_attention_matches_loop(graph, mode, concat, seed):
    hi, n, m = graph
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    heads, c = 2, 3
    conv = HypergraphConv(4, c, use_attention=True, attention_mode=mode, heads=heads,
                          concat=concat).double()
    x = torch.randn(n, 4, generator=g, dtype=torch.float64)
    attr = torch.randn(m, 4, generator=g, dtype=torch.float64)
    xw = (x @ conv.lin.weight.t()).view(n, heads, c)
    ew = (attr @ conv.lin.weight.t()).view(m, heads, c)
    inc = hi.t().tolist()
    a = conv.att.view(heads, 2 * c)
    score = torch.stack([torch.nn.functional.leaky_relu(
        (torch.cat([xw[i], ew[e]], -1) * a).sum(-1), 0.2) for i, e in inc]) \
        if inc else torch.zeros(0, heads, dtype=torch.float64)
    group = [e if mode == "node" else i for i, e in inc]
    alpha = torch.zeros_like(score)
    for k, grp in enumerate(group):
        members = [q for q, gq in enumerate(group) if gq == grp]
        alpha[k] = score[k].exp() / score[members].exp().sum(0)
    d = incidence(hi, n, m).sum(1)
    b = incidence(hi, n, m).sum(0)
    edge_out = torch.zeros(m, heads, c, dtype=torch.float64)
    for k, (i, e) in enumerate(inc):
        edge_out[e] += inv(b)[e] * alpha[k][:, None] * xw[i]
    out = torch.zeros(n, heads, c, dtype=torch.float64)
    for k, (i, e) in enumerate(inc):
        out[i] += inv(d)[i] * alpha[k][:, None] * edge_out[e]
    out = out.reshape(n, -1) if concat else out.mean(1)
    torch.testing.assert_close(conv(x, hi, hyperedge_attr=attr, num_edges=m), out + conv.bias)


def test_example_from_the_docs_and_repr():
    conv = HypergraphConv(2, 2, bias=False)
    with torch.no_grad():
        conv.lin.weight.copy_(torch.eye(2))
    hi = torch.tensor([[0, 1, 2, 1, 2, 3], [0, 0, 0, 1, 1, 1]])
    x = torch.tensor([[3.0, 0.0], [0.0, 3.0], [3.0, 3.0], [6.0, 0.0]])
    e0, e1 = x[:3].mean(0), x[1:].mean(0)
    expected = torch.stack([e0, (e0 + e1) / 2, (e0 + e1) / 2, e1])
    torch.testing.assert_close(conv(x, hi), expected)
    assert str(conv) == "HypergraphConv(2, 2)"
    assert set(HypergraphConv(2, 3, use_attention=True, heads=2).state_dict()) == {
        "lin.weight", "att", "bias"}


def test_gradcheck():
    conv = HypergraphConv(2, 2, use_attention=True, heads=2).double()
    hi = torch.tensor([[0, 1, 2, 1], [0, 0, 1, 1]])
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    attr = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: conv(a, hi, hyperedge_attr=b), (x, attr))


def test_hypergraph_errors():
    with pytest.raises(ValueError, match="attention_mode"):
        HypergraphConv(2, 2, use_attention=True, attention_mode="nodes")
    with pytest.raises(ValueError, match="use_attention"):
        HypergraphConv(2, 2, heads=2)
    with pytest.raises(ValueError, match="hyperedge_attr"):
        HypergraphConv(2, 2, use_attention=True)(torch.randn(3, 2), torch.tensor([[0], [0]]))
    with pytest.raises(ValueError, match="hyperedge_weight"):
        HypergraphConv(2, 2)(torch.randn(3, 2), torch.tensor([[0, 1], [0, 2]]), torch.ones(2))
    with pytest.raises(IndexError, match="node 5"):
        HypergraphConv(2, 2)(torch.randn(3, 2), torch.tensor([[5], [0]]))
