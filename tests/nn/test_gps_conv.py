import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import GPSConv, SimpleConv
from tests.graphs import dense_adjacency, edge_lists


def dense_mha(attn, h):
    """Softmax attention over the rows of one graph, from the module's packed weights."""
    C, H = attn.embed_dim, attn.num_heads
    D = C // H
    q, k, v = (h @ attn.in_proj_weight.t() + attn.in_proj_bias).split(C, dim=-1)
    heads = []
    for i in range(H):
        s = slice(i * D, (i + 1) * D)
        a = torch.softmax(q[:, s] @ k[:, s].t() / D ** 0.5, dim=-1)
        heads.append(a @ v[:, s])
    return torch.cat(heads, -1) @ attn.out_proj.weight.t() + attn.out_proj.bias


def dense_gps(conv, x, adj, batch):
    """X_M = A x + x;  X_T = attention within each graph + x;  out = s + MLP(s)."""
    local = adj @ x + x
    glob = torch.zeros_like(x)
    for g in batch.unique().tolist():
        rows = (batch == g).nonzero().view(-1)
        glob[rows] = dense_mha(conv.attn, x[rows])
    s = local + glob + x
    return s + conv.mlp(s)


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=7, max_edges=12), st.integers(1, 3), st.booleans())
def test_gps_matches_dense_formula(graph, num_graphs, shuffled):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = GPSConv(4, SimpleConv(aggr="sum"), heads=2, norm=None).double().eval()
    x = torch.randn(n, 4, dtype=torch.float64)
    batch = torch.sort(torch.randint(0, num_graphs, (n,))).values
    if shuffled:  # gfx accepts unsorted batch vectors
        batch = batch[torch.randperm(n)]
    expected = dense_gps(conv, x, dense_adjacency(edge_index, n, n), batch)
    torch.testing.assert_close(conv(x, edge_index, batch), expected)


def test_gps_without_conv_and_with_batch_norm():
    torch.manual_seed(0)
    conv = GPSConv(4, None, heads=1).double().eval()
    for norm in (conv.norm2, conv.norm3):
        torch.nn.init.normal_(norm.module.running_mean)
        torch.nn.init.uniform_(norm.module.running_var, 0.5, 2.0)
    x = torch.randn(5, 4, dtype=torch.float64)

    def bn(norm, t):
        m = norm.module
        return (t - m.running_mean) / torch.sqrt(m.running_var + m.eps) * m.weight + m.bias

    h = bn(conv.norm2, dense_mha(conv.attn, x) + x)
    expected = bn(conv.norm3, h + conv.mlp(h))
    torch.testing.assert_close(conv(x, torch.zeros(2, 0, dtype=torch.long)), expected)


def test_gps_performer_pads_graphs_of_different_sizes():
    torch.manual_seed(0)
    conv = GPSConv(4, None, heads=2, norm=None, attn_type="performer",
                   attn_kwargs={"head_channels": 3}).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    batch = torch.tensor([0, 0, 0, 1, 1])
    out = conv(x, torch.zeros(2, 0, dtype=torch.long), batch)
    # graph 0 fills its row of the dense batch: as if alone
    h = conv.attn(x[:3].unsqueeze(0))[0] + x[:3]
    torch.testing.assert_close(out[:3], h + conv.mlp(h))
    # graph 1 is padded by one zero row, masked out of the values
    padded = torch.cat([x[3:], x.new_zeros(1, 4)]).unsqueeze(0)
    mask = torch.tensor([[True, True, False]])
    h = conv.attn(padded, mask)[0, :2] + x[3:]
    torch.testing.assert_close(out[3:], h + conv.mlp(h))


def test_gps_layout_repr_and_gradients():
    conv = GPSConv(8, SimpleConv(), heads=2, attn_type="performer",
                   attn_kwargs={"head_channels": 4}).double()
    assert str(conv) == (f"GPSConv(8, conv={conv.conv}, heads=2, attn_type=performer)")
    keys = set(conv.state_dict())
    assert {"attn.fast_attn.projection_matrix", "mlp.0.weight", "mlp.3.bias",
            "norm1.module.running_mean", "norm3.module.weight"} <= keys
    x = torch.randn(4, 8, dtype=torch.float64, requires_grad=True)
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    conv.eval()
    assert torch.autograd.gradcheck(lambda t: conv(t, ei, torch.tensor([0, 0, 1, 1])), (x,))


def test_gps_errors():
    with pytest.raises(ValueError, match="attn_type"):
        GPSConv(4, None, attn_type="linear")
    conv = GPSConv(4, None)
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(3, 5), torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(ValueError, match="batch"):
        conv(torch.randn(3, 4), torch.zeros(2, 0, dtype=torch.long), torch.tensor([0, 1]))


def test_gps_compiles_and_refuses_untraced_conv_kwargs():
    import gfx
    torch.manual_seed(0)
    conv = GPSConv(4, SimpleConv(aggr="sum"), heads=2).eval()
    compiled = gfx.compile(conv, backend="reference").eval()
    x, edge_index = torch.randn(5, 4), torch.tensor([[0, 1, 2], [1, 2, 3]])
    torch.testing.assert_close(compiled(x, edge_index), conv(x, edge_index))
    with pytest.raises(Exception, match="kwargs|keyword arguments"):
        compiled(x, edge_index, edge_weight=torch.rand(3))
