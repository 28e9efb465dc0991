import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import MeshCNNConv


@st.composite
def mesh_neighbourhoods(draw, max_edges: int = 8):
    """``(num_mesh_edges, edge_index)``: a subset of mesh edges, each with 4 neighbours."""
    n = draw(st.integers(1, max_edges))
    centres = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n))
    cols = []
    for e in centres:
        for j in draw(st.lists(st.integers(0, n - 1), min_size=4, max_size=4)):
            cols.append((j, e))
    edge_index = torch.tensor(cols, dtype=torch.long).t().reshape(2, -1)
    return n, edge_index


def loop_meshcnn(conv, x, edge_index):
    """The formula, one mesh edge at a time, from its four named neighbours."""
    k = conv.kernels
    out = k[0](x)
    for g in range(edge_index.shape[1] // 4):
        a, b, c, d = (x[j] for j in edge_index[0, 4 * g:4 * g + 4].tolist())
        e = int(edge_index[1, 4 * g])
        out[e] = out[e] + k[1]((a - c).abs()) + k[2](a + c) + k[3]((b - d).abs()) + \
            k[4](b + d)
    return out


@settings(max_examples=10, deadline=None)
@given(mesh_neighbourhoods())
def test_meshcnn_matches_loop_formula(mesh):
    n, edge_index = mesh
    torch.manual_seed(0)
    conv = MeshCNNConv(3, 4).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(conv(x, edge_index), loop_meshcnn(conv, x, edge_index))


def test_meshcnn_is_invariant_to_the_triangle_order():
    torch.manual_seed(0)
    conv = MeshCNNConv(2, 3)
    x = torch.randn(5, 2)
    ei = torch.tensor([[1, 2, 3, 4], [0, 0, 0, 0]])
    swapped = torch.tensor([[3, 4, 1, 2], [0, 0, 0, 0]])  # (a, b) <-> (c, d)
    torch.testing.assert_close(conv(x, ei), conv(x, swapped))


def test_meshcnn_custom_kernels_layout_and_gradients():
    kernels = torch.nn.ModuleList([torch.nn.Linear(2, 2, bias=False) for _ in range(5)])
    conv = MeshCNNConv(2, 2, kernels).double()
    assert str(conv) == "MeshCNNConv(2, 2)"
    assert set(conv.state_dict()) == {f"kernels.{i}.weight" for i in range(5)}
    assert set(MeshCNNConv(2, 3).state_dict()) == {
        f"kernels.{i}.{p}" for i in range(5) for p in ("weight", "bias")}
    x = torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    ei = torch.tensor([[1, 2, 3, 0, 0, 1, 2, 3], [0, 0, 0, 0, 2, 2, 2, 2]])
    assert torch.autograd.gradcheck(lambda t: conv(t, ei), (x,))


def test_meshcnn_errors():
    with pytest.raises(ValueError, match="kernels"):
        MeshCNNConv(2, 2, torch.nn.ModuleList([torch.nn.Linear(2, 2)] * 4))
    with pytest.raises(ValueError, match="kernels"):
        MeshCNNConv(2, 2, [torch.nn.Linear(2, 2)] * 5)
    conv = MeshCNNConv(2, 2)
    with pytest.raises(ValueError, match="edge_index"):
        conv(torch.randn(3, 2), torch.tensor([[0, 1, 2], [1, 1, 1]]))
    with pytest.raises(ValueError, match="edge_index"):
        conv(torch.randn(5, 2), torch.tensor([[0, 0, 0, 0], [1, 2, 3, 4]]))
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(5, 3), torch.tensor([[0, 0, 0, 0], [1, 1, 1, 1]]))
