"""AttentiveFP and GATEConv against loops written from the formulas."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from gfx.nn import AttentiveFP
from gfx.nn.models.attentive_fp import GATEConv
from tests.graphs import edge_lists


def attention_sum(scores, values, targets, num_nodes, channels):
    """out_i = sum_k softmax_{k: targets[k] = i}(scores)_k * values_k, by a loop."""
    out = torch.zeros(num_nodes, channels, dtype=torch.float64)
    for i in range(num_nodes):
        ks = [k for k in range(len(targets)) if targets[k] == i]
        if ks:
            w = torch.softmax(torch.stack([scores[k] for k in ks]), 0)
            out[i] = sum(w[n] * values[k] for n, k in enumerate(ks))
    return out


def dense_gate_conv(conv, x, edge_index, edge_attr):
    j, i = edge_index.tolist() if edge_index.numel() else ([], [])
    scores, values = [], []
    for k in range(len(j)):
        m = F.leaky_relu(conv.lin1.weight @ torch.cat([x[j[k]], edge_attr[k]]), 0.01)
        scores.append(F.leaky_relu(conv.att_l[0] @ m + conv.att_r[0] @ x[i[k]], 0.01))
        values.append(conv.lin2.weight @ x[j[k]])
    return attention_sum(scores, values, i, x.shape[0], conv.bias.numel()) + conv.bias


def dense_gat(conv, x_src, x_dst, edge_index):
    w = conv.lin.weight
    j, i = edge_index.tolist() if edge_index.numel() else ([], [])
    scores = [F.leaky_relu(conv.att_src.view(-1) @ (w @ x_src[a]) +
                           conv.att_dst.view(-1) @ (w @ x_dst[b]), 0.01) for a, b in zip(j, i)]
    values = [w @ x_src[a] for a in j]
    return attention_sum(scores, values, i, x_dst.shape[0], conv.bias.numel()) + conv.bias


@st.composite
def molecules(draw):
    edge_index, n, _ = draw(edge_lists(6, 12, False))
    n = max(n, 1)
    num_graphs = draw(st.integers(1, n))
    batch = torch.tensor(sorted(list(range(num_graphs)) + draw(
        st.lists(st.integers(0, num_graphs - 1), min_size=n - num_graphs,
                 max_size=n - num_graphs))))
    g = torch.Generator().manual_seed(draw(st.integers(0, 999)))
    return (torch.randn(n, 3, generator=g, dtype=torch.float64), edge_index,
            torch.randn(edge_index.shape[1], 2, generator=g, dtype=torch.float64), batch)


@settings(max_examples=10, deadline=None)
@given(molecules())
def test_gate_conv_formula(graph):
    x, edge_index, edge_attr, _ = graph
    conv = GATEConv(3, 3, edge_dim=2).double()
    torch.testing.assert_close(conv(x, edge_index, edge_attr),
                               dense_gate_conv(conv, x, edge_index, edge_attr))


@settings(max_examples=10, deadline=None)
@given(molecules())
def test_attentive_fp_formula(graph):
    x, edge_index, edge_attr, batch = graph
    model = AttentiveFP(3, 4, 2, edge_dim=2, num_layers=2, num_timesteps=2).double()
    h = F.leaky_relu(model.lin1(x), 0.01)
    h = model.gru(F.elu(dense_gate_conv(model.gate_conv, h, edge_index, edge_attr)), h).relu()
    h = model.atom_grus[0](F.elu(dense_gat(model.atom_convs[0], h, h, edge_index)), h).relu()
    num_graphs = int(batch.max()) + 1
    g = torch.stack([h[batch == k].sum(0) for k in range(num_graphs)]).relu()
    to_mol = torch.stack([torch.arange(len(batch)), batch])
    for _ in range(2):
        g = model.mol_gru(F.elu(dense_gat(model.mol_conv, h, g, to_mol)), g).relu()
    expected = model.lin2(g)
    torch.testing.assert_close(model(x, edge_index, edge_attr, batch), expected)


def test_gradcheck_and_errors():
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    edge_attr = torch.randn(4, 2, dtype=torch.float64)
    model = AttentiveFP(3, 4, 2, edge_dim=2, num_layers=2, num_timesteps=1).double()
    batch = torch.tensor([0, 0, 1, 1])
    assert torch.autograd.gradcheck(lambda v: model(v, edge_index, edge_attr, batch), (x,))
    with pytest.raises(ValueError, match="edge_attr"):
        model(x, edge_index, edge_attr[:, :1], batch)
    with pytest.raises(ValueError, match="in_channels"):
        GATEConv(3, 4, edge_dim=2)
    with pytest.raises(ValueError, match="num_layers"):
        AttentiveFP(3, 4, 2, edge_dim=2, num_layers=0, num_timesteps=1)
    assert str(model) == ("AttentiveFP(in_channels=3, hidden_channels=4, out_channels=2, "
                          "edge_dim=2, num_layers=2, num_timesteps=1)")
