"""Graph auto-encoders: decoder and losses against their formulas, AUC / AP against
brute-force definitions, VGAE's KL against torch.distributions, and GAE link prediction
on Cora."""
import itertools
import os

import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.nn import ARGA, ARGVA, GAE, VGAE, GCNConv, InnerProductDecoder
from gfx.nn.models.autoencoder import average_precision_score, roc_auc_score
from tests.graphs import edge_lists

EPS = 1e-15


class MuLogstd(torch.nn.Module):
    def __init__(self, cin=4, cout=3):
        super().__init__()
        self.mu, self.logstd = torch.nn.Linear(cin, cout), torch.nn.Linear(cin, cout)

    def forward(self, x):
        return self.mu(x), self.logstd(x)


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=7, max_edges=15), seed=st.integers(0, 2**16))
def test_inner_product_decoder(graph, seed):
    edge_index, n, _ = graph
    z = torch.randn(n, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    dec = InnerProductDecoder()
    raw = dec(z, edge_index, sigmoid=False)
    want = torch.tensor([sum(float(z[i, k] * z[j, k]) for k in range(3))
                         for i, j in edge_index.t().tolist()], dtype=torch.float64)
    torch.testing.assert_close(raw, want)
    torch.testing.assert_close(dec(z, edge_index), 1 / (1 + torch.exp(-want)))
    dense = dec.forward_all(z, sigmoid=False)
    for i, j in itertools.product(range(n), repeat=2):
        assert float(dense[i, j]) == pytest.approx(float(z[i] @ z[j]))
    torch.testing.assert_close(dec.forward_all(z), torch.sigmoid(dense))
    with pytest.raises(ValueError, match="edge_index"):
        dec(z, edge_index.view(-1))


def test_recon_loss_formula_and_sampling():
    torch.manual_seed(0)
    model = GAE(torch.nn.Linear(4, 3))
    z = torch.randn(6, 3)
    pos = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    neg = torch.tensor([[0, 5], [5, 2]])
    sig = lambda i, j: 1 / (1 + torch.exp(-(z[i] * z[j]).sum()))  # noqa: E731
    want = -sum(torch.log(sig(i, j) + EPS) for i, j in pos.t().tolist()) / 4 \
        - sum(torch.log(1 - sig(i, j) + EPS) for i, j in neg.t().tolist()) / 2
    torch.testing.assert_close(model.recon_loss(z, pos, neg), want)
    # Sampled negatives: the loss is the positive part plus a non-negative term.
    pos_part = -sum(torch.log(sig(i, j) + EPS) for i, j in pos.t().tolist()) / 4
    assert float(model.recon_loss(z, pos)) > float(pos_part)


def test_forward_encode_decode_reset():
    enc = torch.nn.Linear(4, 3)
    model = GAE(enc)
    x = torch.randn(5, 4)
    torch.testing.assert_close(model(x), enc(x))
    torch.testing.assert_close(model.encode(x), enc(x))
    ei = torch.tensor([[0, 1], [2, 3]])
    torch.testing.assert_close(model.decode(enc(x), ei), InnerProductDecoder()(enc(x), ei))
    before = enc.weight.detach().clone()
    model.reset_parameters()
    assert not torch.equal(before, enc.weight)
    with pytest.raises(ValueError, match="encoder"):
        GAE(3)


def brute_auc(label, score):
    pos = [s for s, y in zip(score, label) if y]
    neg = [s for s, y in zip(score, label) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def brute_ap(label, score):
    total, out, prev_recall = sum(label), 0.0, 0.0
    for thresh in sorted(set(score), reverse=True):
        chosen = [y for s, y in zip(score, label) if s >= thresh]
        precision, recall = sum(chosen) / len(chosen), sum(chosen) / total
        out += (recall - prev_recall) * precision
        prev_recall = recall
    return out


@settings(max_examples=10, deadline=None)
@given(data=st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=20))
def test_auc_and_ap_definitions(data):
    label = [y for y, _ in data]
    score = [s / 5 for _, s in data]
    if all(label) or not any(label):
        with pytest.raises(ValueError):
            roc_auc_score(torch.tensor(label), torch.tensor(score))
        return
    lt, st_ = torch.tensor(label), torch.tensor(score)
    assert roc_auc_score(lt, st_) == pytest.approx(brute_auc(label, score))
    assert average_precision_score(lt, st_) == pytest.approx(brute_ap(label, score))


def test_gae_test_returns_auc_ap():
    model = GAE(torch.nn.Identity())
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    pos = torch.tensor([[0, 2], [1, 3]])       # aligned pairs: score sigmoid(1)
    neg = torch.tensor([[0, 1], [2, 3]])       # orthogonal pairs: sigmoid(0)
    assert model.test(z, pos, neg) == (1.0, 1.0)
    auc, ap = model.test(z, neg, pos)
    assert auc == 0.0 and ap == pytest.approx(0.5)


def test_vgae_encode_and_kl():
    torch.manual_seed(0)
    enc = MuLogstd()
    model = VGAE(enc)
    x = torch.randn(5, 4)
    mu, logstd = enc(x)
    model.eval()
    torch.testing.assert_close(model.encode(x), mu)
    model.train()
    torch.manual_seed(3)
    z = model.encode(x)
    torch.manual_seed(3)
    eps = torch.randn_like(mu)
    torch.testing.assert_close(z, mu + eps * logstd.exp())
    normal = torch.distributions.Normal
    want = torch.distributions.kl_divergence(normal(mu, logstd.exp()), normal(0.0, 1.0))
    torch.testing.assert_close(model.kl_loss(), want.sum(1).mean())
    torch.testing.assert_close(model.kl_loss(mu, logstd), want.sum(1).mean())
    big = torch.full((2, 3), 50.0)  # logstd clamped at 10
    clamped = model.kl_loss(torch.zeros(2, 3), big)
    assert clamped == model.kl_loss(torch.zeros(2, 3), torch.full((2, 3), 10.0))
    with pytest.raises(ValueError, match="mu"):
        VGAE(enc).kl_loss()
    with pytest.raises(ValueError, match="encoder"):
        VGAE(torch.nn.Linear(4, 3)).encode(x)


def test_arga_losses():
    torch.manual_seed(0)
    disc = torch.nn.Linear(3, 1)
    model = ARGA(torch.nn.Linear(4, 3), disc)
    z = torch.randn(6, 3, requires_grad=True)
    torch.testing.assert_close(model.reg_loss(z),
                               -torch.log(torch.sigmoid(disc(z)) + EPS).mean())
    torch.manual_seed(5)
    got = model.discriminator_loss(z)
    torch.manual_seed(5)
    prior = torch.randn_like(z)
    want = -torch.log(torch.sigmoid(disc(prior)) + EPS).mean() \
        - torch.log(1 - torch.sigmoid(disc(z)) + EPS).mean()
    torch.testing.assert_close(got, want)
    got.backward()
    assert z.grad is None  # the discriminator loss does not reach the encoder


def test_argva_delegates_to_vgae():
    torch.manual_seed(0)
    model = ARGVA(MuLogstd(), torch.nn.Linear(3, 1)).eval()
    x = torch.randn(5, 4)
    mu, logstd = model.encoder(x)
    torch.testing.assert_close(model.encode(x), mu)
    torch.testing.assert_close(model.__mu__, mu)
    torch.testing.assert_close(model.__logstd__, logstd)
    torch.testing.assert_close(model.kl_loss(), VGAE(model.encoder).kl_loss(mu, logstd))
    assert model.VGAE.encoder is model.encoder


class Encoder(torch.nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1, self.conv2 = GCNConv(cin, 2 * cout), GCNConv(2 * cout, cout)

    def forward(self, x, edge_index):
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)


@pytest.mark.slow
def test_gae_cora_link_prediction():
    root = "/work/shared/data/planetoid"
    if not os.path.exists(os.path.join(root, "ind.cora.x")):
        pytest.skip("Cora files are not in /work/shared/data/planetoid")
    from gfx.data import Planetoid
    from gfx.utils import negative_sampling
    data = Planetoid(root, "Cora")[0]
    torch.manual_seed(0)
    src, dst = data.edge_index
    und = data.edge_index[:, src < dst]                   # each undirected edge once
    perm = und[:, torch.randperm(und.shape[1])]
    num_test = und.shape[1] // 10
    test_pos, train_pos = perm[:, :num_test], perm[:, num_test:]
    train_ei = torch.cat([train_pos, train_pos.flip(0)], dim=1)
    test_neg = negative_sampling(data.edge_index, data.num_nodes, num_test)
    model = GAE(Encoder(data.x.shape[1], 16))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(100):
        model.train()
        opt.zero_grad()
        z = model.encode(data.x, train_ei)
        model.recon_loss(z, train_pos).backward()
        opt.step()
    model.eval()
    auc, ap = model.test(model.encode(data.x, train_ei), test_pos, test_neg)
    assert auc > 0.85 and ap > 0.8
