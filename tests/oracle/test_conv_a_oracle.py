"""Convolutions of family A against the reference library with the same weights.

Each test builds the gfx layer and the reference layer with the same arguments, checks
that their state_dict keys and shapes agree, loads gfx's weights into the reference and
compares outputs, input gradients and parameter gradients (by parameter name).

Corner cases where gfx deliberately differs are not compared here; each is documented in
the layer's docstring and tested in tests/nn/:
- GINEConv without ``edge_attr``: the reference fails with an AttributeError, gfx raises
  a ValueError naming the argument.
- GATConv/GATv2Conv on bipartite graphs with edge features and more targets than
  sources: the reference fails indexing the loop fill, gfx fills over all targets.
- TransformerConv / ResGatedGraphConv given ``edge_attr`` without ``edge_dim``: refused.
- GINConv with a torch.sparse ``adj_t``: gfx ignores its values (the formula is an
  unweighted sum), the reference weights neighbours by them; only ``edge_index`` inputs
  are compared.
"""
import pytest
import torch

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402

pyg = torch_geometric.nn


def graph(num_src=7, num_dst=None, num_edges=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    num_dst = num_src if num_dst is None else num_dst
    return torch.stack([torch.randint(0, num_src, (num_edges,), generator=g),
                        torch.randint(0, num_dst, (num_edges,), generator=g)])


def randn(*shape, seed=1):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def requires_grad(value):
    if isinstance(value, tuple):
        return tuple(requires_grad(v) for v in value)
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.clone().requires_grad_()
    return value


def leaves(values):
    for value in values:
        if isinstance(value, tuple):
            yield from leaves(value)
        elif isinstance(value, torch.Tensor) and value.requires_grad:
            yield value


def compare(ours, theirs, *inputs, **kwargs):
    """Same state_dict layout; same outputs and gradients after copying our weights."""
    assert shapes(ours) == shapes(theirs)
    theirs.load_state_dict(ours.state_dict())
    args_a, args_b = requires_grad(inputs), requires_grad(inputs)
    out_a, out_b = ours(*args_a, **kwargs), theirs(*args_b, **kwargs)
    attention = isinstance(out_a, tuple)
    if attention:
        (out_a, (ei_a, alpha_a)), (out_b, (ei_b, alpha_b)) = out_a, out_b
        assert torch.equal(ei_a, ei_b)
        torch.testing.assert_close(alpha_a, alpha_b, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out_a, out_b, atol=1e-5, rtol=1e-4)
    grad = randn(*out_a.shape, seed=5)
    out_a.backward(grad)
    out_b.backward(grad)
    for a, b in zip(leaves(args_a), leaves(args_b)):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4)
    params_b = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        q = params_b[name]
        assert (p.grad is None) == (q.grad is None), name
        if p.grad is not None:
            torch.testing.assert_close(p.grad, q.grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("kwargs", [{}, {"aggr": "mean", "combine_root": "sum"},
                                    {"aggr": "max", "combine_root": "cat"},
                                    {"combine_root": "self_loop"}])
def test_simple_conv(kwargs):
    x, ei, w = randn(7, 4), graph(), randn(30, seed=2).abs()
    compare(gnn.SimpleConv(**kwargs), pyg.SimpleConv(**kwargs), x, ei, w)


@pytest.mark.parametrize("kwargs", [{}, {"aggr": "mean"}, {"aggr": "max", "bias": False}])
def test_graph_conv(kwargs):
    x, ei, w = randn(7, 4), graph(), randn(30, seed=2)
    compare(gnn.GraphConv(4, 3, **kwargs), pyg.GraphConv(4, 3, **kwargs), x, ei, w)
    x_pair = (randn(7, 4), randn(5, 2, seed=3))
    compare(gnn.GraphConv((4, 2), 3, **kwargs), pyg.GraphConv((4, 2), 3, **kwargs), x_pair,
            graph(7, 5), w)


def mlp(cin=4, cout=3):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(cin, 6), torch.nn.ReLU(), torch.nn.Linear(6, cout))


@pytest.mark.parametrize("kwargs", [{}, {"eps": 0.3}, {"eps": -0.2, "train_eps": True}])
def test_gin_conv(kwargs):
    compare(gnn.GINConv(mlp(), **kwargs), pyg.GINConv(mlp(), **kwargs), randn(7, 4), graph())
    compare(gnn.GINConv(mlp(), **kwargs), pyg.GINConv(mlp(), **kwargs),
            (randn(7, 4), randn(5, 4, seed=3)), graph(7, 5))


@pytest.mark.parametrize("kwargs", [{}, {"edge_dim": 2, "train_eps": True}])
def test_gine_conv(kwargs):
    attr = randn(30, kwargs.get("edge_dim", 4), seed=4)
    compare(gnn.GINEConv(mlp(), **kwargs), pyg.GINEConv(mlp(), **kwargs), randn(7, 4), graph(),
            attr)


GAT_CASES = [{}, {"heads": 3, "concat": False}, {"edge_dim": 2},
             {"edge_dim": 2, "fill_value": "max", "residual": True},
             {"edge_dim": 2, "fill_value": 0.5, "heads": 2}, {"add_self_loops": False},
             {"negative_slope": 0.05, "bias": False, "heads": 2}]


@pytest.mark.parametrize("kwargs", GAT_CASES)
def test_gat_conv(kwargs):
    x, ei, attr = randn(7, 4), graph(), randn(30, 2, seed=4)
    edge_attr = attr if "edge_dim" in kwargs else None
    compare(gnn.GATConv(4, 3, **kwargs), pyg.GATConv(4, 3, **kwargs), x, ei, edge_attr,
            return_attention_weights=True)


def test_gat_conv_bipartite():
    # Fewer targets than sources: loops for nodes 0..4, edge fill defined in both.
    x_pair, ei, attr = (randn(7, 4), randn(5, 2, seed=3)), graph(7, 5), randn(30, 2, seed=4)
    kwargs = {"heads": 2, "edge_dim": 2, "residual": True}
    compare(gnn.GATConv((4, 2), 3, **kwargs), pyg.GATConv((4, 2), 3, **kwargs), x_pair, ei,
            attr, return_attention_weights=True)
    # One in_channels for a pair: the same projection ``lin`` maps both sides.
    x_same = (randn(7, 4), randn(5, 4, seed=3))
    compare(gnn.GATConv(4, 3, **kwargs), pyg.GATConv(4, 3, **kwargs), x_same, ei, attr,
            return_attention_weights=True)


@pytest.mark.parametrize("kwargs", [{}, {"share_weights": True, "heads": 2},
                                    {"edge_dim": 2, "concat": False, "heads": 2},
                                    {"edge_dim": 2, "fill_value": "sum", "residual": True},
                                    {"add_self_loops": False, "bias": False}])
def test_gatv2_conv(kwargs):
    x, ei, attr = randn(7, 4), graph(), randn(30, 2, seed=4)
    edge_attr = attr if "edge_dim" in kwargs else None
    compare(gnn.GATv2Conv(4, 3, **kwargs), pyg.GATv2Conv(4, 3, **kwargs), x, ei, edge_attr,
            return_attention_weights=True)


def test_gatv2_conv_bipartite():
    x_pair, ei, attr = (randn(7, 4), randn(5, 2, seed=3)), graph(7, 5), randn(30, 2, seed=4)
    kwargs = {"heads": 2, "edge_dim": 2, "residual": True}
    compare(gnn.GATv2Conv((4, 2), 3, **kwargs), pyg.GATv2Conv((4, 2), 3, **kwargs), x_pair, ei,
            attr, return_attention_weights=True)


@pytest.mark.parametrize("kwargs", [{}, {"heads": 2, "beta": True},
                                    {"heads": 2, "concat": False, "edge_dim": 2, "beta": True},
                                    {"root_weight": False, "bias": False, "heads": 2}])
def test_transformer_conv(kwargs):
    x, ei, attr = randn(7, 4), graph(), randn(30, 2, seed=4)
    edge_attr = attr if "edge_dim" in kwargs else None
    compare(gnn.TransformerConv(4, 3, **kwargs), pyg.TransformerConv(4, 3, **kwargs), x, ei,
            edge_attr, return_attention_weights=True)
    x_pair = (randn(7, 4), randn(5, 2, seed=3))
    compare(gnn.TransformerConv((4, 2), 3, **kwargs), pyg.TransformerConv((4, 2), 3, **kwargs),
            x_pair, graph(7, 5), edge_attr, return_attention_weights=True)


@pytest.mark.parametrize("kwargs", [{}, {"requires_grad": False},
                                    {"add_self_loops": False}])
def test_agnn_conv(kwargs):
    ours, theirs = gnn.AGNNConv(**kwargs), pyg.AGNNConv(**kwargs)
    if kwargs.get("requires_grad", True):
        with torch.no_grad():
            ours.beta.fill_(0.7)
    compare(ours, theirs, randn(7, 4), graph())


@pytest.mark.parametrize("aggr", ["max", "mean", "add"])
def test_edge_conv(aggr):
    compare(gnn.EdgeConv(mlp(8), aggr=aggr), pyg.EdgeConv(mlp(8), aggr=aggr), randn(7, 4),
            graph())
    compare(gnn.EdgeConv(mlp(8), aggr=aggr), pyg.EdgeConv(mlp(8), aggr=aggr),
            (randn(7, 4), randn(5, 4, seed=3)), graph(7, 5))


@pytest.mark.parametrize("kwargs", [{}, {"edge_dim": 2}, {"root_weight": False, "bias": False},
                                    {"act": torch.nn.Tanh(), "edge_dim": 2}])
def test_res_gated_graph_conv(kwargs):
    attr = randn(30, 2, seed=4) if "edge_dim" in kwargs else None
    compare(gnn.ResGatedGraphConv(4, 3, **kwargs), pyg.ResGatedGraphConv(4, 3, **kwargs),
            randn(7, 4), graph(), attr)
    compare(gnn.ResGatedGraphConv((4, 2), 3, **kwargs),
            pyg.ResGatedGraphConv((4, 2), 3, **kwargs),
            (randn(7, 4), randn(5, 2, seed=3)), graph(7, 5), attr)


@pytest.mark.parametrize("kwargs", [{}, {"aggr": "mean"}, {"bias": False}])
def test_gated_graph_conv(kwargs):
    x, ei, w = randn(7, 3), graph(), randn(30, seed=2)
    compare(gnn.GatedGraphConv(5, 3, **kwargs), pyg.GatedGraphConv(5, 3, **kwargs), x, ei, w)


@pytest.mark.parametrize("layer", ["GATConv", "GATv2Conv"])
def test_attention_target_to_source(layer):
    kwargs = {"heads": 2, "flow": "target_to_source"}
    compare(getattr(gnn, layer)(4, 3, **kwargs), getattr(pyg, layer)(4, 3, **kwargs),
            randn(7, 4), graph())
