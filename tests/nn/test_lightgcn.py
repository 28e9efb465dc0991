"""LightGCN against a dense computation of its layer-weighted propagation, and its
prediction heads and losses against their formulas."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from gfx.nn import LightGCN
from gfx.nn.models.lightgcn import BPRLoss
from tests.graphs import dense_adjacency, edge_lists


def dense_embedding(model, edge_index, n):
    a = dense_adjacency(edge_index, n, n)
    deg = a.sum(dim=1)
    inv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
    s = inv.view(-1, 1) * a * inv.view(1, -1)
    x = model.embedding.weight.detach().double()
    out = model.alpha[0].item() * x
    for layer in range(model.num_layers):
        x = s @ x
        out = out + model.alpha[layer + 1].item() * x
    return out


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=8, max_edges=20), layers=st.integers(0, 3),
       seed=st.integers(0, 2**16))
def test_embedding_and_rankings(graph, layers, seed):
    edge_index, n, _ = graph
    torch.manual_seed(seed)
    alpha = torch.rand(layers + 1) if seed % 2 else None
    model = LightGCN(n, 4, layers, alpha=alpha)
    if alpha is None:
        torch.testing.assert_close(model.alpha, torch.full((layers + 1,), 1 / (layers + 1)))
    want = dense_embedding(model, edge_index, n)
    torch.testing.assert_close(model.get_embedding(edge_index).double(), want,
                               atol=1e-5, rtol=1e-4)
    pairs = torch.randint(0, n, (2, 5))
    rank = (want[pairs[0]] * want[pairs[1]]).sum(-1)
    torch.testing.assert_close(model(edge_index, pairs).double(), rank, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(model.predict_link(edge_index, pairs, prob=True).double(),
                               torch.sigmoid(rank), atol=1e-5, rtol=1e-4)
    if edge_index.numel():
        assert model(edge_index).shape == (edge_index.shape[1],)


def test_recommend():
    torch.manual_seed(0)
    model = LightGCN(6, 3, 1)
    edge_index = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    emb = dense_embedding(model, edge_index, 6)
    scores = emb @ emb.t()
    top = model.recommend(edge_index, k=2)
    assert torch.equal(top, scores.topk(2, dim=-1).indices)
    src, dst = torch.tensor([0, 4]), torch.tensor([5, 1, 3])
    top = model.recommend(edge_index, src_index=src, dst_index=dst, k=2)
    want = dst[scores[src][:, dst].topk(2, dim=-1).indices]
    assert torch.equal(top, want)
    with pytest.raises(ValueError, match="'k'"):
        model.recommend(edge_index, dst_index=dst, k=4)


def test_losses():
    torch.manual_seed(0)
    model = LightGCN(5, 3, 1)
    pos, neg = torch.randn(4), torch.randn(4)
    label = torch.tensor([1, 0, 1, 1])
    want = -(label * F.logsigmoid(pos) + (1 - label) * F.logsigmoid(-pos)).mean()
    torch.testing.assert_close(model.link_pred_loss(pos, label), want)
    emb = model.embedding.weight
    bpr = -F.logsigmoid(pos - neg).mean() + 1e-4 * emb.pow(2).sum() / 4
    torch.testing.assert_close(model.recommendation_loss(pos, neg), bpr)
    ids = torch.tensor([0, 2])
    bpr = -F.logsigmoid(pos - neg).mean() + 0.5 * emb[ids].pow(2).sum() / 4
    torch.testing.assert_close(model.recommendation_loss(pos, neg, ids, lambda_reg=0.5), bpr)
    torch.testing.assert_close(BPRLoss()(pos, neg), -F.logsigmoid(pos - neg).mean())


def test_repr_state_and_errors():
    model = LightGCN(10, 4, 2)
    assert str(model) == "LightGCN(10, 4, num_layers=2)"
    assert sorted(model.state_dict()) == ["alpha", "embedding.weight"]
    with pytest.raises(ValueError, match="alpha"):
        LightGCN(10, 4, 2, alpha=torch.ones(2))
    with pytest.raises(ValueError, match="num_nodes"):
        LightGCN(0, 4, 2)
    with pytest.raises(ValueError, match="positives"):
        BPRLoss()(torch.ones(2), torch.ones(3))
