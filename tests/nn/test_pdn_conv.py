import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import PDNConv
from tests.graphs import edge_lists


def edge_weights(conv, edge_attr):
    h = torch.relu(edge_attr @ conv.mlp[0].weight.t() + conv.mlp[0].bias)
    return torch.sigmoid(h @ conv.mlp[2].weight.t() + conv.mlp[2].bias).view(-1)


def loop_pdn(conv, x, edge_index, edge_attr, normalize):
    n = x.shape[0]
    w = edge_weights(conv, edge_attr)
    edges = list(zip(edge_index.t().tolist(), w))
    if normalize:  # loops replaced: one per node, weight 1 unless a loop existed (last wins)
        loop_w = {i: torch.tensor(1.0, dtype=x.dtype) for i in range(n)}
        for (j, i), we in edges:
            if i == j:
                loop_w[i] = we
        edges = [((j, i), we) for (j, i), we in edges if i != j]
        edges += [((i, i), loop_w[i]) for i in range(n)]
        deg = torch.zeros(n, dtype=x.dtype)
        for (_, i), we in edges:
            deg[i] += we
        edges = [((j, i), we / (deg[i] * deg[j]).sqrt()) for (j, i), we in edges]
    h = x @ conv.lin.weight.t()
    out = torch.zeros(n, h.shape[1], dtype=x.dtype)
    for (j, i), we in edges:
        out[i] += we * h[j]
    return out + conv.bias


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14), st.booleans(), st.integers(0, 2**16))
def test_matches_loop_formula(graph, normalize, seed):
    edge_index, n, _ = graph
    torch.manual_seed(seed)
    conv = PDNConv(3, 4, edge_dim=2, hidden_channels=5, normalize=normalize).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    ea = torch.randn(edge_index.shape[1], 2, dtype=torch.float64)
    torch.testing.assert_close(conv(x, edge_index, ea),
                               loop_pdn(conv, x, edge_index, ea, normalize))


def test_layout_repr_one_dim_attr_and_gradcheck():
    conv = PDNConv(4, 3, edge_dim=1, hidden_channels=5).double()
    assert str(conv) == "PDNConv(4, 3)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "lin.weight": (3, 4), "mlp.0.weight": (5, 1), "mlp.0.bias": (5,),
        "mlp.2.weight": (1, 5), "mlp.2.bias": (1,), "bias": (3,)}
    ei = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 2]])
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    ea = torch.randn(4, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(conv(x, ei, ea), conv(x, ei, ea.view(-1, 1)))
    assert torch.autograd.gradcheck(lambda a, b: conv(a, ei, b), (x, ea))


def test_pdn_errors():
    conv = PDNConv(2, 2, edge_dim=3, hidden_channels=4)
    x, ei = torch.randn(3, 2), torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="edge_attr"):
        conv(x, ei)
    with pytest.raises(ValueError, match="edge_dim=3"):
        conv(x, ei, torch.randn(1, 2))
    with pytest.raises(ValueError, match="edge_attr"):
        conv(x, ei, torch.randn(2, 3))
