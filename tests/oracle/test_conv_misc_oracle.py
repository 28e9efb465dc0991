"""Issue 12 part B convolutions against the reference library (black box, same weights).

SignedConv, HypergraphConv, WLConv, WLConvContinuous, FAConv, EGConv, PDNConv, MixHopConv,
SuperGATConv, DNAConv, PANConv: every test copies gfx's weights into the reference layer
with :func:`tests.oracle.common.compare` and checks ``str()``, outputs and gradients.
"""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402
from tests.oracle.common import compare, hypothesis_graph  # noqa: E402

pyg = torch_geometric.nn
SETTINGS = settings(max_examples=8, deadline=None)


def seeded(seed):
    return torch.Generator().manual_seed(seed)


@SETTINGS
@given(hypothesis_graph(channels=4, bipartite=True), st.booleans(), st.integers(0, 999))
def test_signed_conv(graph, first_aggr, seed):
    g = seeded(seed)
    ns, nd = graph["x"].shape[0], graph["x_dst"].shape[0]
    neg = torch.stack([torch.randint(0, ns, (5,), generator=g),
                       torch.randint(0, nd, (5,), generator=g)])
    width = 4 if first_aggr else 8
    x = (torch.randn(ns, width, generator=g), torch.randn(nd, width, generator=g))
    compare(gnn.SignedConv(4, 3, first_aggr), pyg.SignedConv(4, 3, first_aggr),
            x, graph["edge_index"], neg)
    square = torch.randint(0, ns, (2, 7), generator=g)
    compare(gnn.SignedConv(4, 3, first_aggr), pyg.SignedConv(4, 3, first_aggr),
            x[0], square, square.flip(0))


@SETTINGS
@given(hypothesis_graph(channels=4, bipartite=True), st.booleans(),
       st.sampled_from([None, "node", "edge"]), st.booleans(), st.integers(0, 999))
def test_hypergraph_conv(graph, weighted, mode, concat, seed):
    g = seeded(seed)
    hi = graph["edge_index"]  # row 0: nodes, row 1: hyperedges
    m = graph["x_dst"].shape[0]
    weight = torch.rand(m, generator=g) + 0.5 if weighted else None
    if mode is None:
        kwargs = {}
    else:
        kwargs = dict(use_attention=True, attention_mode=mode, heads=2, concat=concat)
    ours, theirs = gnn.HypergraphConv(4, 3, **kwargs), pyg.HypergraphConv(4, 3, **kwargs)
    compare(ours, theirs, graph["x"], hi, weight, graph["x_dst"] if mode else None,
            num_edges=m)


@SETTINGS
@given(hypothesis_graph(channels=1, max_nodes=7, max_edges=16), st.integers(0, 999))
def test_wl_conv_colours_equal_the_reference(graph, seed):
    g = seeded(seed)
    n = graph["x"].shape[0]
    ours, theirs = gnn.WLConv(), pyg.WLConv()
    assert str(ours) == str(theirs)
    x = torch.randint(0, 3, (n,), generator=g)
    a, b = x, x
    for _ in range(3):  # the colour tables must grow identically across rounds
        a, b = ours(a, graph["edge_index"]), theirs(b, graph["edge_index"])
        assert torch.equal(a, b)
    batch = torch.sort(torch.randint(0, 2, (n,), generator=g)).values
    for norm in (False, True):
        torch.testing.assert_close(ours.histogram(a, batch, norm), theirs.histogram(b, batch, norm),
                                   equal_nan=True)
    one_hot = torch.eye(3)[x]
    assert torch.equal(ours(one_hot, graph["edge_index"]), theirs(one_hot, graph["edge_index"]))


@SETTINGS
@given(hypothesis_graph(channels=3, bipartite=True), st.booleans(), st.integers(0, 999))
def test_wl_conv_continuous(graph, weighted, seed):
    ei = graph["edge_index"]
    w = torch.rand(ei.shape[1], generator=seeded(seed)) + 0.1 if weighted else None
    x = (graph["x"], graph["x_dst"])
    compare(gnn.WLConvContinuous(), pyg.WLConvContinuous(), x, ei, w)
    size = (graph["x"].shape[0], graph["x_dst"].shape[0])
    compare(gnn.WLConvContinuous(), pyg.WLConvContinuous(), (graph["x"], None), ei, w, size=size)


@SETTINGS
@given(hypothesis_graph(channels=4), st.booleans(), st.booleans(), st.integers(0, 999))
def test_fa_conv(graph, normalize, loops, seed):
    g = seeded(seed)
    x, ei = graph["x"], graph["edge_index"]
    x0 = torch.randn(x.shape, generator=g)
    kwargs = dict(eps=0.3, normalize=normalize, add_self_loops=loops)
    w = None if normalize else torch.rand(ei.shape[1], generator=g)
    compare(gnn.FAConv(4, **kwargs), pyg.FAConv(4, **kwargs), x, x0, ei, w,
            return_attention_weights=True)


@SETTINGS
@given(hypothesis_graph(channels=4),
       st.lists(st.sampled_from(["sum", "mean", "symnorm", "max", "min", "std", "var"]),
                min_size=1, max_size=3, unique=True), st.booleans())
def test_eg_conv(graph, aggregators, loops):
    x, ei = graph["x"], graph["edge_index"]
    n = x.shape[0]
    if loops and "symnorm" not in aggregators:
        # The reference then counts nodes from edge_index; make the last node appear.
        ei = torch.cat([ei, torch.tensor([[n - 1], [n - 1]])], dim=1)
    kwargs = dict(aggregators=aggregators, num_heads=2, num_bases=3, add_self_loops=loops)
    compare(gnn.EGConv(4, 6, **kwargs), pyg.EGConv(4, 6, **kwargs), x, ei)


@SETTINGS
@given(hypothesis_graph(channels=4, edge_dim=3), st.booleans(), st.booleans())
def test_pdn_conv(graph, normalize, loops):
    kwargs = dict(add_self_loops=loops, normalize=normalize)
    compare(gnn.PDNConv(4, 5, 3, 6, **kwargs), pyg.PDNConv(4, 5, 3, 6, **kwargs),
            graph["x"], graph["edge_index"], graph["edge_attr"])


@SETTINGS
@given(hypothesis_graph(channels=4), st.lists(st.integers(0, 3), min_size=1, max_size=3,
                                              unique=True), st.booleans(), st.booleans(),
       st.integers(0, 999))
def test_mixhop_conv(graph, powers, loops, weighted, seed):
    ei = graph["edge_index"]
    w = torch.rand(ei.shape[1], generator=seeded(seed)) + 0.1 if weighted else None
    ours = gnn.MixHopConv(4, 3, powers, add_self_loops=loops)
    torch.nn.init.normal_(ours.bias)
    compare(ours, pyg.MixHopConv(4, 3, powers, add_self_loops=loops), graph["x"], ei, w)


@SETTINGS
@given(hypothesis_graph(channels=4), st.sampled_from(["MX", "SD"]), st.booleans(),
       st.booleans(), st.integers(0, 999))
def test_supergat_conv(graph, attention_type, concat, loops, seed):
    x, ei = graph["x"], graph["edge_index"]
    kwargs = dict(heads=2, concat=concat, add_self_loops=loops, attention_type=attention_type)
    ours, theirs = gnn.SuperGATConv(4, 3, **kwargs), pyg.SuperGATConv(4, 3, **kwargs)
    compare(ours.eval(), theirs.eval(), x, ei)
    # Training with given negatives is deterministic: the link task must agree too.
    neg = torch.randint(0, x.shape[0], (2, 4), generator=seeded(seed))
    compare(ours.train(), theirs.train(), x, ei, neg)
    torch.testing.assert_close(ours.get_attention_loss(), theirs.get_attention_loss())


@SETTINGS
@given(hypothesis_graph(channels=8), st.sampled_from([(1, 1), (2, 1), (2, 2), (4, 2), (1, 4)]),
       st.booleans(), st.booleans(), st.integers(0, 999))
def test_dna_conv(graph, heads_groups, bias, weighted, seed):
    g = seeded(seed)
    n, ei = graph["x"].shape[0], graph["edge_index"]
    x = torch.randn(n, 3, 8, generator=g)
    w = torch.rand(ei.shape[1], generator=g) + 0.1 if weighted else None
    heads, groups = heads_groups
    compare(gnn.DNAConv(8, heads, groups, bias=bias), pyg.DNAConv(8, heads, groups, bias=bias),
            x, ei, w)


@SETTINGS
@given(hypothesis_graph(channels=4), st.integers(0, 3))
def test_pan_conv(graph, filter_size):
    pytest.importorskip("torch_sparse", reason="the reference PANConv builds a torch-sparse "
                        "SparseTensor; torch-sparse is not installed")
    ours, theirs = gnn.PANConv(4, 3, filter_size), pyg.PANConv(4, 3, filter_size)
    assert str(ours) == str(theirs)
    theirs.load_state_dict(ours.state_dict())
    out_a, met_a = ours(graph["x"], graph["edge_index"])
    out_b, met_b = theirs(graph["x"], graph["edge_index"])
    torch.testing.assert_close(out_a, out_b)
    torch.testing.assert_close(met_a.to_dense(), met_b.to_dense())
