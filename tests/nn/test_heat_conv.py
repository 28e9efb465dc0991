import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import HEATConv
from tests.graphs import edge_lists


def lrelu(t, slope=0.2):
    return torch.where(t > 0, t, slope * t)


def loop_heat(conv, x, edge_index, node_type, edge_type, edge_attr):
    """The formula edge by edge, with the weights read off the layer's parameters."""
    H, C = conv.heads, conv.out_channels
    W, b = conv.hetero_lin.weight, conv.hetero_lin.bias
    h = torch.stack([x[i] @ W[node_type[i]] + (b[node_type[i]] if b is not None else 0)
                     for i in range(x.shape[0])]) if x.shape[0] else x.new_zeros(0, C)
    src, dst = edge_index.tolist()
    scores, values = [], []
    for e, (j, i) in enumerate(zip(src, dst)):
        t = lrelu(conv.edge_type_emb.weight[edge_type[e]])
        a = lrelu(conv.edge_attr_emb.weight @ edge_attr[e])
        scores.append(lrelu(conv.att.weight @ torch.cat([h[i], h[j], t, a])))
        v = conv.lin.weight @ torch.cat([h[j], a])
        values.append(v + conv.lin.bias if conv.lin.bias is not None else v)
    out = torch.zeros(x.shape[0], H, C, dtype=x.dtype)
    for e, i in enumerate(dst):
        denom = sum(torch.exp(scores[f]) for f, t in enumerate(dst) if t == i)
        out[i] += (torch.exp(scores[e]) / denom).view(H, 1) * values[e].view(1, C)
    if conv.concat:
        if conv.root_weight:
            out = out + h.view(-1, 1, C)
        return out.reshape(-1, H * C)
    out = out.mean(1)
    return out + h if conv.root_weight else out


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12), st.integers(1, 3), st.booleans(),
       st.booleans(), st.booleans())
def test_heat_matches_loop_formula(graph, heads, concat, root_weight, bias):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = HEATConv(3, 4, num_node_types=2, num_edge_types=3, edge_type_emb_dim=2,
                    edge_dim=3, edge_attr_emb_dim=5, heads=heads, concat=concat,
                    root_weight=root_weight, bias=bias).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    node_type = torch.randint(0, 2, (n,))
    edge_type = torch.randint(0, 3, (edge_index.shape[1],))
    edge_attr = torch.randn(edge_index.shape[1], 3, dtype=torch.float64)
    with torch.no_grad():
        expected = loop_heat(conv, x, edge_index, node_type, edge_type, edge_attr)
        got = conv(x, edge_index, node_type, edge_type, edge_attr)
    torch.testing.assert_close(got, expected)


def test_heat_gradcheck_and_layout():
    torch.manual_seed(0)
    conv = HEATConv(3, 2, 2, 2, 2, 2, 3, heads=2).double()
    assert str(conv) == "HEATConv(3, 2, heads=2)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "hetero_lin.weight": (2, 3, 2), "hetero_lin.bias": (2, 2),
        "edge_type_emb.weight": (2, 2), "edge_attr_emb.weight": (3, 2),
        "att.weight": (2, 9), "lin.weight": (2, 5), "lin.bias": (2,)}
    edge_index = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])
    node_type, edge_type = torch.tensor([0, 1, 1]), torch.tensor([1, 0, 1, 1])
    x = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    ea = torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: conv(a, edge_index, node_type, edge_type, b), (x, ea))


def test_heat_errors():
    conv = HEATConv(3, 2, 2, 2, 2, 2, 3)
    x, ei = torch.randn(3, 3), torch.tensor([[0, 1], [1, 2]])
    nt, et = torch.tensor([0, 1, 1]), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="edge_attr"):
        conv(x, ei, nt, et)
    with pytest.raises(ValueError, match="edge_attr"):
        conv(x, ei, nt, et, torch.randn(2, 5))
    with pytest.raises(ValueError, match="node_type"):
        conv(x, ei, nt[:2], et, torch.randn(2, 2))
    with pytest.raises(IndexError, match="edge_type"):
        conv(x, ei, nt, torch.tensor([0, 2]), torch.randn(2, 2))
