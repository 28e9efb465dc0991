"""GraphUNet: augment_adj against the dense square, forward against a step-by-step
composition written from the docstring, compiled == eager, bad input."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gfx
from gfx.nn import GraphUNet
from tests.graphs import edge_lists

D = torch.float64


def dense_square(edge_index, weight, n):
    """(A + I)^2 without its diagonal, loops replaced by weight 1; A[i, j] for i -> j."""
    a = torch.zeros(n, n, dtype=D)
    for (i, j), w in zip(edge_index.t().tolist(), weight.tolist()):
        if i != j:
            a[i, j] += w
    a = a + torch.eye(n, dtype=D)
    sq = a @ a
    sq.fill_diagonal_(0)
    return sq


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_augment_adj_is_the_square(graph):
    edge_index, n, _ = graph
    weight = torch.rand(edge_index.shape[1], dtype=D) + 0.5
    model = GraphUNet(2, 4, 2, depth=1)
    (rows, cols), values = model.augment_adj(edge_index, weight, n)
    got = torch.zeros(n, n, dtype=D)
    got[rows, cols] = values
    torch.testing.assert_close(got, dense_square(edge_index, weight, n))
    keys = (rows * n + cols).tolist()
    assert keys == sorted(set(keys))  # row-major, no duplicates, no loops
    assert bool((rows != cols).all())


def composed(model, x, edge_index, batch):
    """The docstring's down / up paths, written out with the model's own layers."""
    w = x.new_ones(edge_index.shape[1])
    h = model.act(model.down_convs[0](x, edge_index, w))
    levels, perms = [(h, edge_index, w)], []
    for i, pool in enumerate(model.pools):
        n = h.shape[0]
        sq = dense_square(edge_index, w.double(), n)
        ei = sq.nonzero().t()
        ew = sq[ei[0], ei[1]].to(x.dtype)
        h, edge_index, w, batch, perm, _ = pool(h, ei, ew, batch)
        h = model.act(model.down_convs[i + 1](h, edge_index, w))
        levels.append((h, edge_index, w))
        perms.append(perm)
    for i in range(model.depth):
        j = model.depth - 1 - i
        res, ei, ew = levels[j]
        up = torch.zeros_like(res)
        up[perms[j]] = h
        h = res + up if model.sum_res else torch.cat([res, up], -1)
        h = model.up_convs[i](h, ei, ew)
        h = model.act(h) if i < model.depth - 1 else h
    return h


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=10), st.integers(1, 3), st.booleans())
def test_forward_matches_composition(graph, depth, sum_res):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    model = GraphUNet(3, 4, 2, depth=depth, pool_ratios=0.6, sum_res=sum_res).double()
    x = torch.randn(n, 3, dtype=D)
    batch = torch.zeros(n, dtype=torch.long)
    torch.testing.assert_close(model(x, edge_index), composed(model, x, edge_index, batch))


def test_compiled_equals_eager():
    torch.manual_seed(0)
    model = GraphUNet(3, 8, 2, depth=2, pool_ratios=[0.7, 0.5]).double()
    compiled = gfx.compile(model, backend="reference")
    for n, e in ((12, 30), (7, 10)):
        x = torch.randn(n, 3, dtype=D)
        edge_index = torch.randint(0, n, (2, e))
        torch.testing.assert_close(compiled(x, edge_index), model(x, edge_index))


def test_repr_and_errors():
    assert str(GraphUNet(3, 8, 2, depth=2)) == \
        "GraphUNet(3, 8, 2, depth=2, pool_ratios=[0.5, 0.5])"
    with pytest.raises(ValueError, match="'depth'"):
        GraphUNet(3, 8, 2, depth=0)
    with pytest.raises(ValueError, match="'pool_ratios'"):
        GraphUNet(3, 8, 2, depth=2, pool_ratios=[0.5])
