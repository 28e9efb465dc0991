import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import RGATConv
from tests.graphs import edge_lists

MODES = ["additive-self-attention", "multiplicative-self-attention"]


def loop_rgat(conv, x, edge_index, edge_type, edge_attr=None):
    """The formula edge by edge: scores, grouped softmax, weighted messages, per target."""
    H, D, C = conv.heads, conv.dim, conv.out_channels
    if conv.num_bases is not None:
        w = torch.einsum("rb,bio->rio", conv.att, conv.basis)
    elif conv.num_blocks is not None:
        w = torch.stack([torch.block_diag(*conv.weight[r]) for r in range(conv.num_relations)])
    else:
        w = conv.weight
    n, additive = x.shape[0], conv.attention_mode == MODES[0]
    src, dst = edge_index.tolist()
    g, score = [], []
    for e, (j, i) in enumerate(zip(src, dst)):
        r = int(edge_type[e])
        gi, gj = x[i] @ w[r], x[j] @ w[r]
        q, k = gi @ conv.q, gj @ conv.k
        b = q + k if additive else q * k
        if edge_attr is not None:
            a = (conv.lin_edge.weight @ edge_attr[e]) @ conv.e
            b = b + a if additive else b * a
        if additive:
            b = torch.where(b > 0, b, conv.negative_slope * b)
        g.append(gj.view(H, C))
        score.append(b.view(H, D))
    out = torch.zeros(n, H, D, C, dtype=x.dtype)
    within = conv.attention_mechanism == "within-relation"
    degree = [dst.count(i) for i in range(n)]
    for e, i in enumerate(dst):
        group = [f for f, t in enumerate(dst)
                 if t == i and (not within or int(edge_type[f]) == int(edge_type[e]))]
        denom = sum(torch.exp(score[f]) for f in group)
        alpha = torch.exp(score[e]) / denom  # [H, D]
        if conv.mod == "f-additive":
            alpha = torch.where(alpha > 0, alpha + 1, alpha)
        elif conv.mod == "f-scaled":
            alpha = alpha * degree[i]
        msg = alpha.view(H, D, 1) * g[e].view(H, 1, C)
        if conv.mod == "additive":
            msg = msg + conv.w * g[e].view(H, 1, C)
        elif conv.mod == "scaled":
            psi = torch.relu(degree[i] * conv.l1[0] + conv.b1[0]) @ conv.l2 + conv.b2[0]
            msg = msg * psi
        out[i] += msg
    out = out.reshape(n, -1) if conv.concat else out.mean(1).reshape(n, -1)
    return out + conv.bias if conv.bias is not None else out


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12), st.sampled_from(MODES),
       st.sampled_from(["across-relation", "within-relation"]),
       st.sampled_from([None, "additive", "scaled", "f-additive", "f-scaled"]),
       st.sampled_from([{}, {"num_bases": 2}, {"num_blocks": 2}]), st.booleans(),
       st.booleans())
def test_rgat_matches_loop_formula(graph, mode, mechanism, mod, decomposition, concat,
                                   edges):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    dim = 2 if mode == MODES[1] else 1
    conv = RGATConv(4, 3, num_relations=3, mod=mod, attention_mechanism=mechanism,
                    attention_mode=mode, heads=2, dim=dim, concat=concat,
                    edge_dim=2 if edges else None, **decomposition).double()
    torch.nn.init.normal_(conv.bias)
    torch.nn.init.normal_(conv.b1)
    x = torch.randn(n, 4, dtype=torch.float64)
    edge_type = torch.randint(0, 3, (edge_index.shape[1],))
    edge_attr = torch.randn(edge_index.shape[1], 2, dtype=torch.float64) if edges else None
    with torch.no_grad():
        expected = loop_rgat(conv, x, edge_index, edge_type, edge_attr)
        got = conv(x, edge_index, edge_type, edge_attr)
    torch.testing.assert_close(got, expected)


def test_rgat_attention_weights_sum_to_one_per_target_and_relation():
    torch.manual_seed(0)
    conv = RGATConv(3, 2, 2, attention_mechanism="within-relation", heads=2)
    edge_index = torch.tensor([[0, 1, 2, 3, 0], [1, 1, 1, 1, 2]])
    edge_type = torch.tensor([0, 0, 1, 1, 1])
    out, (ei, alpha) = conv(torch.randn(4, 3), edge_index, edge_type,
                            return_attention_weights=True)
    assert out.shape == (4, 4) and torch.equal(ei, edge_index) and alpha.shape == (5, 2)
    torch.testing.assert_close(alpha[0] + alpha[1], torch.ones(2))
    torch.testing.assert_close(alpha[2] + alpha[3], torch.ones(2))
    torch.testing.assert_close(alpha[4], torch.ones(2))
    assert not out[0].any() and not out[3].any()  # no incoming edges: bias only (zero)


def test_rgat_gradcheck():
    torch.manual_seed(0)
    conv = RGATConv(3, 2, 2, mod="scaled", heads=2, edge_dim=2).double()
    edge_index = torch.tensor([[0, 1, 2, 2, 1], [1, 2, 0, 1, 1]])
    edge_type = torch.tensor([0, 1, 1, 0, 0])
    x = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    ea = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: conv(a, edge_index, edge_type, b), (x, ea))


def test_rgat_layout_init_and_repr():
    conv = RGATConv(16, 8, 3, heads=2, edge_dim=3)
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "q": (16, 2), "k": (16, 2), "bias": (16,), "e": (16, 2), "weight": (3, 16, 16),
        "w": (8,), "l1": (1, 8), "b1": (1, 8), "l2": (8, 8), "b2": (1, 8),
        "lin_edge.weight": (16, 3)}
    assert str(conv) == "RGATConv(16, 8, heads=2)"
    assert conv.weight.abs().max() <= math.sqrt(6 / 32) and torch.isfinite(conv.l2).all()
    assert (conv.w == 1).all() and (conv.l1 == 1).all() and not conv.bias.any()
    bases = RGATConv(6, 4, 3, num_bases=2, num_blocks=None, concat=False, heads=2,
                     dim=3, attention_mode=MODES[1])
    assert tuple(bases.basis.shape) == (2, 6, 8) and tuple(bases.att.shape) == (3, 2)
    assert tuple(bases.bias.shape) == (12,) and bases.weight is None
    blocks = RGATConv(6, 4, 3, num_blocks=2)
    assert tuple(blocks.weight.shape) == (3, 2, 3, 2)


def test_rgat_errors():
    with pytest.raises(ValueError, match="num_bases"):
        RGATConv(4, 4, 2, num_bases=2, num_blocks=2)
    with pytest.raises(ValueError, match="attention_mechanism"):
        RGATConv(4, 4, 2, attention_mechanism="global")
    with pytest.raises(ValueError, match="attention_mode"):
        RGATConv(4, 4, 2, attention_mode="dot")
    with pytest.raises(ValueError, match="'dim'"):
        RGATConv(4, 4, 2, dim=2)
    with pytest.raises(ValueError, match="num_blocks"):
        RGATConv(4, 4, 2, num_blocks=3)
    conv = RGATConv(4, 2, 2)
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="edge_type"):
        conv(torch.randn(2, 4), ei)
    with pytest.raises(IndexError, match="edge_type"):
        conv(torch.randn(2, 4), ei, torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="edge_type"):
        conv(torch.randn(2, 4), ei, torch.tensor([0]))
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(2, 3), ei, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="edge_dim"):
        conv(torch.randn(2, 4), ei, torch.tensor([0, 1]), torch.randn(2, 3))
