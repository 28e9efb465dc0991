"""GraphGym layers against dense or loop references written here."""
import pytest
import torch
import torch.nn.functional as F

import gfx.graphgym as gg
from gfx.data import Batch, Data
from gfx.graphgym.models.general_conv import GeneralConvLayer, GeneralEdgeConvLayer
from tests.graphs import dense_adjacency, neighbour_lists

# A directed graph without self-loops; node 4 receives no edge.
EDGE_INDEX = torch.tensor([[0, 1, 2, 3, 0, 2, 4, 1],
                           [1, 0, 1, 2, 3, 3, 0, 2]])
N = 5


def graph_batch(x, edge_attr=None, **extra):
    return Batch.from_data_list([Data(x=x, edge_index=EDGE_INDEX, edge_attr=edge_attr,
                                      **extra)])


def gcn_matrix(edge_index, num_nodes, improved=False):
    """D^-1/2 (A + I) D^-1/2 with targets as rows (A has no self-loops here)."""
    a = dense_adjacency(edge_index, num_nodes, num_nodes) + \
        (2.0 if improved else 1.0) * torch.eye(num_nodes, dtype=torch.float64)
    d = a.sum(1).pow(-0.5)
    return d.view(-1, 1) * a * d.view(1, -1)


def config(dim_in, dim_out, **changes):
    return gg.LayerConfig(dim_in=dim_in, dim_out=dim_out, **changes)


@pytest.mark.parametrize("agg", ["add", "mean", "max"])
@pytest.mark.parametrize("self_msg", ["none", "add", "concat"])
def test_general_conv_layer_without_normalisation(fresh_cfg, agg, self_msg):
    fresh_cfg.gnn.agg, fresh_cfg.gnn.self_msg = agg, self_msg
    torch.manual_seed(0)
    layer = GeneralConvLayer(4, 4).double()
    torch.nn.init.normal_(layer.bias)
    x = torch.randn(N, 4, dtype=torch.float64)
    h = x @ layer.lin.weight.t()
    expected = torch.zeros(N, 4, dtype=torch.float64)
    for i, incoming in enumerate(neighbour_lists(EDGE_INDEX, N)):
        msgs = torch.stack([h[j] for _, j in incoming]) if incoming else None
        if msgs is not None:
            expected[i] = {"add": msgs.sum(0), "mean": msgs.mean(0),
                           "max": msgs.max(0).values}[agg]
    expected = expected + layer.bias
    if self_msg == "add":
        expected = expected + h
    elif self_msg == "concat":
        expected = expected + x @ layer.lin_self.weight.t()
    assert torch.allclose(layer(x, EDGE_INDEX), expected, atol=1e-10)


def test_general_conv_layer_with_gcn_normalisation(fresh_cfg):
    fresh_cfg.gnn.normalize_adj, fresh_cfg.gnn.self_msg = True, "none"
    torch.manual_seed(1)
    layer = GeneralConvLayer(3, 2, bias=False).double()
    x = torch.randn(N, 3, dtype=torch.float64)
    expected = gcn_matrix(EDGE_INDEX, N) @ (x @ layer.lin.weight.t())
    assert torch.allclose(layer(x, EDGE_INDEX), expected, atol=1e-10)


@pytest.mark.parametrize("direction", ["single", "both"])
def test_general_edge_conv_layer(fresh_cfg, direction):
    fresh_cfg.gnn.msg_direction, fresh_cfg.gnn.self_msg = direction, "concat"
    torch.manual_seed(2)
    layer = GeneralEdgeConvLayer(3, 4, edge_dim=2).double()
    torch.nn.init.normal_(layer.bias)
    x = torch.randn(N, 3, dtype=torch.float64)
    e = torch.randn(EDGE_INDEX.shape[1], 2, dtype=torch.float64)
    w = layer.lin_msg.weight
    expected = x @ layer.lin_self.weight.t() + layer.bias
    for edge, (j, i) in enumerate(EDGE_INDEX.t().tolist()):
        parts = ([x[i]] if direction == "both" else []) + [x[j], e[edge]]
        expected[i] += w @ torch.cat(parts)
    assert torch.allclose(layer(x, EDGE_INDEX, edge_feature=e), expected, atol=1e-10)
    with pytest.raises(ValueError, match="needs edge features"):
        layer(x, EDGE_INDEX)


def test_gcn_and_sage_wrappers_on_a_batch(fresh_cfg):
    torch.manual_seed(3)
    x = torch.randn(N, 3)
    gcn = gg.GCNConv(config(3, 2, has_bias=False))
    out = gcn(graph_batch(x.clone())).x
    expected = gcn_matrix(EDGE_INDEX, N).float() @ (x @ gcn.model.lin.weight.t())
    assert torch.allclose(out, expected, atol=1e-5)
    sage = gg.SAGEConv(config(3, 2))
    mean = torch.zeros(N, 3)
    for i, incoming in enumerate(neighbour_lists(EDGE_INDEX, N)):
        if incoming:
            mean[i] = torch.stack([x[j] for _, j in incoming]).mean(0)
    expected = sage.model.lin_l(mean) + x @ sage.model.lin_r.weight.t()
    assert torch.allclose(sage(graph_batch(x.clone())).x, expected, atol=1e-5)


def test_gin_and_gat_wrappers(fresh_cfg):
    torch.manual_seed(4)
    x = torch.randn(N, 3)
    gin = gg.GINConv(config(3, 4))
    summed = dense_adjacency(EDGE_INDEX, N, N).float() @ x
    assert torch.allclose(gin(graph_batch(x.clone())).x, gin.model.nn(x + summed), atol=1e-5)
    assert [type(m).__name__ for m in gin.model.nn] == ["Linear", "ReLU", "Linear"]
    gat = gg.GATConv(config(3, 2))
    h = x @ gat.model.lin.weight.t()
    score_src = (h * gat.model.att_src.view(1, -1)).sum(-1)
    score_dst = (h * gat.model.att_dst.view(1, -1)).sum(-1)
    expected = torch.zeros(N, 2)
    for i, incoming in enumerate(neighbour_lists(EDGE_INDEX, N)):
        sources = [j for _, j in incoming] + [i]  # with a self-loop
        logits = F.leaky_relu(score_src[sources] + score_dst[i], 0.2)
        expected[i] = (logits.softmax(0).view(-1, 1) * h[sources]).sum(0)
    expected = expected + gat.model.bias
    assert torch.allclose(gat(graph_batch(x.clone())).x, expected, atol=1e-5)


def test_sample_edge_conv_drops_edges_only_in_training(fresh_cfg):
    torch.manual_seed(5)
    layer = gg.GeneralSampleEdgeConv(config(2, 2, edge_dim=1, keep_edge=0.5))
    seen = []
    layer.model.register_propagate_forward_pre_hook(
        lambda module, inputs: seen.append(inputs[0].shape[1]))
    x, e = torch.randn(N, 2), torch.randn(EDGE_INDEX.shape[1], 1)
    layer.eval()
    layer(graph_batch(x.clone(), e))
    layer.train()
    for _ in range(20):
        layer(graph_batch(x.clone(), e))
    assert seen[0] == EDGE_INDEX.shape[1]
    assert all(count <= EDGE_INDEX.shape[1] for count in seen[1:])
    assert 0.2 < sum(seen[1:]) / (20 * EDGE_INDEX.shape[1]) < 0.8


def test_general_layer_order_and_bias(fresh_cfg):
    torch.manual_seed(6)
    layer = gg.GeneralLayer("linear", config(4, 3, has_batchnorm=True, has_l2norm=True,
                                             act="relu"))
    assert layer.layer.model.bias is None  # batch norm replaces the bias
    bn = layer.post_layer[0]
    torch.nn.init.normal_(bn.weight)
    torch.nn.init.normal_(bn.bias)
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2.0)
    layer.eval()
    x = torch.randn(6, 4)
    h = x @ layer.layer.model.weight.t()
    h = (h - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    h = h.clamp(min=0)
    expected = h / h.norm(dim=1, keepdim=True).clamp(min=1e-12)
    assert torch.allclose(layer(x), expected, atol=1e-5)
    plain = gg.GeneralLayer("linear", config(4, 3, has_act=False))
    assert plain.layer.model.bias is not None and len(plain.post_layer) == 0


def test_multi_layer_and_mlp_shapes(fresh_cfg):
    multi = gg.GeneralMultiLayer("linear", config(4, 2, num_layers=3, dim_inner=5,
                                                  final_act=False))
    shapes = [(m.layer.model.in_channels, m.layer.model.out_channels) for m in multi.children()]
    assert shapes == [(4, 5), (5, 5), (5, 2)]
    assert [len(m.post_layer) for m in multi.children()] == [1, 1, 0]
    torch.manual_seed(7)
    mlp = gg.MLP(config(4, 2, num_layers=3, dim_inner=6))
    x = torch.randn(3, 4)
    hidden = [m.layer.model for m in mlp.model[0].children()]
    h = torch.relu(hidden[0](x))
    h = torch.relu(hidden[1](h))
    assert torch.allclose(mlp(x), mlp.model[1].model(h))
    assert gg.MLP(config(4, 2, num_layers=1)).model[0].model.bias is not None


def test_stack_stage_skip_connections(fresh_cfg):
    fresh_cfg.gnn.layer_type, fresh_cfg.gnn.batchnorm = "linear", False
    fresh_cfg.gnn.stage_type, fresh_cfg.gnn.l2norm = "skipconcat", False
    stage = gg.GNNStackStage(dim_in=3, dim_out=4, num_layers=3)
    widths = [m.layer.model.in_channels for m in stage.children()]
    assert widths == [3, 7, 11]
    assert stage(graph_batch(torch.randn(N, 3))).x.shape == (N, 4)
    fresh_cfg.gnn.stage_type, fresh_cfg.gnn.l2norm = "skipsum", True
    stage = gg.GNNStackStage(dim_in=4, dim_out=4, num_layers=2)
    x = torch.randn(N, 4)
    layers = list(stage.children())
    h = x + torch.relu(layers[0].layer.model(x))
    h = h + torch.relu(layers[1].layer.model(h))
    assert torch.allclose(stage(graph_batch(x.clone())).x, F.normalize(h, dim=-1), atol=1e-6)
    with pytest.raises(ValueError, match="skipsum.*dim_in"):
        gg.GNNStackStage(dim_in=3, dim_out=4, num_layers=2)


def test_encoders(fresh_cfg):
    torch.manual_seed(8)
    # OGB category counts: 119 atomic numbers, 5 chiralities, 12 degrees, ...
    atoms = torch.stack([torch.randint(0, 119, (10,)), torch.randint(0, 5, (10,)),
                         torch.randint(0, 12, (10,))], dim=1)
    encoder = gg.AtomEncoder(emb_dim=16)
    expected = sum(encoder.embeddings[i](atoms[:, i]) for i in range(3))
    assert torch.allclose(encoder(atoms), expected)
    assert gg.BondEncoder(emb_dim=16)(torch.randint(0, 2, (10, 3))).shape == (10, 16)
    integer = gg.IntegerFeatureEncoder(emb_dim=16, num_classes=10)
    values = torch.randint(0, 10, (10, 2))
    assert torch.equal(integer(values), integer.encoder.weight[values[:, 0]])
    batch = graph_batch(torch.randint(0, 2, (N, 9)))
    assert encoder(batch).x.shape == (N, 16)
    with pytest.raises(ValueError, match="expected integer features"):
        gg.BondEncoder(4)(torch.zeros(3, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="column 1 holds 9 but has 5 categories"):
        encoder(torch.full((4, 3), 9))
    with pytest.raises(ValueError, match="column 2 holds 2 but has 2 categories"):
        gg.BondEncoder(4)(torch.full((3, 3), 2))


def test_feature_encoder_from_config(fresh_cfg):
    fresh_cfg.dataset.node_encoder, fresh_cfg.dataset.edge_encoder = True, True
    fresh_cfg.gnn.dim_inner, fresh_cfg.dataset.edge_dim = 8, 6
    encoder = gg.FeatureEncoder(dim_in=9)
    assert encoder.dim_in == 8
    batch = graph_batch(torch.randint(0, 2, (N, 9)),
                        torch.randint(0, 2, (EDGE_INDEX.shape[1], 3)))
    out = encoder(batch)
    assert out.x.shape == (N, 8) and out.edge_attr.shape == (EDGE_INDEX.shape[1], 6)


def test_heads(fresh_cfg):
    torch.manual_seed(9)
    fresh_cfg.gnn.layers_post_mp = 1
    x = torch.randn(N, 4)
    mask = torch.tensor([True, False, True, False, True])
    node_head = gg.GNNNodeHead(4, 3)
    batch = graph_batch(x.clone(), y=torch.arange(N), val_mask=mask)
    batch.split = "val"
    pred, label = node_head(batch)
    assert torch.allclose(pred, node_head.layer_post_mp.model[0].model(x)[mask])
    assert label.tolist() == [0, 2, 4]

    pairs = torch.tensor([[0, 1, 4], [2, 3, 0]])
    for decoding in ("dot", "cosine_similarity", "concat"):
        fresh_cfg.model.edge_decoding = decoding
        head = gg.GNNEdgeHead(4, 1)
        batch = graph_batch(x.clone(), test_edge_index=pairs,
                            test_edge_label=torch.tensor([1, 0, 1]))
        batch.split = "test"
        pred, label = head(batch)
        lin = head.layer_post_mp.model[0].model
        if decoding == "concat":
            expected = lin(torch.cat([x[pairs[0]], x[pairs[1]]], -1))
        else:
            h = lin(x)
            expected = (h[pairs[0]] * h[pairs[1]]).sum(-1) if decoding == "dot" else \
                F.cosine_similarity(h[pairs[0]], h[pairs[1]], dim=-1)
        assert torch.allclose(pred, expected, atol=1e-6), decoding
        assert label.tolist() == [1, 0, 1]
    fresh_cfg.model.edge_decoding = "dot"
    with pytest.raises(ValueError, match="cannot predict 3 classes"):
        gg.GNNEdgeHead(4, 3)


@pytest.mark.parametrize("pooling", ["add", "mean", "max"])
def test_graph_head_pools_each_graph(fresh_cfg, pooling):
    fresh_cfg.model.graph_pooling = pooling
    torch.manual_seed(10)
    graphs = [Data(x=torch.randn(n, 3), edge_index=torch.zeros(2, 0, dtype=torch.long),
                   y=torch.tensor([k])) for k, n in enumerate((2, 4, 3))]
    batch = Batch.from_data_list(graphs)
    head = gg.GNNGraphHead(3, 2)
    pred, label = head(batch)
    reduce = {"add": lambda t: t.sum(0), "mean": lambda t: t.mean(0),
              "max": lambda t: t.max(0).values}[pooling]
    pooled = torch.stack([reduce(g.x) for g in graphs])
    assert torch.allclose(pred, head.layer_post_mp.model[0].model(pooled), atol=1e-6)
    assert label.tolist() == [0, 1, 2]
