"""Dense layers and dense pooling against the reference library (same weights, inputs)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

pyg = pytest.importorskip("torch_geometric.nn")

import gfx.nn as gnn  # noqa: E402
from tests.oracle.common import compare  # noqa: E402


@st.composite
def dense_batch(draw, channels=3, max_nodes=6, symmetric=False, weighted=False, min_size=0):
    """``(x [B, N, F], adj [B, N, N], mask [B, N])``; graphs may be empty or single-node."""
    B = draw(st.integers(1, 3))
    N = draw(st.integers(1, max_nodes))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(B, N, channels, generator=g)
    adj = (torch.rand(B, N, N, generator=g) < draw(st.sampled_from([0.0, 0.3, 0.7])))
    adj = adj.float()
    if weighted:
        adj = adj * torch.rand(B, N, N, generator=g) * 2
    if symmetric:
        adj = adj + adj.transpose(1, 2)
    sizes = [draw(st.integers(min_size, N)) for _ in range(B)]
    sizes[0] = N
    mask = torch.arange(N).view(1, N) < torch.tensor(sizes).view(B, 1)
    return x, adj, mask


def _close(a, b):
    for u, v in zip(a, b):
        torch.testing.assert_close(u, v, atol=1e-5, rtol=1e-4, equal_nan=True)


@settings(max_examples=10, deadline=None)
@given(dense_batch(), st.booleans(), st.booleans(), st.booleans())
def test_dense_gcn(batch, improved, add_loop, use_mask):
    x, adj, mask = batch
    torch.manual_seed(0)
    mask = mask if use_mask else None
    compare(gnn.DenseGCNConv(3, 4, improved=improved),
            pyg.DenseGCNConv(3, 4, improved=improved), x, adj, mask, add_loop)


@settings(max_examples=10, deadline=None)
@given(dense_batch(weighted=True), st.booleans(), st.booleans())
def test_dense_gin(batch, add_loop, train_eps):
    x, adj, mask = batch
    torch.manual_seed(0)
    ours = gnn.DenseGINConv(torch.nn.Linear(3, 4), eps=0.5, train_eps=train_eps)
    compare(ours, pyg.DenseGINConv(torch.nn.Linear(3, 4), eps=0.5, train_eps=train_eps),
            x, adj, mask, add_loop)


@settings(max_examples=10, deadline=None)
@given(dense_batch(weighted=True), st.sampled_from(["add", "mean", "max"]), st.booleans())
def test_dense_graph_conv(batch, aggr, bias):
    x, adj, mask = batch
    torch.manual_seed(0)
    compare(gnn.DenseGraphConv(3, 4, aggr=aggr, bias=bias),
            pyg.DenseGraphConv(3, 4, aggr=aggr, bias=bias), x, adj, mask)


@settings(max_examples=10, deadline=None)
@given(dense_batch(), st.booleans(), st.booleans())
def test_dense_sage(batch, normalize, bias):
    x, adj, mask = batch
    torch.manual_seed(0)
    compare(gnn.DenseSAGEConv(3, 4, normalize=normalize, bias=bias),
            pyg.DenseSAGEConv(3, 4, normalize=normalize, bias=bias), x, adj, mask)


@settings(max_examples=10, deadline=None)
@given(dense_batch(weighted=True), st.integers(1, 3), st.booleans(), st.booleans())
def test_dense_gat(batch, heads, concat, use_mask):
    x, adj, mask = batch
    torch.manual_seed(0)
    # add_loop=True: without loops the reference gives NaN for isolated nodes.
    compare(gnn.DenseGATConv(3, 4, heads=heads, concat=concat),
            pyg.DenseGATConv(3, 4, heads=heads, concat=concat), x, adj,
            mask if use_mask else None)


@settings(max_examples=10, deadline=None)
@given(dense_batch(symmetric=True, weighted=True), st.integers(1, 3), st.booleans(),
       st.booleans())
def test_dense_diff_pool(batch, clusters, use_mask, normalize):
    x, adj, mask = batch
    s = torch.randn(x.shape[0], x.shape[1], clusters)
    mask = mask if use_mask else None
    _close(gnn.dense_diff_pool(x, adj, s, mask, normalize=normalize),
           pyg.dense_diff_pool(x, adj, s, mask, normalize=normalize))


@settings(max_examples=10, deadline=None)
@given(dense_batch(symmetric=True, weighted=True), st.integers(2, 3), st.booleans(),
       st.sampled_from([1.0, 0.5]))
def test_dense_mincut_pool(batch, clusters, use_mask, temp):
    x, adj, mask = batch
    adj = adj + torch.eye(x.shape[1])  # every node has a degree: no 0 / 0 in the loss
    s = torch.randn(x.shape[0], x.shape[1], clusters)
    mask = mask if use_mask else None
    _close(gnn.dense_mincut_pool(x, adj, s, mask, temp=temp),
           pyg.dense_mincut_pool(x, adj, s, mask, temp=temp))


@settings(max_examples=10, deadline=None)
@given(dense_batch(symmetric=True, min_size=1), st.integers(2, 3), st.booleans())
def test_dmon_pool(batch, clusters, use_mask):
    x, adj, mask = batch
    adj = adj + torch.eye(x.shape[1])  # no graph without edges: its losses are 0 / 0
    torch.manual_seed(0)
    ours, theirs = gnn.DMoNPooling([3, 5], clusters), pyg.DMoNPooling([3, 5], clusters)
    if not use_mask:
        compare(ours, theirs, x, adj)
        return
    assert str(ours) == str(theirs)
    theirs.load_state_dict(ours.state_dict())
    got, expected = ours(x, adj, mask), theirs(x, adj, mask)
    _close(got[:5], expected[:5])
    # The cluster loss with a mask: each graph's own valid-node count (the reference
    # broadcasts [B] / [B, 1]; see the DMoNPooling docstring).
    s, n = got[0], mask.sum(dim=1).to(x.dtype)
    paper = (s.sum(dim=1).norm(dim=1) / n * clusters ** 0.5 - 1).mean()
    torch.testing.assert_close(got[5], paper)
    if bool((n == n[0]).all()):
        torch.testing.assert_close(got[5], expected[5])
