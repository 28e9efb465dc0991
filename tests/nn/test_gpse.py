"""GPSENodeEncoder: the concatenation written out from its formula, layouts, dropout order
and bad input.  GPSE: the forward pass written out with dense loops from the paper's
architecture, the virtual node handling, compiled == eager for the message passing
stage, a short training run, and bad input."""
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings

import gfx
from gfx.nn.models import GPSE, GPSENodeEncoder
from tests.graphs import edge_lists


def test_mlp_layout():
    m = GPSENodeEncoder(16, 6, 4, n_layers=3)
    assert [tuple(p.shape) for p in m.pe_encoder.parameters()] == [
        (8, 6), (8,), (8, 8), (8,), (4, 8), (4,)]
    assert len(GPSENodeEncoder(16, 6, 4, n_layers=1).pe_encoder) == 2
    assert isinstance(GPSENodeEncoder(16, 6, 4, model_type="linear").pe_encoder,
                      torch.nn.Linear)
    assert GPSENodeEncoder(16, 6, 4, norm_type=None).raw_norm is None
    assert not hasattr(GPSENodeEncoder(16, 6, 4), "linear_x")


@pytest.mark.parametrize("expand_x", [False, True])
def test_formula_eval(expand_x):
    torch.manual_seed(0)
    m = GPSENodeEncoder(16, 6, 4, dim_in=10, expand_x=expand_x).double()
    x, pe = torch.randn(5, 10, dtype=torch.float64), torch.randn(5, 6, dtype=torch.float64)
    m.train()
    m(x, pe)            # one training step moves the running statistics
    m.eval()
    bn = m.raw_norm
    p = (pe - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    w1, b1, w2, b2 = [t.detach() for t in m.pe_encoder.parameters()]
    p = torch.clamp(torch.clamp(p @ w1.T + b1, min=0) @ w2.T + b2, min=0)
    h = x @ m.linear_x.weight.T + m.linear_x.bias if expand_x else x
    out = m(x, pe)
    assert out.shape == (5, 16 if expand_x else 14)
    torch.testing.assert_close(out, torch.cat([h, p], dim=1))


def test_training_uses_batch_statistics_and_dropout():
    torch.manual_seed(0)
    m = GPSENodeEncoder(16, 6, 4, dropout_be=0.0, dropout_ae=0.0, norm_type="batchnorm")
    pe = torch.randn(50, 6) * 3 + 2
    m.train()
    out = m(torch.randn(50, 12), pe)
    # in training the batch norm standardises with the batch's own statistics
    z = (pe - pe.mean(0)) / torch.sqrt(pe.var(0, unbiased=False) + 1e-5)
    z = z * m.raw_norm.weight + m.raw_norm.bias
    torch.testing.assert_close(out[:, 12:], m.pe_encoder(z))
    drop = GPSENodeEncoder(16, 6, 4, dropout_be=0.0, dropout_ae=1.0).train()
    assert (drop(torch.randn(4, 12), torch.randn(4, 6))[:, 12:] == 0).all()


def test_bad_input():
    with pytest.raises(ValueError, match="dim_pe_out"):
        GPSENodeEncoder(8, 6, 8)
    with pytest.raises(ValueError, match="norm_type"):
        GPSENodeEncoder(16, 6, 4, norm_type="layernorm")
    with pytest.raises(ValueError, match="model_type"):
        GPSENodeEncoder(16, 6, 4, model_type="gnn")
    with pytest.raises(ValueError, match="dim_in"):
        GPSENodeEncoder(16, 6, 4, expand_x=True)
    with pytest.raises(ValueError, match="pos_enc"):
        GPSENodeEncoder(16, 6, 4)(torch.randn(5, 12), torch.randn(4, 6))



# ------------------------------------------------------------------------------- GPSE
SMALL = dict(dim_in=3, dim_out=2, dim_inner=5, layers_mp=2, num_node_targets=2,
             num_graph_targets=2, multi_head_dim_inner=4, dropout=0.0)
D = torch.float64


def _lin(module, x):
    w = module.weight
    return x @ w.T + (module.bias if module.bias is not None else 0)


def _l2(x):
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def _bn(module, x):
    return (x - module.running_mean) / torch.sqrt(module.running_var + module.eps) \
        * module.weight + module.bias


def _res_gated(conv, x, edge_index):
    """x_i' = W_skip x_i + sum_{j -> i} sigmoid(W_k x_i + W_q x_j) * (W_v x_j) + b."""
    k, q, v = _lin(conv.lin_key, x), _lin(conv.lin_query, x), _lin(conv.lin_value, x)
    out = x @ conv.lin_skip.weight.T
    rows = [out[i].clone() for i in range(x.size(0))]
    for j, i in edge_index.t().tolist():
        rows[i] = rows[i] + torch.sigmoid(k[i] + q[j]) * v[j]
    out = torch.stack(rows) if rows else out
    return out if conv.bias is None else out + conv.bias


def _dense_gpse(model, x, edge_index, batch, num_graphs):
    """The model's maths with explicit loops: pre-MP layer, skip-sum gated GCN layers,
    L2 norms, per-target node heads, add-pooled graph head."""
    pre = model.pre_mp.Layer_0
    h = _l2(torch.relu(_bn(pre.post_layer[0], _lin(pre.layer.model, x))))
    for layer in model.mp.children():
        conv = _res_gated(layer.layer.model, h, edge_index)
        h = h + _l2(torch.relu(_bn(layer.post_layer[0], conv)))
    h = _l2(h)

    def head(mlp, z):
        hidden = mlp.model[0].Layer_0.layer.model
        return _lin(mlp.model[1].model, _l2(torch.relu(_lin(hidden, z))))

    node = torch.cat([head(mlp, h) for mlp in model.post_mp.node_post_mps], dim=1)
    pooled = torch.stack([h[batch == g].sum(0) for g in range(num_graphs)])
    return node, head(model.post_mp.graph_post_mp, pooled)


def _randomise_norms(model):
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 2.0)
            module.bias.data.uniform_(-1, 1)


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12), edge_lists(max_nodes=4, max_edges=6))
def test_gpse_matches_dense_computation(g1, g2):
    torch.manual_seed(0)
    model = GPSE(**SMALL).double().eval()
    _randomise_norms(model)
    (e1, n1, _), (e2, n2, _) = g1, g2
    n = n1 + n2
    edge_index = torch.cat([e1, e2 + n1], dim=1)
    batch = torch.tensor([0] * n1 + [1] * n2)
    x = torch.randn(n, 3, dtype=D)
    y, y_graph = torch.randn(n, 2, dtype=D), torch.randn(2, 2, dtype=D)
    data = SimpleNamespace(x=x, edge_index=edge_index, batch=batch, y=y, y_graph=y_graph)
    pred, true = model(data)
    node, graph = _dense_gpse(model, x, edge_index, batch, 2)
    # the last node of each graph is its virtual node: no node prediction or target
    keep = [i for i in range(n) if i not in (n1 - 1, n - 1)]
    m = len(keep)
    assert pred.shape == true.shape == (m + 2, 4)
    torch.testing.assert_close(pred[:m, :2], node[keep])
    torch.testing.assert_close(pred[m:, 2:], graph)
    torch.testing.assert_close(true[:m, :2], y[keep])
    torch.testing.assert_close(true[m:, 2:], y_graph)
    assert (pred[:m, 2:] == 0).all() and (pred[m:, :2] == 0).all()
    assert (true[:m, 2:] == 0).all() and (true[m:, :2] == 0).all()

    model.post_mp.virtual_node = False
    pred, true = model(data)
    torch.testing.assert_close(pred[:n, :2], node)
    torch.testing.assert_close(true[:n, :2], y)


def test_gpse_message_passing_stage_compiles():
    torch.manual_seed(0)
    model = GPSE(**{**SMALL, "layers_mp": 3}).double().eval()
    _randomise_norms(model)
    stage = model.mp
    compiled = gfx.compile(stage, backend="cpp")
    for n, e in ((7, 15), (4, 0)):
        x = torch.randn(n, 5, dtype=D, requires_grad=True)
        edge_index = torch.randint(0, n, (2, e))
        out_c, out_e = compiled(x, edge_index), stage(x, edge_index)
        torch.testing.assert_close(out_c, out_e)
        seed = torch.randn_like(out_e)
        grad_c = torch.autograd.grad((out_c * seed).sum(), [x] + list(stage.parameters()))
        grad_e = torch.autograd.grad((out_e * seed).sum(), [x] + list(stage.parameters()))
        for a, b in zip(grad_c, grad_e):
            torch.testing.assert_close(a, b)


def _ring_batch(sizes, generator):
    """Rings of the given sizes plus a chord in every other one; node target: degree,
    graph target: number of nodes / 10."""
    xs, edges, batch, ys, yg, offset = [], [], [], [], [], 0
    for g, size in enumerate(sizes):
        src = torch.arange(size)
        pairs = [torch.stack([src, (src + 1) % size])]
        if g % 2:
            pairs.append(torch.tensor([[0], [size // 2]]))
        e = torch.cat(pairs, dim=1)
        e = torch.cat([e, e.flip(0)], dim=1) + offset
        deg = torch.bincount(e[1] - offset, minlength=size).double()
        xs.append(torch.randn(size, 3, generator=generator, dtype=D))
        edges.append(e)
        batch.append(torch.full((size,), g))
        ys.append(torch.stack([deg, deg], dim=1))
        yg.append(torch.tensor([[size / 10.0, size / 10.0]], dtype=D))
        offset += size
    return SimpleNamespace(x=torch.cat(xs), edge_index=torch.cat(edges, dim=1),
                           batch=torch.cat(batch), y=torch.cat(ys), y_graph=torch.cat(yg))


def test_gpse_learns_graph_sizes():
    """Documented quality: from random node features, 150 Adam steps on 8 small graphs
    bring the squared error on the graph targets (graph size / 10, read off the
    add-pooled embeddings) below a tenth of the targets' variance."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = GPSE(**{**SMALL, "dim_inner": 16, "virtual_node": False}).double()
    data = _ring_batch([4, 5, 6, 7, 5, 6, 4, 8], g)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(150):
        opt.zero_grad()
        pred, true = model(data)
        loss = torch.nn.functional.mse_loss(pred, true)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred, true = model(data)
    n = data.x.size(0)
    graph_pred, graph_true = pred[n:, 2:], true[n:, 2:]
    variance = ((graph_true - graph_true.mean()) ** 2).mean().item()
    assert torch.nn.functional.mse_loss(graph_pred, graph_true).item() < 0.1 * variance


def test_gpse_bad_input():
    with pytest.raises(ValueError, match="layer_type"):
        GPSE(layer_type="gcnconv")
    with pytest.raises(ValueError, match="stage_type"):
        GPSE(stage_type="dense")
    with pytest.raises(ValueError, match="graph_pooling"):
        GPSE(graph_pooling="sort")
    with pytest.raises(ValueError, match="layers_post_mp"):
        GPSE(layers_post_mp=1)
    with pytest.raises(ValueError, match="layers_mp"):
        GPSE(layers_mp=0)
    with pytest.raises(ValueError, match="foo"):
        GPSE(act="foo")
    data = SimpleNamespace(x=torch.randn(3, 3), edge_index=torch.tensor([[0], [1]]),
                           y=torch.randn(3, 2))
    with pytest.raises(ValueError, match="y_graph"):
        GPSE(**SMALL)(data)
