"""The full models: the layer loop of BasicGNN around dense/loop versions of each conv."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import gfx
from gfx.nn import GAT, GCN, GIN, PNA, EdgeCNN, GraphSAGE
from tests.graphs import dense_adjacency, edge_lists, neighbour_lists

# ---------------------------------------------------------------- dense conv formulas


def gcn_matrix(edge_index, n, weight=None):
    """D^-1/2 (A + I) D^-1/2, an existing loop keeping its weight."""
    a = dense_adjacency(edge_index, n, n, weight)
    diag = torch.ones(n, dtype=torch.float64)
    for e, (j, i) in enumerate(edge_index.t().tolist()):
        if i == j:  # an existing loop keeps its weight
            diag[i] = 1.0 if weight is None else float(weight[e])
    a.fill_diagonal_(0.0)
    a = a + torch.diag(diag)
    deg = a.sum(1)
    dinv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
    return dinv[:, None] * a * dinv[None, :]


def dense_gcn(conv, x, edge_index, weight=None):
    return gcn_matrix(edge_index, x.shape[0], weight) @ x @ conv.lin.weight.t() + conv.bias


def dense_sage(conv, x, edge_index):
    n = x.shape[0]
    a = dense_adjacency(edge_index, n, n)
    mean = (a @ x) / a.sum(1, keepdim=True).clamp(min=1)
    return mean @ conv.lin_l.weight.t() + conv.lin_l.bias + x @ conv.lin_r.weight.t()


def dense_mlp(mlp, x):
    """Two-layer MLP without normalisation: lin -> relu -> lin."""
    h = torch.relu(x @ mlp.lins[0].weight.t() + mlp.lins[0].bias)
    return h @ mlp.lins[1].weight.t() + mlp.lins[1].bias


def dense_gin(conv, x, edge_index):
    n = x.shape[0]
    h = (1 + conv.eps) * x + dense_adjacency(edge_index, n, n) @ x
    return dense_mlp(conv.nn, h)


def loop_edge_conv(conv, x, edge_index):
    out = torch.zeros(x.shape[0], conv.nn.lins[1].weight.shape[0], dtype=x.dtype)
    for i, edges in enumerate(neighbour_lists(edge_index, x.shape[0])):
        if edges:
            msgs = [dense_mlp(conv.nn, torch.cat([x[i], x[j] - x[i]])[None]) for _, j in edges]
            out[i] = torch.cat(msgs).max(0)[0]
    return out


def loop_gat(conv, x, edge_index):
    """GATConv written as loops: loops replaced by one per node, softmax per target."""
    n, heads, c = x.shape[0], conv.heads, conv.out_channels
    h = (x @ conv.lin.weight.t()).view(n, heads, c)
    a_src = (h * conv.att_src).sum(-1)
    a_dst = (h * conv.att_dst).sum(-1)
    kept = [(j, i) for j, i in edge_index.t().tolist() if i != j]
    out = torch.zeros(n, heads, c, dtype=x.dtype)
    for i in range(n):
        sources = [j for j, t in kept if t == i] + [i]
        scores = torch.stack([F.leaky_relu(a_src[j] + a_dst[i], conv.negative_slope)
                              for j in sources])  # [deg, heads]
        alpha = torch.softmax(scores, dim=0)
        out[i] = sum(alpha[k][:, None] * h[j] for k, j in enumerate(sources))
    out = out.reshape(n, heads * c) if conv.concat else out.mean(1)
    return out + conv.bias


def loop_pna(conv, x, edge_index, hist):
    """PNAConv (one tower, one-layer MLPs, mean/max x identity/amplification) as loops."""
    pre, post = conv.pre_nns[0][0], conv.post_nns[0][0]
    d = torch.arange(len(hist), dtype=torch.float64)
    avg_log = (torch.log(d + 1) * hist).sum() / hist.sum()
    rows = []
    for i, edges in enumerate(neighbour_lists(edge_index, x.shape[0])):
        msgs = [torch.cat([x[i], x[j]]) @ pre.weight.t() + pre.bias for _, j in edges]
        if msgs:
            msgs = torch.stack(msgs)
            aggr = torch.cat([msgs.mean(0), msgs.max(0)[0]])
        else:
            aggr = x.new_zeros(2 * pre.weight.shape[0])
        amplify = torch.log(torch.tensor(max(len(edges), 1) + 1.0, dtype=x.dtype)) / avg_log
        rows.append(torch.cat([x[i], aggr, amplify * aggr]) @ post.weight.t() + post.bias)
    return torch.stack(rows) @ conv.lin.weight.t() + conv.lin.bias


def run_layers(model, x, layer_fn, act=torch.relu):
    """BasicGNN's loop: conv, then (not after the last unless jk) norm-free act."""
    xs = []
    for i, conv in enumerate(model.convs):
        x = layer_fn(conv, x)
        if i < len(model.convs) - 1 or model.jk_mode is not None:
            x = act(x)
        xs.append(x)
    if model.jk_mode == "cat":
        x = torch.cat(xs, -1)
    elif model.jk_mode == "max":
        x = torch.stack(xs).max(0)[0]
    if model.jk_mode is not None:
        x = x @ model.lin.weight.t() + model.lin.bias
    return x


# ---------------------------------------------------------------- formula tests


@given(edge_lists(), st.sampled_from([None, "last", "cat", "max"]), st.booleans())
def test_gcn_model_matches_dense_formula(graph, jk, weighted):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    model = GCN(3, 4, num_layers=3, out_channels=2, jk=jk).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    norm = gcn_matrix(edge_index, n, w)
    expected = run_layers(model, x, lambda conv, h: norm @ h @ conv.lin.weight.t() + conv.bias)
    torch.testing.assert_close(model(x, edge_index, edge_weight=w), expected)


@given(edge_lists())
def test_graphsage_model_matches_dense_formula(graph):
    edge_index, n, _ = graph
    torch.manual_seed(1)
    model = GraphSAGE(3, 5, num_layers=2, out_channels=2, act="tanh").double()
    x = torch.randn(n, 3, dtype=torch.float64)
    expected = run_layers(model, x, lambda conv, h: dense_sage(conv, h, edge_index),
                          act=torch.tanh)
    torch.testing.assert_close(model(x, edge_index), expected)


GRAPH = torch.tensor([[0, 1, 1, 2, 3, 3, 4, 2], [1, 0, 2, 2, 1, 1, 0, 0]])  # loop, dupes,
N = 6                                                                       # isolated 5


def test_gin_model_matches_dense_formula():
    torch.manual_seed(2)
    model = GIN(3, 4, num_layers=2, out_channels=2, train_eps=True).double()
    with torch.no_grad():
        for conv in model.convs:
            conv.eps.fill_(0.3)
    x = torch.randn(N, 3, dtype=torch.float64)
    expected = run_layers(model, x, lambda conv, h: dense_gin(conv, h, GRAPH))
    torch.testing.assert_close(model(x, GRAPH), expected)
    assert model.convs[1].nn.channel_list == [4, 2, 2]


def test_edge_cnn_model_matches_loop_formula():
    torch.manual_seed(3)
    model = EdgeCNN(3, 4, num_layers=2, jk="cat").double()
    x = torch.randn(N, 3, dtype=torch.float64)
    expected = run_layers(model, x, lambda conv, h: loop_edge_conv(conv, h, GRAPH))
    torch.testing.assert_close(model(x, GRAPH), expected)
    assert model.convs[0].nn.channel_list == [6, 4, 4]


@pytest.mark.parametrize("out_channels", [None, 3])
def test_gat_model_matches_loop_formula(out_channels):
    torch.manual_seed(4)
    model = GAT(3, 8, num_layers=2, out_channels=out_channels, heads=2, act="elu").double()
    assert model.convs[0].heads == 2 and model.convs[0].out_channels == 4
    assert model.convs[1].concat == (out_channels is None)
    x = torch.randn(N, 3, dtype=torch.float64)
    expected = run_layers(model, x, lambda conv, h: loop_gat(conv, h, GRAPH), act=F.elu)
    torch.testing.assert_close(model(x, GRAPH), expected)


HIST = torch.tensor([1.0, 3.0, 2.0, 1.0])  # in-degree histogram of "training" graphs


def test_pna_model_matches_loop_formula():
    torch.manual_seed(5)
    model = PNA(3, 4, num_layers=2, out_channels=2, aggregators=["mean", "max"],
                scalers=["identity", "amplification"], deg=HIST.long()).double()
    x = torch.randn(N, 3, dtype=torch.float64)
    expected = run_layers(model, x, lambda conv, h: loop_pna(conv, h, GRAPH, HIST.double()))
    torch.testing.assert_close(model(x, GRAPH), expected)


def test_gat_v2_and_attention_dropout():
    from gfx.nn import GATv2Conv
    model = GAT(3, 4, num_layers=2, v2=True, heads=2, dropout=0.25)
    assert all(isinstance(c, GATv2Conv) and c.dropout == 0.25 for c in model.convs)


def test_norm_act_first_dropout_and_batch_aware_norm():
    torch.manual_seed(5)
    model = GCN(3, 4, num_layers=2, norm="layer_norm", act_first=True, jk="last").double()
    assert model.supports_norm_batch  # a graph-wise norm receives batch
    model.eval()
    x = torch.randn(N, 3, dtype=torch.float64)
    batch = torch.tensor([0, 0, 0, 1, 1, 1])
    h = x
    for conv, norm in zip(model.convs, model.norms):
        h = norm(torch.relu(dense_gcn(conv, h, GRAPH)), batch, 2)
    expected = h @ model.lin.weight.t() + model.lin.bias
    torch.testing.assert_close(model(x, GRAPH, batch=batch, batch_size=2), expected)
    given = torch.nn.BatchNorm1d(4)
    model = GCN(3, 4, num_layers=3, norm=given)  # a module is copied for every layer
    assert isinstance(model.norms[1], torch.nn.BatchNorm1d)
    assert len({id(given), id(model.norms[0]), id(model.norms[1])}) == 3
    torch.manual_seed(0)
    train = GCN(3, 50, num_layers=2, dropout=0.5).train()
    hidden = train.dropout(torch.ones(200, 50))
    assert 0.4 < (hidden == 0).double().mean() < 0.6


def test_trimming_sampled_hops():
    # seeds 0,1; hop 1: 2,3; hop 2: 4,5 -- edges ordered by hop
    edge_index = torch.tensor([[2, 3, 2, 4, 5], [0, 1, 1, 2, 3]])
    torch.manual_seed(6)
    model = GCN(3, 4, num_layers=2, jk="cat").double()
    x = torch.randn(6, 3, dtype=torch.float64)
    out = model(x, edge_index, num_sampled_nodes_per_hop=[2, 2, 2],
                num_sampled_edges_per_hop=[3, 2])
    h1 = torch.relu(dense_gcn(model.convs[0], x, edge_index))
    h2 = torch.relu(dense_gcn(model.convs[1], h1[:4], edge_index[:, :3]))
    expected = torch.cat([h1[:4], h2], -1) @ model.lin.weight.t() + model.lin.bias
    torch.testing.assert_close(out, expected)
    # With a mean aggregation the seeds' outputs do not depend on the trimmed part
    # (GCN's would: trimming changes the degrees of hop-1 nodes).
    sage = GraphSAGE(3, 4, num_layers=2).double()
    trimmed = sage(x, edge_index, num_sampled_nodes_per_hop=[2, 2, 2],
                   num_sampled_edges_per_hop=[3, 2])
    assert trimmed.shape == (4, 4)
    torch.testing.assert_close(trimmed[:2], sage(x, edge_index)[:2])


def test_state_dict_layout_and_repr():
    model = GCN(3, 5, 3, out_channels=2, norm="batch_norm")
    keys = set(model.state_dict())
    assert {"convs.2.lin.weight", "norms.0.module.weight", "norms.1.module.running_var"} <= keys
    assert not any(k.startswith("norms.2") for k in keys)
    assert not any(k.startswith("lin.") for k in keys)
    jk = GCN(3, 5, 2, jk="lstm")
    assert jk.lin.weight.shape == (5, 5) and "jk.att.weight" in jk.state_dict()
    assert GCN(3, 5, 2, jk="cat").lin.weight.shape == (5, 10)
    assert repr(GCN(3, 5, 2, out_channels=7)) == "GCN(3, 7, num_layers=2)"
    lazy = GraphSAGE(-1, 4, 2)
    assert lazy(torch.randn(3, 6), torch.tensor([[0, 1], [1, 2]])).shape == (3, 4)


# ---------------------------------------------------------------- lowering


def check_lowered(model, *inputs):
    model.eval()
    low = gfx.lower(gfx.capture(model))
    x1 = inputs[0].clone().requires_grad_()
    x2 = inputs[0].clone().requires_grad_()
    out1, out2 = model(x1, *inputs[1:]), low(x2, *inputs[1:])
    torch.testing.assert_close(out2, out1)
    grad = torch.randn_like(out1)
    out1.backward(grad)
    out2.backward(grad)
    torch.testing.assert_close(x2.grad, x1.grad)
    modules = {type(low.get_submodule(n.target)).__name__ for n in low.graph.nodes
               if n.op == "call_module"}
    assert not modules & {"GCNConv", "SAGEConv", "GINConv", "GATConv", "GATv2Conv", "EdgeConv",
                           "PNAConv"}


@pytest.mark.parametrize("make", [
    lambda: GCN(3, 8, 3, out_channels=2, norm="batch_norm", jk="cat", dropout=0.5),
    lambda: GraphSAGE(3, 8, 2, out_channels=2, jk="lstm", aggr="max"),
    lambda: GIN(3, 8, 2, out_channels=2, norm="batch_norm"),
    lambda: GAT(3, 8, 2, heads=2, out_channels=2, jk="max"),
    lambda: GAT(3, 8, 2, heads=2, v2=True),
    lambda: EdgeCNN(3, 8, 2, out_channels=2),
    lambda: PNA(3, 8, 2, aggregators=["mean", "min", "std"], towers=2, edge_dim=None,
                scalers=["identity", "attenuation"], deg=HIST.long(), jk="cat"),
])
def test_models_lowered_equal_eager_with_gradients(make):
    torch.manual_seed(7)
    model = make()
    model.train()
    model(torch.randn(N, 3), GRAPH)  # materialise running statistics
    check_lowered(model, torch.randn(N, 3), GRAPH)


def test_gcn_lowered_with_edge_weight():
    torch.manual_seed(8)
    model = GCN(3, 4, 2)

    class Weighted(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x, edge_index, edge_weight):
            return self.model(x, edge_index, edge_weight=edge_weight)

    check_lowered(Weighted(), torch.randn(N, 3), GRAPH, torch.rand(GRAPH.shape[1]))


# ---------------------------------------------------------------- errors


def test_errors():
    with pytest.raises(ValueError, match="GCN: 'x' must have in_channels=3"):
        GCN(3, 4, 2)(torch.randn(N, 5), GRAPH)
    with pytest.raises(ValueError, match="GraphSAGE: 'edge_weight' is not supported by "
                                         "SAGEConv"):
        GraphSAGE(3, 4, 2)(torch.randn(N, 3), GRAPH, edge_weight=torch.ones(8))
    with pytest.raises(ValueError, match="GCN: 'edge_attr' is not supported"):
        GCN(3, 4, 2)(torch.randn(N, 3), GRAPH, edge_attr=torch.ones(8, 2))
    with pytest.raises(ValueError, match="unknown jk mode 'sum'"):
        GCN(3, 4, 2, jk="sum")
    with pytest.raises(ValueError, match="'num_layers' must be a positive int"):
        GCN(3, 4, 0)
    with pytest.raises(ValueError, match="hidden_channels=7 must be divisible by heads=2"):
        GAT(3, 7, 2, heads=2)
    with pytest.raises(ValueError, match="'num_sampled_edges_per_hop' must be given"):
        GCN(3, 4, 2)(torch.randn(N, 3), GRAPH, num_sampled_nodes_per_hop=[2, 2, 2])
