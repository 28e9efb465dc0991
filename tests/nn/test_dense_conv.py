"""Dense convolutions against per-node loops written from their formulas."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import DenseGATConv, DenseGCNConv, DenseGINConv, DenseGraphConv, DenseSAGEConv


@st.composite
def dense_graph(draw, channels=3, max_nodes=5):
    """One graph: ``x [N, F]`` and a weighted ``adj [N, N]`` (loops, empty rows)."""
    n = draw(st.integers(1, max_nodes))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(n, channels, generator=g, dtype=torch.float64)
    keep = torch.rand(n, n, generator=g) < draw(st.sampled_from([0.0, 0.4, 1.0]))
    adj = torch.where(keep, torch.rand(n, n, generator=g, dtype=torch.float64) + 0.5,
                      torch.zeros((), dtype=torch.float64))
    return x, adj


def W(lin):
    return lin.weight.detach()


@settings(max_examples=10, deadline=None)
@given(dense_graph(), st.booleans(), st.booleans())
def test_gcn_formula(graph, improved, add_loop):
    x, adj = graph
    conv = DenseGCNConv(3, 2, improved=improved).double()
    torch.nn.init.normal_(conv.bias)
    n = x.shape[0]
    a = adj.clone()
    if add_loop:
        for i in range(n):
            a[i, i] = 2.0 if improved else 1.0
    deg = [max(1.0, float(a[i].sum())) for i in range(n)]
    h = x @ W(conv.lin).t()
    expected = torch.stack([
        sum((a[i, j] / math.sqrt(deg[i] * deg[j]) * h[j] for j in range(n)),
            torch.zeros(2, dtype=torch.float64)) + conv.bias.detach() for i in range(n)])
    torch.testing.assert_close(conv(x, adj, add_loop=add_loop)[0], expected)


@settings(max_examples=10, deadline=None)
@given(dense_graph(), st.booleans())
def test_gin_formula(graph, add_loop):
    x, adj = graph
    conv = DenseGINConv(torch.nn.Linear(3, 2).double(), eps=0.25)
    n = x.shape[0]
    agg = torch.stack([sum((adj[i, j] * x[j] for j in range(n)), torch.zeros(3,
                       dtype=torch.float64)) for i in range(n)])
    if add_loop:
        agg = agg + 1.25 * x
    torch.testing.assert_close(conv(x, adj, add_loop=add_loop)[0], conv.nn(agg))


@settings(max_examples=10, deadline=None)
@given(dense_graph(), st.sampled_from(["add", "mean", "max"]))
def test_graph_conv_formula(graph, aggr):
    x, adj = graph
    conv = DenseGraphConv(3, 2, aggr=aggr).double()
    n = x.shape[0]
    rows = []
    for i in range(n):
        if aggr == "max":  # over the column of i, unweighted
            nbrs = [x[j] for j in range(n) if adj[j, i] != 0]
            rows.append(torch.stack(nbrs).max(0)[0] if nbrs else torch.zeros(3,
                        dtype=torch.float64))
            continue
        total = sum((adj[i, j] * x[j] for j in range(n)), torch.zeros(3, dtype=torch.float64))
        rows.append(total / max(1.0, float(adj[i].sum())) if aggr == "mean" else total)
    agg = torch.stack(rows)
    expected = conv.lin_rel(agg) + x @ W(conv.lin_root).t()
    torch.testing.assert_close(conv(x, adj)[0], expected)


@settings(max_examples=10, deadline=None)
@given(dense_graph(), st.booleans())
def test_sage_formula(graph, normalize):
    x, adj = graph
    adj = (adj != 0).double()
    conv = DenseSAGEConv(3, 2, normalize=normalize).double()
    n = x.shape[0]
    rows = []
    for i in range(n):
        nbrs = [x[j] for j in range(n) if adj[i, j] != 0]
        mean = torch.stack(nbrs).mean(0) if nbrs else torch.zeros(3, dtype=torch.float64)
        out = mean @ W(conv.lin_rel).t() + conv.lin_root(x[i])
        rows.append(out / out.norm().clamp(min=1e-12) if normalize else out)
    torch.testing.assert_close(conv(x, adj)[0], torch.stack(rows))


@settings(max_examples=10, deadline=None)
@given(dense_graph(), st.integers(1, 2), st.booleans(), st.booleans())
def test_gat_formula(graph, heads, concat, add_loop):
    x, adj = graph
    conv = DenseGATConv(3, 2, heads=heads, concat=concat).double()
    torch.nn.init.normal_(conv.bias)
    n = x.shape[0]
    a = adj.clone()
    if add_loop:
        a.fill_diagonal_(1.0)
    h = (x @ W(conv.lin).t()).view(n, heads, 2)
    src, dst = conv.att_src.detach().view(heads, 2), conv.att_dst.detach().view(heads, 2)
    out = torch.zeros(n, heads, 2, dtype=torch.float64)
    for i in range(n):
        nbrs = [j for j in range(n) if a[i, j] != 0]
        for k in range(heads):
            if not nbrs:
                continue
            e = torch.stack([torch.nn.functional.leaky_relu(
                (h[j, k] * src[k]).sum() + (h[i, k] * dst[k]).sum(), 0.2) for j in nbrs])
            w = torch.softmax(e, 0)
            out[i, k] = sum(w[t] * h[j, k] for t, j in enumerate(nbrs))
    expected = out.reshape(n, -1) if concat else out.mean(1)
    got = conv(x, adj, add_loop=add_loop)[0]
    torch.testing.assert_close(got, expected + conv.bias.detach())
    assert not torch.isnan(got).any()  # an isolated node gets the bias, not NaN


def test_mask_zeroes_rows_and_padding_does_not_leak():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3)
    adj = (torch.rand(2, 4, 4) < 0.6).float()
    mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    # Padding rows/columns of graph 1 hold nothing, as to_dense_adj produces.
    adj[1, 2:], adj[1, :, 2:] = 0, 0
    for conv in (DenseGCNConv(3, 2), DenseGINConv(torch.nn.Linear(3, 2)),
                 DenseGraphConv(3, 2), DenseSAGEConv(3, 2), DenseGATConv(3, 2, heads=2)):
        out = conv(x, adj, mask)
        assert (out[1, 2:] == 0).all()
        alone = conv(x[1:, :2], adj[1:, :2, :2])
        torch.testing.assert_close(out[1:, :2], alone)


def test_shared_adjacency_broadcasts_over_batch():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 3)
    adj = (torch.rand(4, 4) < 0.5).float()
    for conv in (DenseGCNConv(3, 2), DenseGATConv(3, 2), DenseSAGEConv(3, 2)):
        out = conv(x, adj)
        for b in range(3):
            torch.testing.assert_close(out[b], conv(x[b], adj)[0])


def test_gradcheck_gat_and_gcn():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    adj = torch.tensor([[0., 1, 0], [1, 0, 1], [0, 0, 0]], dtype=torch.float64)
    for conv in (DenseGATConv(3, 2, heads=2).double(), DenseGCNConv(3, 2).double()):
        assert torch.autograd.gradcheck(lambda t: conv(t, adj, add_loop=False), (x,))


def test_repr_and_state_dict_keys():
    assert str(DenseGCNConv(3, 4)) == "DenseGCNConv(3, 4)"
    assert str(DenseGATConv(3, 4, heads=2)) == "DenseGATConv(3, 4, heads=2)"
    assert set(DenseGraphConv(3, 4).state_dict()) == {"lin_rel.weight", "lin_rel.bias",
                                                      "lin_root.weight"}
    assert set(DenseSAGEConv(3, 4).state_dict()) == {"lin_rel.weight", "lin_root.weight",
                                                     "lin_root.bias"}
    assert "eps" in DenseGINConv(torch.nn.Linear(3, 4)).state_dict()


def test_bad_inputs_name_the_argument():
    conv = DenseGCNConv(3, 2)
    with pytest.raises(ValueError, match="'adj'"):
        conv(torch.randn(2, 4, 3), torch.randn(2, 4, 5))
    with pytest.raises(ValueError, match="'adj'"):
        conv(torch.randn(2, 4, 3), torch.randn(2, 3, 3))
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(3), torch.randn(3, 3))
    with pytest.raises(ValueError, match="'mask'"):
        conv(torch.randn(2, 4, 3), torch.randn(2, 4, 4), torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="'aggr'"):
        DenseGraphConv(3, 2, aggr="median")
    with pytest.raises(ValueError, match="'heads'"):
        DenseGATConv(3, 2, heads=0)
