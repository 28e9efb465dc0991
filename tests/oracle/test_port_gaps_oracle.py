"""The gaps real ports hit (drop-in parity issue, section 3), each against the reference.

Every test runs the same code on gfx and on the reference library with copied weights and
compares the results.
"""
import pytest
import torch

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402
from gfx.nn.conv.gcn_conv import gcn_norm  # noqa: E402
from tests.oracle.common import compare  # noqa: E402

pyg = torch_geometric.nn
META = (["a", "b"], [("a", "r", "b"), ("b", "rev-r", "a")])
EDGES = {("a", "r", "b"): torch.tensor([[0, 1, 2, 2], [0, 1, 1, 0]]),
         ("b", "rev-r", "a"): torch.tensor([[0, 1, 1], [2, 0, 0]])}


def features(*leading):
    g = torch.Generator().manual_seed(0)
    return {"a": torch.randn(*leading, 3, 4, generator=g),
            "b": torch.randn(*leading, 2, 4, generator=g)}


def sparse_graph():
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 2]])
    return torch.sparse_coo_tensor(edge_index.flip(0), torch.rand(6) + 0.5, (6, 6)).coalesce()


class InPlace(torch.nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.conv1 = lib.SAGEConv((-1, -1), 4)
        self.conv2 = lib.SAGEConv((-1, -1), 4)

    def forward(self, x, edge_index):
        x = self.conv1(x, edge_index).relu_()
        return self.conv2(x, edge_index)


class EdgeScores(torch.nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.conv = lib.GraphConv(4, 4, aggr="add")

    def forward(self, x, edge_index):
        h = self.conv(x, edge_index)
        return h[edge_index[0]] * h[edge_index[1]]  # [E, F] per edge


class OneLayer(torch.nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.conv = lib.GraphConv(4, 4, aggr="add")

    def forward(self, x, edge_index):
        return self.conv(x, edge_index)


def hetero_pair(make, transform, **kwargs):
    torch.manual_seed(0)
    ours = getattr(gnn, transform)(make(gnn), META, **kwargs)
    torch.manual_seed(0)
    theirs = getattr(pyg, transform)(make(pyg), META, **kwargs)
    return ours, theirs


def assert_dicts_close(a, b):
    assert set(a) == set(b)
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=str(key))


def test_to_hetero_with_an_inplace_activation():
    ours, theirs = hetero_pair(InPlace, "to_hetero")
    ours(features(), EDGES)  # materialise lazy sizes before copying weights
    theirs(features(), EDGES)
    theirs.load_state_dict(ours.state_dict())
    assert_dicts_close(ours(features(), EDGES), theirs(features(), EDGES))


@pytest.mark.parametrize("make,leading", [(EdgeScores, ()), (OneLayer, (2,))])
def test_to_hetero_with_bases_edge_outputs_and_batched_inputs(make, leading):
    ours, theirs = hetero_pair(make, "to_hetero_with_bases", num_bases=2)
    ours(features(*leading), EDGES)
    theirs(features(*leading), EDGES)
    theirs.load_state_dict(ours.state_dict())
    out = ours(features(*leading), EDGES)
    assert_dicts_close(out, theirs(features(*leading), EDGES))
    if make is EdgeScores:
        assert set(out) == set(EDGES)


def test_graph_conv_target_none_with_sparse_adjacency():
    x = torch.randn(6, 4)
    adj = torch.sparse_coo_tensor(torch.tensor([[0, 1, 1], [0, 1, 2]]), torch.ones(3), (2, 6))
    out = compare(gnn.GraphConv(4, 3), pyg.GraphConv(4, 3), (x, None), adj)
    assert out.shape == (2, 3)


def test_gen_conv_with_edge_dim_called_without_edge_attr():
    x, edge_index = torch.randn(6, 4), torch.tensor([[0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 2]])
    torch.manual_seed(0)
    ours = gnn.GENConv(4, 4, edge_dim=3)
    torch.manual_seed(0)
    compare(ours, pyg.GENConv(4, 4, edge_dim=3), x, edge_index)


@pytest.mark.parametrize("layout", [torch.sparse_coo, torch.sparse_csr])
@pytest.mark.parametrize("improved", [False, True])
def test_gcn_norm_on_torch_sparse(layout, improved):
    from torch_geometric.nn.conv.gcn_conv import gcn_norm as reference_gcn_norm
    adj = sparse_graph() if layout == torch.sparse_coo else sparse_graph().to_sparse_csr()
    ours, ours_weight = gcn_norm(adj, improved=improved)
    theirs, theirs_weight = reference_gcn_norm(adj, improved=improved)
    assert ours.layout == theirs.layout and ours_weight is None and theirs_weight is None
    torch.testing.assert_close(ours.to_dense(), theirs.to_dense())


def test_gat_sparse_adjacency_returns_sparse_attention():
    x = torch.randn(6, 4)
    ours, theirs = gnn.GATConv(4, 2, heads=2), pyg.GATConv(4, 2, heads=2)
    theirs.load_state_dict(ours.state_dict())
    out_a, (adj_a, alpha_a) = ours(x, sparse_graph(), return_attention_weights=True)
    out_b, (adj_b, alpha_b) = theirs(x, sparse_graph(), return_attention_weights=True)
    torch.testing.assert_close(out_a, out_b)
    assert adj_a.layout == adj_b.layout == torch.sparse_coo and adj_a.shape == adj_b.shape
    torch.testing.assert_close(adj_a.to_dense(), adj_b.to_dense())
    torch.testing.assert_close(alpha_a, alpha_b)


@pytest.mark.parametrize("lib_from,lib_to", [("gfx", "gfx"), ("pyg", "gfx"), ("gfx", "pyg")])
def test_lazy_linear_checkpoints_load_both_ways(lib_from, lib_to):
    libs = {"gfx": gnn, "pyg": pyg}
    x = torch.randn(2, 4)
    built = libs[lib_from].Linear(4, 3)
    lazy = libs[lib_to].Linear(-1, 3)
    lazy.load_state_dict(built.state_dict())
    torch.testing.assert_close(lazy(x), built(x))
    # A lazy checkpoint makes a built layer lazy again, in both libraries.
    target = libs[lib_to].Linear(4, 3)
    target.load_state_dict(libs[lib_from].Linear(-1, 3).state_dict())
    assert target(torch.randn(2, 5)).shape == (2, 3)


def test_mlp_return_emb_and_aggregation_resolver_none():
    from torch_geometric.nn.resolver import aggregation_resolver
    x = torch.randn(5, 4)
    ours, theirs = gnn.MLP([4, 8, 3]), pyg.MLP([4, 8, 3])
    theirs.load_state_dict(ours.state_dict())
    ours.eval(), theirs.eval()
    for a, b in zip(ours(x, return_emb=True), theirs(x, return_emb=True)):
        torch.testing.assert_close(a, b)
    assert gnn.aggregation_resolver(None) is None and aggregation_resolver(None) is None
