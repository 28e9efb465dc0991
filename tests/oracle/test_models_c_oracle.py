"""Oracle: ARLinkPredictor, GPSENodeEncoder, GPSE and LPFormer against the reference
library (same weights, same inputs)."""
import pytest
import torch
from hypothesis import given, settings

pytest.importorskip("torch_geometric")
import torch_geometric.nn.models as pyg  # noqa: E402

import gfx.nn.models as ours  # noqa: E402
from tests.oracle.common import compare, hypothesis_graph  # noqa: E402


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(out_channels=6, num_layers=3, attract_ratio=0.25),
    dict(out_channels=5, num_layers=1, attract_ratio=1.0),
    dict(num_layers=4, attract_ratio=0.0),
])
@settings(max_examples=5, deadline=None)
@given(graph=hypothesis_graph(channels=4))
def test_ar_link_predictor(kwargs, graph):
    a = ours.ARLinkPredictor(4, 8, **kwargs)
    b = pyg.ARLinkPredictor(4, 8, **kwargs)
    compare(a, b, graph["x"], graph["edge_index"])
    za, zr = a.encode(graph["x"])
    assert a.calculate_r_fraction(za, zr) == pytest.approx(b.calculate_r_fraction(za, zr),
                                                           nan_ok=True)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(dim_in=5, expand_x=True),
    dict(norm_type=None, model_type="linear"),
    dict(n_layers=3, dropout_be=0.0),
    dict(n_layers=1),
])
@pytest.mark.parametrize("train", [False, True])
def test_gpse_node_encoder(kwargs, train):
    torch.manual_seed(0)
    a = ours.GPSENodeEncoder(16, 6, 4, **kwargs)
    b = pyg.GPSENodeEncoder(16, 6, 4, **kwargs)
    x, pe = torch.randn(7, 5 if kwargs.get("expand_x") else 12), torch.randn(7, 6)
    if train:   # same seed, same dropout masks: the dropouts sit at the same places
        a.train(), b.train()
        b.load_state_dict(a.state_dict())
        torch.manual_seed(1)
        out_a = a(x, pe)
        torch.manual_seed(1)
        out_b = b(x, pe)
        torch.testing.assert_close(out_a, out_b)
        torch.testing.assert_close(a.raw_norm.running_var if a.raw_norm is not None
                                   else pe, b.raw_norm.running_var
                                   if b.raw_norm is not None else pe)
    else:
        compare(a.eval(), b.eval(), x, pe)


def _gpse_batch(graph, seed):
    """Two graphs: the drawn one and a fixed triangle, with node and graph targets."""
    from torch_geometric.data import Batch, Data
    g = torch.Generator().manual_seed(seed)
    x = graph["x"]
    first = Data(x=x, edge_index=graph["edge_index"],
                 y=torch.randn(x.size(0), 3, generator=g),
                 y_graph=torch.randn(1, 2, generator=g))
    second = Data(x=torch.randn(3, x.size(1), generator=g),
                  edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]),
                  y=torch.randn(3, 3, generator=g), y_graph=torch.randn(1, 2, generator=g))
    return Batch.from_data_list([first, second])


_GPSE_SMALL = dict(dim_in=4, dim_out=3, dim_inner=8, layers_mp=2, num_node_targets=3,
                   num_graph_targets=2, multi_head_dim_inner=4)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(virtual_node=False, graph_pooling="mean"),
    dict(virtual_node=False, graph_pooling="max", stage_type="stack"),
    dict(stage_type="skipconcat", layers_mp=3),
    dict(has_bn=False, head_bn=True, final_l2norm=False, has_l2norm=False),
    dict(has_act=False, final_act=False, act="gelu", layers_pre_mp=2, layers_post_mp=3),
    dict(act="prelu", dropout=0.0),
])
@settings(max_examples=4, deadline=None)
@given(graph=hypothesis_graph(channels=4, max_nodes=6, max_edges=12))
def test_gpse_eval(kwargs, graph):
    torch.manual_seed(0)
    args = {**_GPSE_SMALL, **kwargs}
    a, b = ours.GPSE(**args), pyg.GPSE(**args)
    for module in a.modules():          # non-trivial batch norm statistics
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 2.0)
            module.bias.data.uniform_(-1, 1)
    batch = _gpse_batch(graph, 0)
    compare(a.eval(), b.eval(), batch.clone())


@pytest.mark.parametrize("kwargs", [dict(), dict(head_bn=True),
                                    dict(head_bn=True, virtual_node=False)])
def test_gpse_train_step(kwargs):
    """Training mode (batch statistics, same dropout masks from the same seed)."""
    torch.manual_seed(0)
    args = {**_GPSE_SMALL, **kwargs}
    a, b = ours.GPSE(**args).train(), pyg.GPSE(**args).train()
    b.load_state_dict(a.state_dict())
    graph = dict(x=torch.randn(6, 4), edge_index=torch.tensor([[0, 1, 2, 3, 4, 5, 5],
                                                                [1, 2, 3, 4, 5, 0, 2]]))
    batch = _gpse_batch(graph, 1)
    torch.manual_seed(2)
    pa, ta = a(batch.clone())
    torch.manual_seed(2)
    pb, tb = b(batch.clone())
    torch.testing.assert_close(pa, pb)
    torch.testing.assert_close(ta, tb)


def _ppr(edge_index, n, alpha=0.15, cut=2e-3):
    """Dense personalised PageRank ``alpha (I - (1 - alpha) D^-1 A)^-1`` (isolated nodes
    keep their mass), small entries dropped, as a sparse matrix."""
    adj = torch.zeros(n, n)
    adj[edge_index[0], edge_index[1]] = 1.0
    walk = adj / adj.sum(1, keepdim=True).clamp_min(1.0)
    ppr = alpha * torch.linalg.inv(torch.eye(n) - (1 - alpha) * walk)
    ppr[ppr < cut] = 0.0
    return ppr.to_sparse()


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(ppr_thresholds=[0.0, 1e-3, 0.05], num_gnn_layers=3),
    dict(num_gnn_layers=1, gnn_dropout=0.0, transformer_dropout=0.0),
])
@settings(max_examples=6, deadline=None)
@given(graph=hypothesis_graph(channels=4, max_nodes=8, max_edges=12))
def test_lpformer(kwargs, graph):
    torch.manual_seed(0)
    a, b = ours.LPFormer(4, 8, **kwargs).eval(), pyg.LPFormer(4, 8, **kwargs).eval()
    x, edge_index = graph["x"], graph["edge_index"]
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)   # undirected
    n = x.size(0)
    links = torch.stack([torch.arange(n), torch.arange(n).flip(0)])
    compare(a, b, links, x, edge_index, _ppr(edge_index, n))


@settings(max_examples=6, deadline=None)
@given(graph=hypothesis_graph(channels=4, max_nodes=8, max_edges=12))
def test_lpformer_training_mode(graph):
    """Training mode with input/GCN dropout (same seed, same masks) and the target pairs'
    PPR hidden from the "other" class; ``transformer_dropout=0`` because the reference
    draws its random context pairs differently."""
    torch.manual_seed(0)
    kwargs = dict(gnn_dropout=0.5, transformer_dropout=0.0)
    a, b = ours.LPFormer(4, 8, **kwargs).train(), pyg.LPFormer(4, 8, **kwargs).train()
    b.load_state_dict(a.state_dict())
    x, edge_index = graph["x"], graph["edge_index"]
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    n = x.size(0)
    links = torch.stack([torch.arange(n), torch.arange(n).flip(0)])
    ppr = _ppr(edge_index, n)
    torch.manual_seed(1)
    out_a = a(links, x, edge_index, ppr)
    torch.manual_seed(1)
    out_b = b(links, x, edge_index, ppr)
    torch.testing.assert_close(out_a, out_b)
