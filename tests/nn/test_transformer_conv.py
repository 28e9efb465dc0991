import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import TransformerConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager


def affine(lin, x):
    out = x @ lin.weight.t()
    return out if lin.bias is None else out + lin.bias


def transformer_reference(conv, x_src, x_dst, edge_index, attr=None):
    """Scaled dot-product attention over each target's incoming edges, explicit loops."""
    H, C = conv.heads, conv.out_channels
    q = affine(conv.lin_query, x_dst).view(-1, H, C)
    k = affine(conv.lin_key, x_src).view(-1, H, C)
    v = affine(conv.lin_value, x_src).view(-1, H, C)
    out = torch.zeros(x_dst.shape[0], H, C, dtype=x_src.dtype)
    for i, nbrs in enumerate(neighbour_lists(edge_index, x_dst.shape[0])):
        if not nbrs:
            continue
        keys, values = [], []
        for e, j in nbrs:
            edge = 0 if attr is None else (attr[e] @ conv.lin_edge.weight.t()).view(H, C)
            keys.append(k[j] + edge)
            values.append(v[j] + edge)
        scores = torch.stack([(q[i] * key).sum(-1) for key in keys]) / math.sqrt(C)
        alpha = torch.softmax(scores, dim=0)
        out[i] = sum(alpha[r].view(H, 1) * values[r] for r in range(len(nbrs)))
    out = out.reshape(-1, H * C) if conv.concat else out.mean(1)
    if not conv.root_weight:
        return out
    skip = affine(conv.lin_skip, x_dst)
    if conv.lin_beta is None:
        return out + skip
    gate = torch.sigmoid(torch.cat([out, skip, out - skip], -1) @ conv.lin_beta.weight.t())
    return gate * skip + (1 - gate) * out


@given(edge_lists(bipartite=True), st.booleans(), st.booleans())
def test_transformer_bipartite_matches_formula(graph, beta, concat):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = TransformerConv((3, 2), 2, heads=2, beta=beta, concat=concat, edge_dim=2).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    attr = torch.randn(edge_index.shape[1], 2, dtype=torch.float64)
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, attr),
                               transformer_reference(conv, x_src, x_dst, edge_index, attr))


@given(edge_lists())
def test_transformer_without_root(graph):
    edge_index, n, _ = graph
    torch.manual_seed(1)
    conv = TransformerConv(3, 4, heads=3, root_weight=False, beta=True, bias=False).double()
    assert conv.lin_beta is None and not conv.beta
    x = torch.randn(n, 3, dtype=torch.float64)
    out, (ei, alpha) = conv(x, edge_index, return_attention_weights=True)
    assert ei is edge_index and alpha.shape == (edge_index.shape[1], 3)
    torch.testing.assert_close(out, transformer_reference(conv, x, x, edge_index))


def test_transformer_state_dict_layout():
    shapes = {k: tuple(v.shape) for k, v in
              TransformerConv((3, 5), 4, heads=2, beta=True, edge_dim=6, concat=False)
              .state_dict().items()}
    assert shapes == {
        "lin_key.weight": (8, 3), "lin_key.bias": (8,), "lin_query.weight": (8, 5),
        "lin_query.bias": (8,), "lin_value.weight": (8, 3), "lin_value.bias": (8,),
        "lin_edge.weight": (8, 6), "lin_skip.weight": (4, 5), "lin_skip.bias": (4,),
        "lin_beta.weight": (1, 12)}


class Bipartite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = TransformerConv((3, 2), 4, heads=2, beta=True, edge_dim=2)

    def forward(self, x_src, x_dst, edge_index, edge_attr):
        return self.conv((x_src, x_dst), edge_index, edge_attr)


@settings(max_examples=15)  # each example captures and lowers anew
@given(edge_lists(bipartite=True))
def test_transformer_lowered_equals_eager(graph):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Bipartite().double(), torch.randn(n_src, 3).double(),
                                 torch.randn(n_dst, 2).double(), edge_index,
                                 torch.randn(edge_index.shape[1], 2).double())


def test_transformer_dropout_follows_training():
    torch.manual_seed(0)
    conv = TransformerConv(3, 2, dropout=0.9)
    x, ei = torch.randn(5, 3), torch.randint(0, 5, (2, 20))
    conv.eval()
    torch.testing.assert_close(conv(x, ei), conv(x, ei))
    conv.train()
    assert not torch.allclose(conv(x, ei), conv.eval()(x, ei))


def test_transformer_errors():
    conv = TransformerConv(3, 2, edge_dim=2)
    x, ei = torch.randn(3, 3), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="TransformerConv.*'edge_attr' is required"):
        conv(x, ei)
    with pytest.raises(ValueError, match="TransformerConv.*edge_dim=2"):
        conv(x, ei, torch.randn(2, 4))
    with pytest.raises(ValueError, match="TransformerConv.*edge_dim=None"):
        TransformerConv(3, 2)(x, ei, torch.randn(2, 2))
    with pytest.raises(ValueError, match="TransformerConv.*'x' have 4 channels"):
        conv(torch.randn(3, 4), ei, torch.randn(2, 2))
