"""dense_diff_pool, dense_mincut_pool and DMoNPooling against loops written from their
formulas; a DiffPool classifier trains on a synthetic dataset, eager and compiled."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import gfx
from gfx.data import DataLoader, SyntheticGraphDataset
from gfx.nn import (DenseGATConv, DenseGCNConv, DenseSAGEConv, DMoNPooling, dense_diff_pool,
                    dense_mincut_pool)
from gfx.utils import to_dense_adj, to_dense_batch

D = torch.float64


@st.composite
def pool_inputs(draw, clusters=(1, 3)):
    B, N = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    C = draw(st.integers(*clusters))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(B, N, 3, generator=g, dtype=D)
    adj = (torch.rand(B, N, N, generator=g) < 0.5).to(D)
    adj = adj + adj.transpose(1, 2) + torch.eye(N, dtype=D)
    s = torch.randn(B, N, C, generator=g, dtype=D)
    sizes = torch.tensor([N] + [draw(st.integers(1, N)) for _ in range(B - 1)])
    mask = torch.arange(N).view(1, N) < sizes.view(B, 1)
    return x, adj, s, mask


def masked_softmax(s, mask):
    return torch.softmax(s, -1) * mask.unsqueeze(-1).to(s.dtype)


@settings(max_examples=10, deadline=None)
@given(pool_inputs(), st.booleans())
def test_diff_pool_formula(inputs, normalize):
    x, adj, s, mask = inputs
    out, out_adj, link, ent = dense_diff_pool(x, adj, s, mask, normalize=normalize)
    B, N, C = s.shape
    p = masked_softmax(s, mask)
    sq, ent_sum = 0.0, 0.0
    for b in range(B):
        for c in range(C):
            for f in range(3):
                want = sum(float(p[b, n, c] * x[b, n, f]) for n in range(N) if mask[b, n])
                assert math.isclose(float(out[b, c, f]), want, abs_tol=1e-9)
            for d in range(C):
                want = sum(float(p[b, i, c] * adj[b, i, j] * p[b, j, d])
                           for i in range(N) for j in range(N))
                assert math.isclose(float(out_adj[b, c, d]), want, abs_tol=1e-9)
        for i in range(N):
            for j in range(N):
                sq += (float(adj[b, i, j]) - sum(float(p[b, i, c] * p[b, j, c])
                                                 for c in range(C))) ** 2
            ent_sum += -sum(float(p[b, i, c]) * math.log(float(p[b, i, c]) + 1e-15)
                            for c in range(C))
    want_link = math.sqrt(sq) / (adj.numel() if normalize else 1)
    assert math.isclose(float(link), want_link, rel_tol=1e-9)
    assert math.isclose(float(ent), ent_sum / (B * N), rel_tol=1e-9, abs_tol=1e-12)


def _ortho(p):
    ss = p.t() @ p
    C = ss.shape[0]
    return float((ss / ss.norm() - torch.eye(C, dtype=D) / math.sqrt(C)).norm())


def _normalised(a):
    a = a.clone()
    a.fill_diagonal_(0)
    d = a.sum(1).sqrt() + 1e-15
    return a / d.view(-1, 1) / d.view(1, -1)


@settings(max_examples=10, deadline=None)
@given(pool_inputs(clusters=(2, 3)), st.sampled_from([1.0, 0.5]))
def test_mincut_pool_formula(inputs, temp):
    x, adj, s, mask = inputs
    out, out_adj, cut, ortho = dense_mincut_pool(x, adj, s, mask, temp=temp)
    B = x.shape[0]
    cuts, orthos = [], []
    for b in range(B):
        p = torch.softmax(s[b] / temp, -1) * mask[b].view(-1, 1)
        torch.testing.assert_close(out[b], p.t() @ x[b] * 1.0)
        torch.testing.assert_close(out_adj[b], _normalised(p.t() @ adj[b] @ p))
        deg = torch.diag(adj[b].sum(1))
        cuts.append(-float(torch.trace(p.t() @ adj[b] @ p) / torch.trace(p.t() @ deg @ p)))
        orthos.append(_ortho(p))
    assert math.isclose(float(cut), sum(cuts) / B, rel_tol=1e-9)
    assert math.isclose(float(ortho), sum(orthos) / B, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=10, deadline=None)
@given(pool_inputs(clusters=(2, 3)), st.booleans())
def test_dmon_formula(inputs, use_mask):
    x, adj, _, mask = inputs
    if not use_mask:
        mask = torch.ones_like(mask)
    C = 3
    torch.manual_seed(0)
    pool = DMoNPooling(3, C).double()
    s, out, out_adj, spectral, ortho, cluster = pool(x, adj, mask if use_mask else None)
    B = x.shape[0]
    specs, orthos, clusters = [], [], []
    for b in range(B):
        p = torch.softmax(pool.mlp(x[b]), -1) * mask[b].view(-1, 1)
        torch.testing.assert_close(s[b], p)
        torch.testing.assert_close(out[b], F.selu(p.t() @ x[b]))
        torch.testing.assert_close(out_adj[b], _normalised(p.t() @ adj[b] @ p))
        d = adj[b].sum(1) * mask[b]
        two_m = d.sum()
        modularity = adj[b] - torch.outer(d, d) / two_m
        specs.append(-float(torch.trace(p.t() @ modularity @ p).detach()) / float(two_m))
        orthos.append(_ortho(p))
        n = float(mask[b].sum())
        clusters.append(math.sqrt(C) / n * float(p.sum(0).norm()) - 1)
    assert math.isclose(float(spectral), sum(specs) / B, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(float(ortho), sum(orthos) / B, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(float(cluster), sum(clusters) / B, rel_tol=1e-9, abs_tol=1e-12)


def test_gradcheck_pools():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3, dtype=D, requires_grad=True)
    s = torch.randn(2, 4, 2, dtype=D, requires_grad=True)
    adj = (torch.rand(2, 4, 4) < 0.5).to(D) + torch.eye(4, dtype=D)
    mask = torch.tensor([[True] * 4, [True, True, True, False]])
    assert torch.autograd.gradcheck(lambda a, b: dense_diff_pool(a, adj, b, mask), (x, s))
    assert torch.autograd.gradcheck(lambda a, b: dense_mincut_pool(a, adj, b, mask), (x, s))


def test_bad_inputs_name_the_argument():
    x, adj = torch.randn(2, 4, 3), torch.rand(2, 4, 4)
    with pytest.raises(ValueError, match="'s'"):
        dense_diff_pool(x, adj, torch.randn(2, 5, 2))
    with pytest.raises(ValueError, match="'adj'"):
        dense_mincut_pool(x, torch.rand(2, 4, 3), torch.randn(2, 4, 2))
    with pytest.raises(ValueError, match="'mask'"):
        dense_diff_pool(x, adj, torch.randn(2, 4, 2), torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="'temp'"):
        dense_mincut_pool(x, adj, torch.randn(2, 4, 2), temp=0.0)
    with pytest.raises(ValueError, match="'k'"):
        DMoNPooling(3, 0)
    assert str(DMoNPooling([3, 5], 4)) == "DMoNPooling(3, num_clusters=4)"


MAX_NODES = 16


def to_dense(x, edge_index, batch):
    """Padded features, mask and adjacency.  Wrapped for capture: gfx.utils'
    to_dense_batch reads the batch vector's values (graph sizes) in Python, which
    tracing cannot capture, so the compiled model calls it at run time."""
    x, mask = to_dense_batch(x, batch, max_num_nodes=MAX_NODES)
    return x, mask, to_dense_adj(edge_index, batch, max_num_nodes=MAX_NODES)


torch.fx.wrap("to_dense")


class DiffPoolNet(torch.nn.Module):
    """Sparse batch -> dense; SAGE embed + assign; diff-pool to 4 clusters; classify."""

    def __init__(self, in_channels, hidden, num_classes, clusters=4):
        super().__init__()
        self.embed = DenseSAGEConv(in_channels, hidden)
        self.assign = DenseSAGEConv(in_channels, clusters)
        self.conv2 = DenseSAGEConv(hidden, hidden)
        self.lin = torch.nn.Linear(hidden, num_classes)

    def forward(self, x, edge_index, batch):
        x, mask, adj = to_dense(x, edge_index, batch)
        h = self.embed(x, adj, mask).relu()
        s = self.assign(x, adj, mask)
        h, adj, link, ent = dense_diff_pool(h, adj, s, mask)
        h = self.conv2(h, adj).relu()
        return self.lin(h.mean(dim=1)), link + ent


def _data():
    graphs = list(SyntheticGraphDataset(num_graphs=120, num_classes=3, min_nodes=8,
                                        max_nodes=MAX_NODES, seed=0))
    return graphs[:80], graphs[80:]


def _accuracy(model, dataset):
    batch = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    with torch.no_grad():
        pred = model(batch.x, batch.edge_index, batch.batch)[0].argmax(-1)
    return float((pred == batch.y).float().mean())


@pytest.mark.slow
@pytest.mark.parametrize("compiled", [False, True])
def test_diff_pool_classifier_trains(compiled):
    train_set, test_set = _data()
    torch.manual_seed(0)
    model = DiffPoolNet(train_set[0].x.shape[1], 32, 3)
    runner = gfx.compile(model, backend="cpp") if compiled else model
    before = _accuracy(runner, test_set)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(15):
        total = 0.0
        for batch in DataLoader(train_set, batch_size=20, shuffle=True):
            opt.zero_grad()
            out, aux = runner(batch.x, batch.edge_index, batch.batch)
            loss = F.cross_entropy(out, batch.y) + aux
            loss.backward()
            opt.step()
            total += float(loss.detach())
        losses.append(total)
    after = _accuracy(runner, test_set)
    assert losses[-1] < 0.6 * losses[0]
    assert after >= 0.8 and after > before


class MinCutDMoNNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = DenseGCNConv(3, 8)
        self.assign = torch.nn.Linear(8, 3)
        self.dmon = DMoNPooling(8, 2)
        self.gat = DenseGATConv(8, 4, heads=2)

    def forward(self, x, adj, mask):
        h = self.conv(x, adj, mask).relu()
        h, adj, cut, ortho = dense_mincut_pool(h, adj, self.assign(h), mask)
        _, h, adj, spectral, ortho2, cluster = self.dmon(h, adj)
        return self.gat(h, adj).sum() + cut + ortho + spectral + ortho2 + cluster


def test_mincut_and_dmon_compiled_equal_eager():
    torch.manual_seed(0)
    model = MinCutDMoNNet().double()
    compiled = gfx.compile(model, backend="cpp")
    for B, N in ((2, 5), (3, 4)):
        x = torch.randn(B, N, 3, dtype=D)
        adj = (torch.rand(B, N, N) < 0.5).to(D)
        adj = adj + adj.transpose(1, 2)
        mask = torch.ones(B, N, dtype=torch.bool)
        mask[-1, N - 2:] = False
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        want, got = model(xa, adj, mask), compiled(xb, adj, mask)
        torch.testing.assert_close(got, want)
        want.backward()
        got.backward()
        torch.testing.assert_close(xb.grad, xa.grad)
