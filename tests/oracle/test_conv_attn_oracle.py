"""AntiSymmetricConv, DirGNNConv, RGATConv, HEATConv, PerformerAttention, GPSConv,
MeshCNNConv and the vendor-backed layers (FusedGATConv, CuGraph*) against the reference.

Weights go from gfx to the reference; ``compare`` checks ``str()``, state_dict layout,
outputs and the gradients of inputs and parameters.  The vendor-backed reference layers
need dgNN / pylibcugraphops, which are not installed: they are compared with the
reference's plain equivalent layer (GATConv, SAGEConv, RGCNConv) with copied weights.
"""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402
from tests.oracle.common import compare, hypothesis_graph  # noqa: E402

pnn = torch_geometric.nn
FEW = settings(max_examples=8, deadline=None)


@FEW
@given(hypothesis_graph(channels=4), st.integers(1, 3), st.sampled_from(["tanh", None]))
def test_antisymmetric_conv(graph, num_iters, act):
    torch.manual_seed(0)
    ours = gnn.AntiSymmetricConv(4, num_iters=num_iters, act=act, epsilon=0.3)
    torch.nn.init.normal_(ours.bias)
    theirs = pnn.AntiSymmetricConv(4, num_iters=num_iters, act=act, epsilon=0.3)
    compare(ours, theirs, graph["x"], graph["edge_index"])


def test_antisymmetric_conv_custom_phi():
    torch.manual_seed(0)
    ours = gnn.AntiSymmetricConv(3, phi=gnn.GCNConv(3, 3, normalize=False), bias=False,
                                 gamma=0.5)
    theirs = pnn.AntiSymmetricConv(3, phi=pnn.GCNConv(3, 3, normalize=False), bias=False,
                                   gamma=0.5)
    x, edge_index = torch.randn(5, 3), torch.tensor([[0, 1, 2, 4, 4], [1, 2, 0, 4, 3]])
    compare(ours, theirs, x, edge_index, torch.rand(5))


@FEW
@given(hypothesis_graph(channels=4), st.sampled_from([0.0, 0.3, 1.0]), st.booleans())
def test_dir_gnn_conv(graph, alpha, root_weight):
    torch.manual_seed(0)
    for ours_conv, their_conv in ((gnn.GCNConv(4, 3), pnn.GCNConv(4, 3)),
                                  (gnn.GATConv(4, 3), pnn.GATConv(4, 3)),
                                  (gnn.GraphConv(4, 3), pnn.GraphConv(4, 3))):
        ours = gnn.DirGNNConv(ours_conv, alpha=alpha, root_weight=root_weight)
        theirs = pnn.DirGNNConv(their_conv, alpha=alpha, root_weight=root_weight)
        # gfx's GraphConv prints its in_channels as a pair: str() is checked for the others
        compare(ours, theirs, graph["x"], graph["edge_index"],
                check_str=not isinstance(ours_conv, gnn.GraphConv))


RGAT_OPTIONS = [
    {},
    {"attention_mechanism": "within-relation", "mod": "scaled", "heads": 2},
    {"attention_mode": "multiplicative-self-attention", "dim": 2, "heads": 2,
     "num_bases": 2, "mod": "f-scaled"},
    {"num_blocks": 2, "heads": 2, "concat": False, "mod": "additive"},
    {"attention_mode": "multiplicative-self-attention", "mod": "f-additive",
     "attention_mechanism": "within-relation"},
]


@FEW
@given(hypothesis_graph(channels=4, edge_dim=2), st.sampled_from(RGAT_OPTIONS),
       st.booleans())
def test_rgat_conv(graph, options, edges):
    torch.manual_seed(0)
    kwargs = dict(options, edge_dim=2 if edges else None)
    ours, theirs = gnn.RGATConv(4, 4, 3, **kwargs), pnn.RGATConv(4, 4, 3, **kwargs)
    edge_type = torch.randint(0, 3, (graph["edge_index"].shape[1],))
    extra = (graph["edge_attr"],) if edges else ()
    compare(ours, theirs, graph["x"], graph["edge_index"], edge_type, *extra)
    out = compare(ours, theirs, graph["x"], graph["edge_index"], edge_type, *extra,
                  return_attention_weights=True)
    assert isinstance(out, tuple) and len(out) == 2


@FEW
@given(hypothesis_graph(channels=4, edge_dim=3), st.integers(1, 3), st.booleans(),
       st.booleans())
def test_heat_conv(graph, heads, concat, root_weight):
    torch.manual_seed(0)
    args = (4, 5, 2, 3, 2, 3, 4)
    kwargs = dict(heads=heads, concat=concat, root_weight=root_weight)
    ours, theirs = gnn.HEATConv(*args, **kwargs), pnn.HEATConv(*args, **kwargs)
    node_type = torch.randint(0, 2, (graph["x"].shape[0],))
    edge_type = torch.randint(0, 3, (graph["edge_index"].shape[1],))
    compare(ours, theirs, graph["x"], graph["edge_index"], node_type, edge_type,
            graph["edge_attr"])


@FEW
@given(st.integers(1, 3), st.integers(1, 6), st.booleans(),
       st.sampled_from([{"head_channels": 4}, {"head_channels": None, "qkv_bias": True},
                        {"kernel": torch.nn.ELU(), "attn_out_bias": False}]))
def test_performer_attention(batch, length, masked, options):
    torch.manual_seed(0)
    ours, theirs = gnn.PerformerAttention(8, 2, **options), pnn.PerformerAttention(8, 2,
                                                                                   **options)
    x = torch.randn(batch, length, 8)
    mask = torch.rand(batch, length) > 0.3 if masked else None
    compare(ours, theirs, x, mask, atol=1e-4, rtol=1e-3)  # float32 gradients reach ~1e2


def _gps_options(nn):
    return [
        {"conv": nn.GCNConv(8, 8), "heads": 2},
        {"conv": None, "heads": 2, "attn_type": "performer", "norm": None,
         "attn_kwargs": {"head_channels": 4}},
        {"conv": nn.GINConv(torch.nn.Linear(8, 8)), "norm": "layer_norm", "act": "gelu"},
        {"conv": nn.GCNConv(8, 8), "norm": "graph_norm", "attn_type": "performer"},
    ]


@settings(max_examples=6, deadline=None)
@given(hypothesis_graph(channels=8), st.integers(0, 3), st.integers(1, 3), st.booleans())
def test_gps_conv(graph, option, num_graphs, train):
    torch.manual_seed(0)
    train = train and graph["x"].shape[0] > 1  # batch norm needs two rows in training
    ours = gnn.GPSConv(8, **_gps_options(gnn)[option]).train(train)
    theirs = pnn.GPSConv(8, **_gps_options(pnn)[option]).train(train)
    n = graph["x"].shape[0]
    batch = torch.sort(torch.randint(0, num_graphs, (n,))).values
    # the reference numbers graphs up to batch.max(): drop empty graph ids the same way
    batch = torch.unique(batch, return_inverse=True)[1]
    # GINConv prints its MLP the same way in both libraries; all options compare str()
    compare(ours, theirs, graph["x"], graph["edge_index"], batch, atol=1e-4, rtol=1e-3)


@FEW
@given(st.integers(1, 8), st.data())
def test_meshcnn_conv(num_mesh_edges, data):
    torch.manual_seed(0)
    centres = data.draw(st.lists(st.integers(0, num_mesh_edges - 1), unique=True))
    targets = torch.tensor(centres, dtype=torch.long).repeat_interleave(4)
    sources = torch.randint(0, num_mesh_edges, (targets.numel(),))
    x = torch.randn(num_mesh_edges, 4)
    compare(gnn.MeshCNNConv(4, 5), pnn.MeshCNNConv(4, 5), x, torch.stack([sources, targets]))


# The vendor-backed layers: the reference needs dgNN / pylibcugraphops (CUDA) even to be
# built, so gfx's layer is compared with the reference's plain equivalent, weights mapped.

def _vendor_layer(cls_name, *args, **kwargs):
    """The reference's vendor-backed layer, or a skip naming the missing library."""
    try:
        return getattr(pnn, cls_name)(*args, **kwargs)
    except (ImportError, ModuleNotFoundError) as exc:
        pytest.skip(f"the reference {cls_name} needs its vendor library: {exc}")


def test_fused_gat_conv_direct():
    theirs = _vendor_layer("FusedGATConv", 4, 3, heads=2, add_self_loops=False)
    if not torch.cuda.is_available():
        pytest.skip("dgNN's fused kernel runs on CUDA only")
    ours = gnn.FusedGATConv(4, 3, heads=2, add_self_loops=False).cuda()
    x = torch.randn(5, 4, device="cuda")
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 4], [1, 2, 0, 0, 3, 4]], device="cuda")
    compare(ours, theirs.cuda(), x, *gnn.FusedGATConv.to_graph_format(edge_index, (5, 5)),
            check_grads=False)


@pytest.mark.parametrize("name,args", [("CuGraphSAGEConv", (4, 3)),
                                       ("CuGraphGATConv", (4, 3)),
                                       ("CuGraphRGCNConv", (4, 3, 2))])
def test_cugraph_layers_direct(name, args):
    theirs = _vendor_layer(name, *args)
    if not torch.cuda.is_available():
        pytest.skip("pylibcugraphops runs on CUDA only")
    ours = getattr(gnn, name)(*args).cuda()
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 4], [1, 2, 0, 0, 3, 4]])
    edge_index = torch_geometric.EdgeIndex(edge_index, sparse_size=(5, 5)).sort_by("col")[0]
    inputs = [torch.randn(5, 4).cuda(), edge_index.cuda()]
    if name == "CuGraphRGCNConv":
        inputs.append(torch.tensor([0, 1, 1, 0, 1, 0]).cuda())
    compare(ours, theirs.cuda(), *inputs, check_grads=False)


def _plain_compare(ours, theirs, to_theirs, x, ours_graph, theirs_args):
    """Copy ours' weights into the plain layer, compare outputs and gradients of ``x``.

    ``ours(x, *ours_graph)`` against ``theirs(*theirs_args(x))``.
    """
    theirs.load_state_dict(to_theirs(ours.state_dict()))
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_a, out_b = ours(xa, *ours_graph), theirs(*theirs_args(xb))
    torch.testing.assert_close(out_a, out_b, atol=1e-5, rtol=1e-4)
    seed = torch.randn_like(out_a)
    (out_a * seed).sum().backward()
    (out_b * seed).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, atol=1e-5, rtol=1e-4)


@FEW
@given(hypothesis_graph(channels=4), st.integers(1, 3), st.booleans())
def test_fused_gat_conv_against_gat_conv(graph, heads, concat):
    torch.manual_seed(0)
    ours = gnn.FusedGATConv(4, 3, heads=heads, concat=concat, add_self_loops=False)
    theirs = pnn.GATConv(4, 3, heads=heads, concat=concat, add_self_loops=False)
    assert str(ours) == str(theirs).replace("GATConv", "FusedGATConv", 1)
    n = graph["x"].shape[0]
    fmt = gnn.FusedGATConv.to_graph_format(graph["edge_index"], size=(n, n))
    _plain_compare(ours, theirs, dict, graph["x"], fmt, lambda x: (x, graph["edge_index"]))


@FEW
@given(hypothesis_graph(channels=4, bipartite=True),
       st.sampled_from(["mean", "sum", "max", "min"]), st.booleans(), st.booleans())
def test_cugraph_sage_conv_against_sage_conv(graph, aggr, normalize, root_weight):
    torch.manual_seed(0)
    x_src, x_dst, edge_index = graph["x"], graph["x_dst"], graph["edge_index"]
    x = torch.cat([x_dst, x_src])  # cugraph: targets are the first rows of x
    edge_index = torch.stack([edge_index[0] + x_dst.shape[0], edge_index[1]])
    ours = gnn.CuGraphSAGEConv(4, 5, aggr=aggr, normalize=normalize,
                               root_weight=root_weight)
    theirs = pnn.SAGEConv(4, 5, aggr=aggr, normalize=normalize, root_weight=root_weight)

    def to_theirs(sd):  # lin = [W_l | W_r] (the aggregation's columns first)
        out = {"lin_l.weight": sd["lin.weight"][:, :4], "lin_l.bias": sd["lin.bias"]}
        if root_weight:
            out["lin_r.weight"] = sd["lin.weight"][:, 4:]
        return out

    csc = gnn.CuGraphSAGEConv.to_csc(edge_index, (x.shape[0], x_dst.shape[0]))
    num_dst = x_dst.shape[0]
    _plain_compare(ours, theirs, to_theirs, x, (csc,),
                   lambda t: ((t, t[:num_dst]), edge_index))


@FEW
@given(hypothesis_graph(channels=4), st.integers(1, 3), st.booleans())
def test_cugraph_gat_conv_against_gat_conv(graph, heads, concat):
    torch.manual_seed(0)
    ours = gnn.CuGraphGATConv(4, 3, heads=heads, concat=concat)
    theirs = pnn.GATConv(4, 3, heads=heads, concat=concat, add_self_loops=False)
    assert str(ours) == str(theirs).replace("GATConv", "CuGraphGATConv", 1)

    def to_theirs(sd):  # att = [att_src | att_dst]
        att = sd["att"].view(2, 1, heads, 3)
        return {"lin.weight": sd["lin.weight"], "att_src": att[0], "att_dst": att[1],
                "bias": sd["bias"]}

    _plain_compare(ours, theirs, to_theirs, graph["x"], (graph["edge_index"],),
                   lambda x: (x, graph["edge_index"]))


@FEW
@given(hypothesis_graph(channels=4), st.sampled_from([None, 2]),
       st.sampled_from(["mean", "sum"]), st.booleans())
def test_cugraph_rgcn_conv_against_rgcn_conv(graph, num_bases, aggr, root_weight):
    torch.manual_seed(0)
    kwargs = dict(num_bases=num_bases, aggr=aggr, root_weight=root_weight)
    ours, theirs = gnn.CuGraphRGCNConv(4, 5, 3, **kwargs), pnn.RGCNConv(4, 5, 3, **kwargs)
    assert str(ours) == str(theirs).replace("RGCNConv", "CuGraphRGCNConv", 1)
    edge_type = torch.randint(0, 3, (graph["edge_index"].shape[1],))

    def to_theirs(sd):  # weight = [relations or bases..., root]
        out = {"weight": sd["weight"][:num_bases or 3], "bias": sd["bias"]}
        if num_bases:
            out["comp"] = sd["comp"]
        if root_weight:
            out["root"] = sd["weight"][-1]
        return out

    n = graph["x"].shape[0]
    csc, types = gnn.CuGraphRGCNConv.to_csc(graph["edge_index"], (n, n), edge_type)
    _plain_compare(ours, theirs, to_theirs, graph["x"], (csc, types),
                   lambda x: (x, graph["edge_index"], edge_type))
