"""SignedGCN: layer plumbing, the link classifier and the three losses against their
formulas (negatives fixed by monkeypatching the samplers), spectral features as
eigenvectors of the signed adjacency, and the test metrics."""
import pytest
import torch
import torch.nn.functional as F

import gfx.nn.models.signed_gcn as signed_gcn_module
from gfx.nn import SignedGCN


def graph():
    g = torch.Generator().manual_seed(0)
    return (torch.randn(10, 4, generator=g), torch.randint(0, 10, (2, 15), generator=g),
            torch.randint(0, 10, (2, 8), generator=g))


def test_forward_and_discriminate():
    torch.manual_seed(0)
    x, pos, neg = graph()
    model = SignedGCN(4, 8, 3)
    assert len(model.convs) == 2 and model.conv1.out_channels == 4
    z = model(x, pos, neg)
    want = F.relu(model.conv1(x, pos, neg))
    for conv in model.convs:
        want = F.relu(conv(want, pos, neg))
    torch.testing.assert_close(z, want)
    assert z.shape == (10, 8)
    pairs = torch.tensor([[0, 3], [5, 1]])
    logits = torch.stack([model.lin(torch.cat([z[i], z[j]])) for i, j in pairs.t().tolist()])
    torch.testing.assert_close(model.discriminate(z, pairs), logits.log_softmax(dim=1))
    assert str(model) == "SignedGCN(4, 8, num_layers=3)"


def test_losses(monkeypatch):
    torch.manual_seed(0)
    x, pos, neg = graph()
    model = SignedGCN(4, 8, 2, lamb=3.0)
    z = model(x, pos, neg)
    none = torch.tensor([[0, 1], [2, 3]])
    k_pos, k_neg = torch.randint(0, 10, (15,)), torch.randint(0, 10, (8,))
    monkeypatch.setattr(signed_gcn_module, "negative_sampling", lambda ei, n: none)
    monkeypatch.setattr(signed_gcn_module, "structured_negative_sampling",
                        lambda ei, n: (ei[0], ei[1], k_pos if ei.size(1) == 15 else k_neg))
    logp = lambda ei: model.discriminate(z, ei)  # noqa: E731
    nll = (-logp(pos)[:, 0].mean() - logp(neg)[:, 1].mean() - logp(none)[:, 2].mean()) / 3
    torch.testing.assert_close(model.nll_loss(z, pos, neg), nll)
    d = lambda a, b: (z[a] - z[b]).pow(2).sum(dim=1)  # noqa: E731
    l_pos = (d(pos[0], pos[1]) - d(pos[0], k_pos)).clamp(min=0).mean()
    l_neg = (d(neg[0], k_neg) - d(neg[0], neg[1])).clamp(min=0).mean()
    torch.testing.assert_close(model.pos_embedding_loss(z, pos), l_pos)
    torch.testing.assert_close(model.neg_embedding_loss(z, neg), l_neg)
    torch.testing.assert_close(model.loss(z, pos, neg), nll + 3.0 * (l_pos + l_neg))


def test_spectral_features_are_leading_eigenvectors():
    _, pos, neg = graph()
    model = SignedGCN(3, 8, 1)
    feats = model.create_spectral_features(pos, neg, num_nodes=12).double()
    assert feats.shape == (12, 3)
    adj = torch.zeros(12, 12, dtype=torch.float64)
    for sign, ei in ((1.0, pos), (-1.0, neg)):
        for i, j in ei.t().tolist():
            adj[i, j] += sign
            adj[j, i] += sign
    torch.testing.assert_close(feats.t() @ feats, torch.eye(3, dtype=torch.float64),
                               atol=1e-5, rtol=0)
    top = torch.linalg.eigvalsh(adj).abs().sort(descending=True).values[:3]
    av = adj @ feats
    torch.testing.assert_close(av.norm(dim=0), top, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close((av * feats).sum(0).abs(), top, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="in_channels"):
        SignedGCN(20, 8, 1).create_spectral_features(pos, neg, num_nodes=12)


def test_split_edges():
    torch.manual_seed(0)
    ei = torch.randint(0, 50, (2, 40))
    train, test = SignedGCN(4, 8, 1).split_edges(ei, test_ratio=0.25)
    assert train.shape == (2, 30) and test.shape == (2, 10)
    together = sorted(map(tuple, torch.cat([train, test], 1).t().tolist()))
    assert together == sorted(map(tuple, ei.t().tolist()))
    with pytest.raises(ValueError, match="test_ratio"):
        SignedGCN(4, 8, 1).split_edges(ei, test_ratio=2.0)


def test_metrics(monkeypatch):
    model = SignedGCN(4, 8, 1)
    pos, neg = torch.zeros(2, 4, dtype=torch.long), torch.ones(2, 3, dtype=torch.long)
    # pos links predicted [+, +, -, +], neg links predicted [-, +, -]
    answers = {4: torch.tensor([[0.0, -1, -9], [0, -1, -9], [-1, 0, -9], [0, -1, -9]]),
               3: torch.tensor([[-1.0, 0, -9], [0, -1, -9], [-1, 0, -9]])}
    monkeypatch.setattr(model, "discriminate", lambda z, ei: answers[ei.size(1)])
    auc, f1 = model.test(torch.zeros(1, 8), pos, neg)
    # predictions 1,1,0,1 | 0,1,0: TP 3, FP 1, FN 1 -> F1 = 6 / 8
    assert f1 == pytest.approx(0.75)
    wins = sum((p > n) + 0.5 * (p == n) for p in [1, 1, 0, 1] for n in [0, 1, 0])
    assert auc == pytest.approx(wins / 12)
    with pytest.raises(ValueError, match="num_layers"):
        SignedGCN(4, 8, 0)
