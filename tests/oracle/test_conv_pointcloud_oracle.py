"""Point-cloud and edge-conditioned convolutions against the reference library (black
box: same weights, same inputs, same outputs, gradients and ``str()``)."""
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402
from tests.oracle.common import compare, hypothesis_graph  # noqa: E402

pyg = torch_geometric.nn
settings_ = settings(max_examples=8, deadline=None)


def needs_pyg_lib(name):
    """The reference builds these layers only with pyg-lib (not installed here)."""
    try:
        import pyg_lib  # noqa: F401
    except ImportError:
        pytest.skip(f"the reference {name} requires pyg-lib, which is not installed")


def test_spline_conv_oracle():
    needs_pyg_lib("SplineConv")
    torch.manual_seed(0)
    ours = gnn.SplineConv(4, 8, dim=2, kernel_size=3)
    theirs = pyg.SplineConv(4, 8, dim=2, kernel_size=3)
    x, ei = torch.randn(6, 4), torch.randint(0, 6, (2, 14))
    compare(ours, theirs, x, ei, torch.rand(14, 2))


def mlp(*sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


@settings_
@given(hypothesis_graph(channels=4, bipartite=True, edge_dim=2), st.booleans(),
       st.sampled_from(["mean", "add", "max"]))
def test_gmm_conv_oracle(graph, separate, aggr):
    torch.manual_seed(0)
    ours = gnn.GMMConv((4, 3), 5, dim=2, kernel_size=3, separate_gaussians=separate,
                       aggr=aggr)
    theirs = pyg.GMMConv((4, 3), 5, dim=2, kernel_size=3, separate_gaussians=separate,
                         aggr=aggr)
    torch.nn.init.normal_(ours.bias)
    x_dst = graph["x_dst"][:, :3]
    compare(ours, theirs, (graph["x"], x_dst), graph["edge_index"], graph["edge_attr"])


@settings_
@given(hypothesis_graph(channels=4, edge_dim=3), st.sampled_from(["add", "mean"]),
       st.booleans())
def test_nn_conv_oracle(graph, aggr, root_weight):
    torch.manual_seed(0)
    ours = gnn.NNConv(4, 5, mlp(3, 6, 20), aggr=aggr, root_weight=root_weight)
    theirs = pyg.NNConv(4, 5, mlp(3, 6, 20), aggr=aggr, root_weight=root_weight)
    torch.nn.init.normal_(ours.bias)
    compare(ours, theirs, graph["x"], graph["edge_index"], graph["edge_attr"])


@settings_
@given(hypothesis_graph(channels=4, bipartite=True, edge_dim=3))
def test_nn_conv_bipartite_oracle(graph):
    torch.manual_seed(0)
    ours = gnn.ECConv((4, 2), 5, mlp(3, 20), aggr="max")
    theirs = pyg.NNConv((4, 2), 5, mlp(3, 20), aggr="max")
    compare(ours, theirs, (graph["x"], graph["x_dst"][:, :2]), graph["edge_index"],
            graph["edge_attr"])


@settings_
@given(hypothesis_graph(channels=4, edge_dim=3), st.sampled_from([0, 3]), st.booleans(),
       st.sampled_from(["add", "mean"]))
def test_cg_conv_oracle(graph, dim, batch_norm, aggr):
    torch.manual_seed(0)
    ours = gnn.CGConv(4, dim=dim, batch_norm=batch_norm, aggr=aggr)
    theirs = pyg.CGConv(4, dim=dim, batch_norm=batch_norm, aggr=aggr)
    if batch_norm and graph["x"].shape[0] < 2:
        ours.eval(), theirs.eval()
    args = [graph["x"], graph["edge_index"]] + ([graph["edge_attr"]] if dim else [])
    compare(ours, theirs, *args)


@settings_
@given(hypothesis_graph(channels=4, bipartite=True))
def test_cg_conv_bipartite_oracle(graph):
    torch.manual_seed(0)
    ours, theirs = gnn.CGConv((4, 3)), pyg.CGConv((4, 3))
    compare(ours, theirs, (graph["x"], graph["x_dst"][:, :3]), graph["edge_index"])


@settings_
@given(hypothesis_graph(channels=4), st.integers(1, 3), st.booleans())
def test_feast_conv_oracle(graph, heads, loops):
    # the reference cannot reshape an empty message tensor (no edges, no loops)
    assume(loops or graph["edge_index"].shape[1] > 0)
    torch.manual_seed(0)
    ours = gnn.FeaStConv(4, 5, heads=heads, add_self_loops=loops)
    theirs = pyg.FeaStConv(4, 5, heads=heads, add_self_loops=loops)
    compare(ours, theirs, graph["x"], graph["edge_index"])


@settings_
@given(hypothesis_graph(channels=4, bipartite=True))
def test_feast_conv_bipartite_oracle(graph):
    # the reference adds one loop per target node, which indexes past the sources when
    # there are fewer of them; gfx adds min(N_src, N_dst) loops (same result otherwise)
    x_src, x_dst, ei = graph["x"], graph["x_dst"], graph["edge_index"]
    keep = ei[1] < x_src.shape[0]
    torch.manual_seed(0)
    ours, theirs = gnn.FeaStConv(4, 5, heads=2), pyg.FeaStConv(4, 5, heads=2)
    compare(ours, theirs, (x_src, x_dst[:x_src.shape[0]]), ei[:, keep])


def positions(graph, dim=3, key="x"):
    g = torch.Generator().manual_seed(int(graph[key].shape[0]))
    return torch.randn(graph[key].shape[0], dim, generator=g)


@settings_
@given(hypothesis_graph(channels=4), st.booleans(), st.booleans())
def test_point_net_conv_oracle(graph, loops, with_x):
    torch.manual_seed(0)
    width = 7 if with_x else 3
    ours = gnn.PointNetConv(mlp(width, 8), mlp(8, 5), add_self_loops=loops)
    theirs = pyg.PointNetConv(mlp(width, 8), mlp(8, 5), add_self_loops=loops)
    compare(ours, theirs, graph["x"] if with_x else None, positions(graph),
            graph["edge_index"])


@settings_
@given(hypothesis_graph(channels=4, bipartite=True))
def test_point_net_conv_bipartite_oracle(graph):
    torch.manual_seed(0)
    ours = gnn.PointConv(mlp(6, 5), add_self_loops=False, aggr="mean")
    theirs = pyg.PointNetConv(mlp(6, 5), add_self_loops=False, aggr="mean")
    pos = (positions(graph, 2), positions(graph, 2, "x_dst"))
    assert gnn.PointConv is gnn.PointNetConv  # the legacy name is an alias
    compare(ours, theirs, (graph["x"], None), pos, graph["edge_index"])


@settings_
@given(hypothesis_graph(channels=4), st.booleans())
def test_ppf_conv_oracle(graph, loops):
    torch.manual_seed(0)
    ours = gnn.PPFConv(mlp(8, 6), mlp(6, 5), add_self_loops=loops)
    theirs = pyg.PPFConv(mlp(8, 6), mlp(6, 5), add_self_loops=loops)
    normal = torch.nn.functional.normalize(positions(graph) + 0.5, dim=-1)
    compare(ours, theirs, graph["x"], positions(graph), normal, graph["edge_index"])


@settings_
@given(hypothesis_graph(channels=4), st.booleans(), st.booleans())
def test_point_transformer_conv_oracle(graph, loops, nets):
    torch.manual_seed(0)
    kw = dict(pos_nn=mlp(3, 6, 5), attn_nn=mlp(5, 5)) if nets else {}
    ours = gnn.PointTransformerConv(4, 5, add_self_loops=loops, **kw)
    torch.manual_seed(0)
    kw = dict(pos_nn=mlp(3, 6, 5), attn_nn=mlp(5, 5)) if nets else {}
    theirs = pyg.PointTransformerConv(4, 5, add_self_loops=loops, **kw)
    compare(ours, theirs, graph["x"], positions(graph), graph["edge_index"])


@settings_
@given(hypothesis_graph(channels=4, bipartite=True))
def test_point_transformer_conv_bipartite_oracle(graph):
    x_src, x_dst, ei = graph["x"], graph["x_dst"][:, :3], graph["edge_index"]
    torch.manual_seed(0)
    ours = gnn.PointTransformerConv((4, 3), 5, add_self_loops=False)
    theirs = pyg.PointTransformerConv((4, 3), 5, add_self_loops=False)
    pos = (positions(graph), positions(graph, key="x_dst"))
    compare(ours, theirs, (x_src, x_dst), pos, ei)


@settings_
@given(hypothesis_graph(channels=4), st.sampled_from(["max", "mean"]))
def test_point_gnn_conv_oracle(graph, aggr):
    torch.manual_seed(0)
    ours = gnn.PointGNNConv(mlp(4, 3), mlp(7, 6, 4), mlp(4, 4), aggr=aggr)
    theirs = pyg.PointGNNConv(mlp(4, 3), mlp(7, 6, 4), mlp(4, 4), aggr=aggr)
    compare(ours, theirs, graph["x"], positions(graph), graph["edge_index"])


def test_dynamic_edge_conv_oracle():
    needs_pyg_lib("DynamicEdgeConv")
    torch.manual_seed(0)
    ours, theirs = gnn.DynamicEdgeConv(mlp(8, 5), k=3), pyg.DynamicEdgeConv(mlp(8, 5), k=3)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1])
    compare(ours, theirs, torch.randn(9, 4), batch)


def test_gravnet_conv_oracle():
    needs_pyg_lib("GravNetConv")
    torch.manual_seed(0)
    ours, theirs = gnn.GravNetConv(4, 5, 2, 3, k=3), pyg.GravNetConv(4, 5, 2, 3, k=3)
    compare(ours, theirs, torch.randn(9, 4), torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1]))


def test_x_conv_oracle():
    needs_pyg_lib("XConv")
    torch.manual_seed(0)
    ours = gnn.XConv(4, 6, dim=3, kernel_size=3).eval()
    theirs = pyg.XConv(4, 6, dim=3, kernel_size=3).eval()
    compare(ours, theirs, torch.randn(9, 4), torch.randn(9, 3),
            torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1]))


def test_knn_radius_oracle():
    try:
        import torch_cluster  # noqa: F401
    except ImportError:
        pytest.skip("the reference knn / radius search requires torch_cluster, which is not "
                    "installed")
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(20, 3, generator=g), torch.randn(7, 3, generator=g)
    bx = torch.tensor([0] * 10 + [1] * 10)
    by = torch.tensor([0] * 3 + [1] * 4)
    assert torch.equal(gnn.knn(x, y, 3, bx, by), pyg.knn(x, y, 3, bx, by))
    assert torch.equal(gnn.knn_graph(x, 3, bx), pyg.knn_graph(x, 3, bx))
    ours, theirs = gnn.radius(x, y, 1.2, bx, by), pyg.radius(x, y, 1.2, bx, by)
    assert sorted(map(tuple, ours.t().tolist())) == sorted(map(tuple, theirs.t().tolist()))


@settings_
@given(hypothesis_graph(channels=4, edge_dim=2), st.booleans())
def test_gmm_conv_lazy_oracle(graph, separate):
    # the lazy reference reshapes with in_channels=-1, which fails without edges
    assume(not separate or graph["edge_index"].shape[1] > 0)
    torch.manual_seed(0)
    ours = gnn.GMMConv(-1, 5, dim=2, kernel_size=3, separate_gaussians=separate)
    theirs = pyg.GMMConv(-1, 5, dim=2, kernel_size=3, separate_gaussians=separate)
    assert str(ours) == str(theirs)
    inputs = (graph["x"], graph["edge_index"], graph["edge_attr"])
    ours(*inputs), theirs(*inputs)  # the first call sizes the weights
    compare(ours, theirs, *inputs)
