import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import GATv2Conv
from tests.graphs import edge_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager, replace_loops


def gatv2_reference(conv, x_src, x_dst, edges, attrs):
    """a^T LeakyReLU(W_s x_j + W_t x_i + W_e e) scores, explicit per target and edge."""
    H, C = conv.heads, conv.out_channels
    hs = (x_src @ conv.lin_l.weight.t() + conv.lin_l.bias).view(-1, H, C)
    ht = (x_dst @ conv.lin_r.weight.t() + conv.lin_r.bias).view(-1, H, C)
    out = torch.zeros(x_dst.shape[0], H, C, dtype=x_src.dtype)
    for i in range(x_dst.shape[0]):
        inc = [(k, j) for k, (j, t) in enumerate(edges) if t == i]
        if not inc:
            continue
        scores = []
        for k, j in inc:
            z = hs[j] + ht[i]
            if conv.lin_edge is not None:
                z = z + (attrs[k] @ conv.lin_edge.weight.t()).view(H, C)
            scores.append((F.leaky_relu(z, conv.negative_slope) * conv.att[0]).sum(-1))
        alpha = torch.softmax(torch.stack(scores), dim=0)
        for r, (k, j) in enumerate(inc):
            out[i] += alpha[r].view(H, 1) * hs[j]
    out = out.reshape(-1, H * C) if conv.concat else out.mean(1)
    if conv.res is not None:
        out = out + x_dst @ conv.res.weight.t()
    return out + conv.bias


@given(edge_lists(bipartite=True), st.booleans())
def test_gatv2_bipartite_matches_formula(graph, concat):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = GATv2Conv((3, 2), 2, heads=2, edge_dim=3, concat=concat, residual=True).double()
    with torch.no_grad():
        conv.bias.normal_()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    attr = torch.randn(edge_index.shape[1], 3, dtype=torch.float64)
    edges, attrs = replace_loops(edge_index, n_src, n_dst, attr, "mean")
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, attr),
                               gatv2_reference(conv, x_src, x_dst, edges, attrs))


@given(edge_lists())
def test_gatv2_shared_weights_without_loops(graph):
    edge_index, n, _ = graph
    torch.manual_seed(1)
    conv = GATv2Conv(3, 4, heads=1, share_weights=True, add_self_loops=False).double()
    assert conv.lin_l is conv.lin_r
    x = torch.randn(n, 3, dtype=torch.float64)
    edges = [tuple(e) for e in edge_index.t().tolist()]
    torch.testing.assert_close(conv(x, edge_index),
                               gatv2_reference(conv, x, x, edges, [None] * len(edges)))


def test_gatv2_state_dict_layout():
    shapes = {k: tuple(v.shape) for k, v in GATv2Conv(3, 4, heads=2, share_weights=True)
              .state_dict().items()}
    assert shapes == {"lin_l.weight": (8, 3), "lin_l.bias": (8,), "lin_r.weight": (8, 3),
                      "lin_r.bias": (8,), "att": (1, 2, 4), "bias": (8,)}
    assert set(GATv2Conv((3, 5), 4, bias=False, edge_dim=2, residual=True).state_dict()) == \
        {"lin_l.weight", "lin_r.weight", "att", "lin_edge.weight", "res.weight"}


def test_gatv2_attention_weights_and_lowering():
    torch.manual_seed(0)
    conv = GATv2Conv(3, 2, heads=2, edge_dim=1).double().eval()
    x = torch.randn(5, 3, dtype=torch.float64)
    ei = torch.randint(0, 5, (2, 12))
    attr = torch.rand(12, dtype=torch.float64)  # 1-D edge features are one column
    _, (loops, alpha) = conv(x, ei, attr, return_attention_weights=True)
    assert loops.shape[1] == alpha.shape[0] == int((ei[0] != ei[1]).sum()) + 5
    per_target = torch.zeros(5, 2, dtype=torch.float64).index_add_(0, loops[1], alpha)
    torch.testing.assert_close(per_target, torch.ones(5, 2, dtype=torch.float64))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = conv

        def forward(self, x, edge_index, edge_attr):
            return self.conv(x, edge_index, edge_attr)

    assert_lowered_matches_eager(Net(), x, ei, attr)


def test_gatv2_errors():
    with pytest.raises(ValueError, match="share_weights"):
        GATv2Conv((3, 5), 2, share_weights=True)
    conv = GATv2Conv(3, 2, edge_dim=2)
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="GATv2Conv.*'x' have 4 channels"):
        conv(torch.randn(3, 4), ei)
    with pytest.raises(ValueError, match="GATv2Conv.*edge_dim=2"):
        conv(torch.randn(3, 3), ei, torch.randn(2, 5))
    with pytest.raises(ValueError, match="GATv2Conv.*target node features"):
        conv((torch.randn(3, 3), None), ei)
