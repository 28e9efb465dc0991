import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import SuperGATConv
from tests.graphs import edge_lists


def loop_supergat(conv, x, edge_index):
    """Scores, softmax per target over N(i) + one loop, weighted sum, heads, bias."""
    n, heads, c = x.shape[0], conv.heads, conv.out_channels
    h = (x @ conv.lin.weight.t()).view(n, heads, c)
    edges = [(j, i) for j, i in edge_index.t().tolist() if i != j] + [(i, i) for i in range(n)]
    score = []
    for j, i in edges:
        dot = (h[i] * h[j]).sum(-1)
        if conv.attention_type == "MX":
            e = ((h[j] * conv.att_l[0]).sum(-1) + (h[i] * conv.att_r[0]).sum(-1)) * dot.sigmoid()
        else:
            e = dot / math.sqrt(c)
        score.append(F.leaky_relu(e, conv.negative_slope))
    out = torch.zeros(n, heads, c, dtype=x.dtype)
    for i in range(n):
        ids = [k for k, (_, t) in enumerate(edges) if t == i]
        alpha = torch.softmax(torch.stack([score[k] for k in ids]), dim=0)
        for a, k in zip(alpha, ids):
            out[i] += a[:, None] * h[edges[k][0]]
    out = out.reshape(n, -1) if conv.concat else out.mean(1)
    return out + conv.bias


@settings(max_examples=10, deadline=None)
@given(edge_lists(6, 14), st.sampled_from(["MX", "SD"]), st.booleans(), st.integers(0, 2**16))
def test_matches_loop_formula(graph, attention_type, concat, seed):
    edge_index, n, _ = graph
    torch.manual_seed(seed)
    conv = SuperGATConv(3, 2, heads=2, concat=concat, attention_type=attention_type).double()
    torch.nn.init.normal_(conv.bias)
    conv.eval()
    x = torch.randn(n, 3, dtype=torch.float64)
    torch.testing.assert_close(conv(x, edge_index), loop_supergat(conv, x, edge_index))


@pytest.mark.parametrize("attention_type", ["MX", "SD"])
def test_attention_loss_with_given_negatives(attention_type):
    torch.manual_seed(0)
    conv = SuperGATConv(3, 4, heads=2, attention_type=attention_type).double().train()
    x = torch.randn(4, 3, dtype=torch.float64)
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    neg = torch.tensor([[3, 0], [0, 2]])
    conv(x, ei, neg)
    h = (x @ conv.lin.weight.t()).view(4, 2, 4)
    pos = [(0, 1), (1, 2), (2, 3)] + [(i, i) for i in range(4)]
    scale = 1.0 if attention_type == "MX" else math.sqrt(4)
    logit = lambda j, i: ((h[i] * h[j]).sum(-1) / scale).mean()  # noqa: E731
    logits = torch.stack([logit(j, i) for j, i in pos] + [logit(3, 0), logit(0, 2)])
    labels = torch.tensor([1.0] * 7 + [0.0] * 2, dtype=torch.float64)
    expected = -(labels * F.logsigmoid(logits) + (1 - labels) * F.logsigmoid(-logits)).mean()
    torch.testing.assert_close(conv.get_attention_loss(), expected)
    conv.eval()
    assert conv.get_attention_loss().tolist() == [0]


def test_sampled_negatives_avoid_edges_and_have_the_ratio():
    torch.manual_seed(0)
    conv = SuperGATConv(3, 2, neg_sample_ratio=0.5, edge_sample_ratio=1.0).train()
    ei = torch.tensor([[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]])
    neg = conv.negative_sampling(ei, 8)
    assert neg.shape == (2, 3)
    undirected = {tuple(e) for e in torch.cat([ei, ei.flip(0)], 1).t().tolist()}
    assert not {tuple(e) for e in neg.t().tolist()} & undirected
    conv(torch.randn(8, 3), ei)  # 6 edges + 8 loops = 14 positives, int(0.5 * 14) negatives
    assert conv.att_y.tolist() == [1.0] * 14 + [0.0] * 7
    batched = conv.negative_sampling(ei, 8, batch=torch.tensor([0] * 6 + [1] * 2))
    assert batched.numel() > 0 and not {tuple(e) for e in batched.t().tolist()} & undirected
    half = SuperGATConv(3, 2, edge_sample_ratio=0.5).train()
    assert half.positive_sampling(torch.randint(0, 5, (2, 400))).shape[1] < 300


def test_layout_repr_and_gradcheck():
    conv = SuperGATConv(4, 3, heads=2)
    assert str(conv) == "SuperGATConv(4, 3, heads=2, type=MX)"
    assert set(conv.state_dict()) == {"lin.weight", "att_l", "att_r", "bias"}
    assert set(SuperGATConv(4, 3, attention_type="SD").state_dict()) == {"lin.weight", "bias"}
    conv = conv.double().eval()
    ei = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: conv(a, ei), (x,))


def test_supergat_errors():
    with pytest.raises(ValueError, match="attention_type"):
        SuperGATConv(2, 2, attention_type="GO")
    with pytest.raises(ValueError, match="edge_sample_ratio"):
        SuperGATConv(2, 2, edge_sample_ratio=0.0)
    with pytest.raises(RuntimeError, match="training mode"):
        SuperGATConv(2, 2).train().get_attention_loss()
    with pytest.raises(ValueError, match="neg_edge_index"):
        SuperGATConv(2, 2).train()(torch.randn(3, 2), torch.tensor([[0], [1]]), torch.zeros(3))
