"""Convolutions of family B (spectral, propagation, misc) against the reference library.

Each test builds a gfx layer and the reference layer, checks that their state_dict keys
and shapes agree, loads gfx's weights into the reference, and compares outputs and the
gradients of the floating-point inputs and of every parameter.
"""
import pytest
import torch

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402

pyg = torch_geometric.nn


def random_graph(n=10, e=36, channels=5, seed=0):
    """A directed multigraph with self-loops and duplicates, and node features."""
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, n, (2, e), generator=g)
    edge_index[:, 1] = edge_index[:, 0]  # one self-loop
    edge_index[:, 3] = edge_index[:, 2]  # one duplicate
    return edge_index, torch.randn(n, channels, generator=g)


def shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def compare(ours, theirs, *inputs, **kwargs):
    """Same weights, same inputs -> same outputs and gradients (inputs and parameters)."""
    assert shapes(ours) == shapes(theirs)
    theirs.load_state_dict(ours.state_dict())

    def prepare(values):
        out = []
        for v in values:
            if isinstance(v, tuple):
                out.append(tuple(prepare(v)))
            elif isinstance(v, torch.Tensor) and v.is_floating_point():
                out.append(v.clone().requires_grad_())
            else:
                out.append(v)
        return out

    def leaves(values):
        for v in values:
            if isinstance(v, tuple):
                yield from leaves(v)
            elif isinstance(v, torch.Tensor) and v.requires_grad:
                yield v

    args_a, args_b = prepare(inputs), prepare(inputs)
    out_a, out_b = ours(*args_a, **kwargs), theirs(*args_b, **kwargs)
    torch.testing.assert_close(out_a, out_b, atol=1e-5, rtol=1e-4)
    grad = torch.randn_like(out_a)
    out_a.backward(grad)
    out_b.backward(grad)
    for a, b in zip(leaves(args_a), leaves(args_b)):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        q = theirs_params[name]
        if p.grad is None or q.grad is None:
            assert p.grad is None or not p.grad.any(), name
            assert q.grad is None or not q.grad.any(), name
            continue
        torch.testing.assert_close(p.grad, q.grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("kwargs", [{}, {"K": 0}, {"K": 2, "bias": False},
                                    {"normalize": False}])
def test_tag_conv(kwargs):
    edge_index, x = random_graph()
    ours, theirs = gnn.TAGConv(5, 4, **kwargs), pyg.TAGConv(5, 4, **kwargs)
    compare(ours, theirs, x, edge_index)
    compare(ours, theirs, x, edge_index, torch.rand(edge_index.shape[1]))


@pytest.mark.parametrize("kwargs", [{}, {"num_stacks": 2, "num_layers": 3},
                                    {"num_stacks": 3, "num_layers": 2, "shared_weights": True},
                                    {"num_layers": 2, "act": None, "bias": False}])
def test_arma_conv(kwargs):
    edge_index, x = random_graph()
    ours, theirs = gnn.ARMAConv(5, 4, **kwargs), pyg.ARMAConv(5, 4, **kwargs)
    compare(ours, theirs, x, edge_index, torch.rand(edge_index.shape[1]))


@pytest.mark.parametrize("kwargs", [{}, {"K": 3}, {"K": 2, "add_self_loops": False},
                                    {"bias": False}])
def test_sg_conv(kwargs):
    edge_index, x = random_graph()
    ours, theirs = gnn.SGConv(5, 4, **kwargs), pyg.SGConv(5, 4, **kwargs)
    compare(ours, theirs, x, edge_index)
    compare(ours, theirs, x, edge_index, torch.rand(edge_index.shape[1]))


@pytest.mark.parametrize("kwargs", [{"alpha": 0.1}, {"alpha": 0.3, "K": 3},
                                    {"alpha": 0.5, "K": 2, "add_self_loops": False}])
def test_ssg_conv(kwargs):
    edge_index, x = random_graph()
    ours, theirs = gnn.SSGConv(5, 4, **kwargs), pyg.SSGConv(5, 4, **kwargs)
    compare(ours, theirs, x, edge_index)
    compare(ours, theirs, x, edge_index, torch.rand(edge_index.shape[1]))


@pytest.mark.parametrize("kwargs", [{"K": 3, "alpha": 0.1}, {"K": 0, "alpha": 0.5},
                                    {"K": 2, "alpha": 0.2, "add_self_loops": False},
                                    {"K": 2, "alpha": 0.2, "normalize": False}])
def test_appnp(kwargs):
    edge_index, x = random_graph()
    ours, theirs = gnn.APPNP(**kwargs), pyg.APPNP(**kwargs)
    compare(ours, theirs, x, edge_index)
    compare(ours, theirs, x, edge_index, torch.rand(edge_index.shape[1]))


@pytest.mark.parametrize("kwargs", [{}, {"max_degree": 2}, {"max_degree": 0, "bias": False}])
def test_mf_conv(kwargs):
    edge_index, x = random_graph()
    ours, theirs = gnn.MFConv(5, 4, **kwargs), pyg.MFConv(5, 4, **kwargs)
    compare(ours, theirs, x, edge_index)


def test_mf_conv_bipartite():
    g = torch.Generator().manual_seed(3)
    x_src, x_dst = torch.randn(7, 5, generator=g), torch.randn(4, 3, generator=g)
    edge_index = torch.stack([torch.randint(0, 7, (15,), generator=g),
                              torch.randint(0, 4, (15,), generator=g)])
    ours, theirs = gnn.MFConv((5, 3), 2, max_degree=3), pyg.MFConv((5, 3), 2, max_degree=3)
    compare(ours, theirs, (x_src, x_dst), edge_index)


GENERAL_CONFIGS = [
    {},
    {"skip_linear": True},
    {"directed_msg": False, "heads": 2},
    {"attention": True, "heads": 2, "in_edge_channels": 3},
    {"attention": True, "attention_type": "dot_product", "heads": 3, "directed_msg": False,
     "in_edge_channels": 3, "l2_normalize": True},
    {"aggr": "mean", "bias": False, "l2_normalize": True},
    {"aggr": "max", "attention": True, "attention_type": "dot_product"},
]


@pytest.mark.parametrize("kwargs", GENERAL_CONFIGS)
@pytest.mark.parametrize("out_channels", [5, 4])
def test_general_conv(kwargs, out_channels):
    edge_index, x = random_graph()
    ours = gnn.GeneralConv(5, out_channels, **kwargs)
    theirs = pyg.GeneralConv(5, out_channels, **kwargs)
    if kwargs.get("attention") and kwargs.get("attention_type", "additive") == "additive":
        torch.nn.init.normal_(ours.att_msg)
    edge_attr = torch.randn(edge_index.shape[1], 3)
    if "in_edge_channels" in kwargs:
        compare(ours, theirs, x, edge_index, edge_attr)
    else:
        compare(ours, theirs, x, edge_index)


def test_general_conv_bipartite():
    g = torch.Generator().manual_seed(4)
    x_src, x_dst = torch.randn(7, 5, generator=g), torch.randn(4, 3, generator=g)
    edge_index = torch.stack([torch.randint(0, 7, (15,), generator=g),
                              torch.randint(0, 4, (15,), generator=g)])
    ours = gnn.GeneralConv((5, 3), 2, heads=2, attention=True)
    theirs = pyg.GeneralConv((5, 3), 2, heads=2, attention=True)
    compare(ours, theirs, (x_src, x_dst), edge_index)


@pytest.mark.parametrize("kwargs", [{}, {"normalize": False}])
def test_lg_conv(kwargs):
    edge_index, x = random_graph()
    ours, theirs = gnn.LGConv(**kwargs), pyg.LGConv(**kwargs)
    compare(ours, theirs, x, edge_index)
    compare(ours, theirs, x, edge_index, torch.rand(edge_index.shape[1]))


@pytest.mark.parametrize("kwargs", [{"alpha": 0.1}, {"alpha": 0.2, "theta": 0.5, "layer": 3},
                                    {"alpha": 0.3, "theta": 1.0, "layer": 1,
                                     "shared_weights": False},
                                    {"alpha": 0.1, "add_self_loops": False},
                                    {"alpha": 0.1, "normalize": False}])
def test_gcn2_conv(kwargs):
    edge_index, x = random_graph(channels=4)
    x_0 = torch.randn(x.shape[0] + 3, 4)  # longer x_0: its first N rows are used
    ours, theirs = gnn.GCN2Conv(4, **kwargs), pyg.GCN2Conv(4, **kwargs)
    compare(ours, theirs, x, x_0, edge_index)
    compare(ours, theirs, x, x_0, edge_index, torch.rand(edge_index.shape[1]))


@pytest.mark.parametrize("kwargs", [{}, {"diag_lambda": 0.7}, {"bias": False}])
def test_cluster_gcn_conv(kwargs):
    edge_index, x = random_graph()
    ours, theirs = gnn.ClusterGCNConv(5, 4, **kwargs), pyg.ClusterGCNConv(5, 4, **kwargs)
    compare(ours, theirs, x, edge_index)


def test_cluster_gcn_conv_without_added_loops():
    # The reference needs exactly one self-loop per node here (see the docstring).
    edge_index, x = random_graph()
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    loops = torch.arange(x.shape[0]).repeat(2, 1)
    edge_index = torch.cat([loops[:, :4], edge_index, loops[:, 4:]], dim=1)
    ours = gnn.ClusterGCNConv(5, 4, diag_lambda=0.5, add_self_loops=False)
    theirs = pyg.ClusterGCNConv(5, 4, diag_lambda=0.5, add_self_loops=False)
    compare(ours, theirs, x, edge_index)


@pytest.mark.parametrize("bias", [True, False])
def test_le_conv(bias):
    edge_index, x = random_graph()
    ours, theirs = gnn.LEConv(5, 4, bias=bias), pyg.LEConv(5, 4, bias=bias)
    compare(ours, theirs, x, edge_index)
    compare(ours, theirs, x, edge_index, torch.rand(edge_index.shape[1]))


def test_le_conv_bipartite():
    g = torch.Generator().manual_seed(5)
    x_src, x_dst = torch.randn(7, 5, generator=g), torch.randn(4, 3, generator=g)
    edge_index = torch.stack([torch.randint(0, 7, (15,), generator=g),
                              torch.randint(0, 4, (15,), generator=g)])
    ours, theirs = gnn.LEConv((5, 3), 2), pyg.LEConv((5, 3), 2)
    compare(ours, theirs, (x_src, x_dst), edge_index, torch.rand(15))


@pytest.mark.parametrize("kwargs", [{}, {"num_relations": 3}, {"num_relations": 2, "act": None},
                                    {"aggr": "sum", "num_relations": 2}])
def test_film_conv(kwargs):
    edge_index, x = random_graph()
    ours, theirs = gnn.FiLMConv(5, 4, **kwargs), pyg.FiLMConv(5, 4, **kwargs)
    num_relations = kwargs.get("num_relations", 1)
    g = torch.Generator().manual_seed(6)
    edge_type = torch.randint(0, num_relations, (edge_index.shape[1],), generator=g)
    compare(ours, theirs, x, edge_index, edge_type)


def test_film_conv_bipartite_with_custom_nn():
    g = torch.Generator().manual_seed(7)
    x_src, x_dst = torch.randn(7, 5, generator=g), torch.randn(4, 3, generator=g)
    edge_index = torch.stack([torch.randint(0, 7, (15,), generator=g),
                              torch.randint(0, 4, (15,), generator=g)])
    edge_type = torch.randint(0, 2, (15,), generator=g)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4))
    ours = gnn.FiLMConv((5, 3), 2, num_relations=2, nn=net)
    theirs = pyg.FiLMConv((5, 3), 2, num_relations=2, nn=net)
    compare(ours, theirs, (x_src, x_dst), edge_index, edge_type)
