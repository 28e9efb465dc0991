import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import ResGatedGraphConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager


def affine(lin, x):
    return x @ lin.weight.t() + lin.bias


def res_gated_reference(conv, x_src, x_dst, edge_index, attr=None):
    """W1 x_i + sum_j sigmoid(W3 [x_i|e] + W4 [x_j|e]) * W2 [x_j|e] + b, explicit loops."""
    out = torch.zeros(x_dst.shape[0], conv.out_channels, dtype=x_src.dtype)
    for i, nbrs in enumerate(neighbour_lists(edge_index, x_dst.shape[0])):
        for e, j in nbrs:
            extra = [] if attr is None else [attr[e]]
            xi, xj = torch.cat([x_dst[i], *extra]), torch.cat([x_src[j], *extra])
            gate = torch.sigmoid(affine(conv.lin_key, xi) + affine(conv.lin_query, xj))
            out[i] += gate * affine(conv.lin_value, xj)
    if conv.lin_skip is not None:
        out = out + x_dst @ conv.lin_skip.weight.t()
    return out if conv.bias is None else out + conv.bias


@given(edge_lists(bipartite=True), st.booleans(), st.booleans())
def test_res_gated_bipartite_matches_formula(graph, with_edges, root_weight):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = ResGatedGraphConv((3, 2), 4, edge_dim=2 if with_edges else None,
                             root_weight=root_weight).double()
    with torch.no_grad():
        conv.bias.normal_()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    attr = torch.randn(edge_index.shape[1], 2, dtype=torch.float64) if with_edges else None
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, attr),
                               res_gated_reference(conv, x_src, x_dst, edge_index, attr))


def test_res_gated_custom_gate_and_lazy():
    torch.manual_seed(0)
    conv = ResGatedGraphConv(-1, 3, act=torch.nn.Tanh(), edge_dim=2, bias=False)
    x, ei, attr = torch.randn(4, 5), torch.tensor([[0, 1, 2], [1, 2, 3]]), torch.randn(3, 2)
    out = conv(x, ei, attr)
    assert conv.lin_key.weight.shape == (3, 7) and conv.lin_skip.weight.shape == (3, 5)
    xi = torch.cat([x[2], attr[1]])
    xj = torch.cat([x[1], attr[1]])
    gate = torch.tanh(affine(conv.lin_key, xi) + affine(conv.lin_query, xj))
    torch.testing.assert_close(out[2], gate * affine(conv.lin_value, xj)
                               + x[2] @ conv.lin_skip.weight.t())


def test_res_gated_state_dict_layout():
    shapes = {k: tuple(v.shape) for k, v in
              ResGatedGraphConv((3, 5), 4, edge_dim=2).state_dict().items()}
    assert shapes == {"lin_key.weight": (4, 7), "lin_key.bias": (4,),
                      "lin_query.weight": (4, 5), "lin_query.bias": (4,),
                      "lin_value.weight": (4, 5), "lin_value.bias": (4,),
                      "lin_skip.weight": (4, 5), "bias": (4,)}


class WithEdges(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = ResGatedGraphConv(3, 4, edge_dim=2)

    def forward(self, x, edge_index, edge_attr):
        return self.conv(x, edge_index, edge_attr)


class Bipartite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = ResGatedGraphConv((3, 2), 4)

    def forward(self, x_src, x_dst, edge_index):
        return self.conv((x_src, x_dst), edge_index)


@settings(max_examples=15)  # each example captures and lowers anew
@given(edge_lists(bipartite=True))
def test_res_gated_lowered_equals_eager(graph):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Bipartite().double(), torch.randn(n_src, 3).double(),
                                 torch.randn(n_dst, 2).double(), edge_index)
    assert_lowered_matches_eager(WithEdges().double(), torch.randn(n_src, 3).double(),
                                 edge_index.clamp(max=n_src - 1),
                                 torch.randn(edge_index.shape[1], 2).double())


def test_res_gated_errors():
    x, ei = torch.randn(3, 3), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="ResGatedGraphConv.*'edge_attr' is required"):
        ResGatedGraphConv(3, 2, edge_dim=2)(x, ei)
    with pytest.raises(ValueError, match="ResGatedGraphConv.*edge_dim=2"):
        ResGatedGraphConv(3, 2, edge_dim=2)(x, ei, torch.randn(2, 3))
    with pytest.raises(ValueError, match="ResGatedGraphConv.*edge_dim=None"):
        ResGatedGraphConv(3, 2)(x, ei, torch.randn(2, 3))
    with pytest.raises(ValueError, match="ResGatedGraphConv.*target.*'x' have 4 channels"):
        ResGatedGraphConv((3, 2), 2)((x, torch.randn(3, 4)), ei)
