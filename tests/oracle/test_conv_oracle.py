"""GCNConv and SAGEConv against the reference library with the same weights."""
import pytest
import torch

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402


def random_graph(n=12, e=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, n, (2, e), generator=g), torch.randn(n, 5, generator=g)


def compare(ours, theirs, *inputs):
    theirs.load_state_dict(ours.state_dict())
    args_a = [t.clone().requires_grad_() if t.is_floating_point() else t for t in inputs]
    args_b = [t.clone().requires_grad_() if t.is_floating_point() else t for t in inputs]
    out_a, out_b = ours(*args_a), theirs(*args_b)
    torch.testing.assert_close(out_a, out_b, atol=1e-5, rtol=1e-4)
    grad = torch.randn_like(out_a)
    out_a.backward(grad)
    out_b.backward(grad)
    for a, b in zip(args_a, args_b):
        if a.requires_grad:
            torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        torch.testing.assert_close(p.grad, q.grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("kwargs", [{}, {"improved": True}, {"bias": False},
                                    {"normalize": False, "add_self_loops": False}])
def test_gcn_conv(kwargs):
    edge_index, x = random_graph()
    ours = gnn.GCNConv(5, 7, **kwargs)
    theirs = torch_geometric.nn.GCNConv(5, 7, **kwargs)
    assert set(ours.state_dict()) == set(theirs.state_dict())
    compare(ours, theirs, x, edge_index)
    weight = torch.rand(edge_index.shape[1])
    compare(ours, theirs, x, edge_index, weight)


@pytest.mark.parametrize("kwargs", [{}, {"aggr": "max"}, {"aggr": "sum", "normalize": True},
                                    {"root_weight": False}, {"project": True},
                                    {"aggr": ["mean", "max"]}, {"bias": False}])
def test_sage_conv(kwargs):
    edge_index, x = random_graph(seed=1)
    ours = gnn.SAGEConv(5, 6, **kwargs)
    theirs = torch_geometric.nn.SAGEConv(5, 6, **kwargs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in theirs.state_dict().items()}
    compare(ours, theirs, x, edge_index)


def test_sage_conv_bipartite():
    g = torch.Generator().manual_seed(2)
    x_src, x_dst = torch.randn(6, 4, generator=g), torch.randn(3, 2, generator=g)
    edge_index = torch.stack([torch.randint(0, 6, (15,), generator=g),
                              torch.randint(0, 3, (15,), generator=g)])
    ours, theirs = gnn.SAGEConv((4, 2), 5), torch_geometric.nn.SAGEConv((4, 2), 5)
    theirs.load_state_dict(ours.state_dict())
    torch.testing.assert_close(ours((x_src, x_dst), edge_index),
                               theirs((x_src, x_dst), edge_index), atol=1e-5, rtol=1e-4)
