"""LPFormer: the forward pass written out with Python loops over each link's context
(common neighbours, one-hop nodes, the rest, PPR thresholds, symmetric encodings,
attention), compiled == eager (values and gradients), a short training run, bad input."""

import math

import pytest
import torch
from hypothesis import given, settings

import gfx
from gfx.nn.models import LPFormer
from tests.graphs import edge_lists

D = torch.float64


def _ppr(edge_index, n, alpha=0.15):
    """Exact PPR; duplicate edges count as multi-edges."""
    adj = torch.zeros(n, n, dtype=D)
    adj.index_put_((edge_index[0], edge_index[1]), torch.ones(edge_index.size(1), dtype=D),
                   accumulate=True)
    walk = adj / adj.sum(1, keepdim=True).clamp_min(1.0)
    return alpha * torch.linalg.inv(torch.eye(n, dtype=D) - (1 - alpha) * walk)


def _layer_norm(ln, v):
    mu, var = v.mean(), ((v - v.mean()) ** 2).mean()
    return (v - mu) / torch.sqrt(var + ln.eps) * ln.weight + ln.bias


def _mlp(mlp, v):
    lin0, lin1 = mlp.linears
    v = lin0.weight @ v + lin0.bias
    if mlp.norm is not None:
        v = _layer_norm(mlp.norm, v)
    return lin1.weight @ torch.relu(v) + lin1.bias


def _score(model, links, x, edge_index, ppr, thresholds, hide_targets=False):
    """One link at a time, from the paper's description; ``hide_targets``: the target
    pairs' own PPR scores count as zero for the "other" class (training mode)."""
    h = model.gnn_norm(model.gnn(x, edge_index))
    hidden = set()
    if hide_targets:
        for a, b in links.t().tolist():
            hidden |= {(a, b), (b, a)}
    n = x.size(0)
    nbrs = [set() for _ in range(n)]
    for i, j in edge_index.t().tolist():
        nbrs[i].add(j)
    att = model.att_layers[0]
    scores = []
    for a, b in links.t().tolist():
        context = []                      # (node, class) pairs
        for u in range(n):
            in_a, in_b = u in nbrs[a], u in nbrs[b]
            cls = 0 if in_a and in_b else 1 if in_a != in_b else 2
            pa, pb = ppr[a, u], ppr[b, u]
            if cls == 2:
                pa = pa * 0 if (a, u) in hidden else pa
                pb = pb * 0 if (b, u) in hidden else pb
            if min(pa.item(), pb.item()) >= thresholds[cls]:
                context.append((u, cls, pa, pb))
        counts = [sum(1 for _, c, _, _ in context if c == k) for k in range(3)]
        counts.append(counts[0] + counts[1])
        encoders = [model.ppr_encoder_cn, model.ppr_encoder_onehop,
                    model.ppr_encoder_non1hop]
        query = att.lin_l.weight @ h[a] + att.lin_l.weight @ h[b] + 2 * att.lin_l.bias
        values, logits = [], []
        for u, cls, pa, pb in context:
            rpe = _mlp(encoders[cls], torch.stack([pa, pb])) + \
                _mlp(encoders[cls], torch.stack([pb, pa]))
            v = att.lin_r.weight @ torch.cat([h[u], rpe]) + att.lin_r.bias
            z = query * v
            logits.append((torch.where(z > 0, z, 0.2 * z) * att.att.view(-1)).sum())
            values.append(v)
        s = torch.zeros(h.size(1), dtype=D)
        if context:
            w = torch.softmax(torch.stack(logits), dim=0)
            s = sum(wk * vk for wk, vk in zip(w, values))
        s = _layer_norm(att.post_att_norm, s + att.bias)
        pair = _mlp(model.pairwise_lin, torch.cat([s, torch.tensor(counts, dtype=D)]))
        elem = _mlp(model.elementwise_lin, h[a] * h[b])
        scores.append(_mlp(model.score_func, torch.cat([elem, pair]))[0])
    return torch.stack(scores)


@pytest.mark.parametrize("thresholds", [None, [0.0, 0.02, 0.05]])
@settings(max_examples=8, deadline=None)
@given(graph=edge_lists(max_nodes=7, max_edges=10))
def test_matches_loop_computation(thresholds, graph):
    edge_index, n, _ = graph
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    torch.manual_seed(0)
    model = LPFormer(3, 6, ppr_thresholds=thresholds).double().eval()
    x = torch.randn(n, 3, dtype=D)
    ppr = _ppr(edge_index, n)
    links = torch.stack([torch.arange(n), torch.arange(n).flip(0)])
    expected = _score(model, links, x, edge_index, ppr,
                      thresholds or [0.0, 1e-4, 1e-2])
    torch.testing.assert_close(model(links, x, edge_index, ppr), expected)
    torch.testing.assert_close(model(links, x, edge_index, ppr.to_sparse()), expected)


@settings(max_examples=8, deadline=None)
@given(graph=edge_lists(max_nodes=7, max_edges=10))
def test_training_hides_target_pairs(graph):
    edge_index, n, _ = graph
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    torch.manual_seed(0)
    model = LPFormer(3, 6, gnn_dropout=0.0, transformer_dropout=0.0).double().train()
    x = torch.randn(n, 3, dtype=D)
    ppr = _ppr(edge_index, n)
    links = torch.stack([torch.arange(n), torch.arange(n).flip(0)])
    expected = _score(model, links, x, edge_index, ppr, [0.0, 1e-4, 1e-2],
                      hide_targets=True)
    torch.testing.assert_close(model(links, x, edge_index, ppr), expected)


def test_training_drops_context_pairs():
    """With transformer_dropout q, each class keeps ceil((1 - q) K) of its K pairs, and
    the counts fed to the pairwise MLP are taken after the drop."""
    torch.manual_seed(0)
    n = 12
    edge_index = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    x, ppr = torch.randn(n, 3, dtype=D), _ppr(edge_index, n)
    links = torch.tensor([[0, 3, 5], [6, 4, 9]])
    model = LPFormer(3, 6, gnn_dropout=0.0, transformer_dropout=0.5).double()
    seen = []
    model.pairwise_lin.register_forward_hook(
        lambda module, args, out: seen.append(args[0][:, 6:9].sum(0)))
    model.train()(links, x, edge_index, ppr)
    model.eval()(links, x, edge_index, ppr)
    trained, full = seen
    # eval counts with the training-mode "other" class (target pairs hidden) ...
    model.train()
    model.trans_drop = 0.0
    model(links, x, edge_index, ppr)
    hidden = seen[2]
    assert full.sum() > 0
    for k in range(3):
        assert trained[k].item() == math.ceil(0.5 * hidden[k].item())


def test_compiled_equals_eager():
    torch.manual_seed(0)
    model = LPFormer(3, 6).double().eval()
    compiled = gfx.compile(model, backend="cpp")
    for n, e in ((8, 12), (5, 0)):
        edge_index = torch.randint(0, n, (2, e))
        edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
        x = torch.randn(n, 3, dtype=D, requires_grad=True)
        links = torch.randint(0, n, (2, 4))
        ppr = _ppr(edge_index, n)
        out_c = compiled(links, x, edge_index, ppr)
        out_e = model(links, x, edge_index, ppr)
        torch.testing.assert_close(out_c, out_e)
        params = [x] + list(model.parameters())
        grad_c = torch.autograd.grad(out_c.sum(), params, allow_unused=True)
        grad_e = torch.autograd.grad(out_e.sum(), params, allow_unused=True)
        for a, b in zip(grad_c, grad_e):
            if a is None or b is None:
                assert a is None and b is None
            else:
                torch.testing.assert_close(a, b)


def test_trains_on_two_communities():
    """Documented quality: two 8-node communities (edges inside only).  After 60 Adam
    steps on the training edges against cross-community negatives, held-out
    within-community pairs score above cross-community pairs with AUC > 0.9."""
    torch.manual_seed(0)
    n = 16
    comm = torch.arange(n) // 8
    inside = [(i, j) for i in range(n) for j in range(i + 1, n) if comm[i] == comm[j]]
    perm = torch.randperm(len(inside)).tolist()
    train = [inside[k] for k in perm[:36]]
    held = [inside[k] for k in perm[36:]]
    edge_index = torch.tensor(train).t()
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    cross = torch.tensor([(i, j) for i in range(8) for j in range(8, n)]).t()
    x = torch.randn(n, 4)
    ppr = _ppr(edge_index, n).float()
    model = LPFormer(4, 16, gnn_dropout=0.0, transformer_dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    pos = torch.tensor(train).t()
    for _ in range(60):
        neg = cross[:, torch.randint(0, cross.size(1), (pos.size(1),))]
        opt.zero_grad()
        logits = model(torch.cat([pos, neg], dim=1), x, edge_index, ppr)
        label = torch.cat([torch.ones(pos.size(1)), torch.zeros(neg.size(1))])
        torch.nn.functional.binary_cross_entropy_with_logits(logits, label).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        p = model(torch.tensor(held).t(), x, edge_index, ppr)
        q = model(cross, x, edge_index, ppr)
    auc = (p.view(-1, 1) > q.view(1, -1)).float().mean().item()
    assert auc > 0.9


def test_str_and_bad_input():
    assert str(LPFormer(4, 8)) == "LPFormer(4, 8, num_gnn_layers=2, num_transformer_layers=1)"
    with pytest.raises(ValueError, match="ppr_thresholds"):
        LPFormer(4, 8, ppr_thresholds=[0.0, 0.1])
    with pytest.raises(ValueError, match="num_heads"):
        LPFormer(4, 8, num_heads=2)
    with pytest.raises(ValueError, match="num_transformer_layers"):
        LPFormer(4, 8, num_transformer_layers=2)
    model = LPFormer(4, 8)
    x, ei = torch.randn(3, 4), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="'batch'"):
        model(torch.tensor([0, 1]), x, ei, torch.rand(3, 3))
    with pytest.raises(ValueError, match="ppr_matrix"):
        model(torch.tensor([[0], [1]]), x, ei, torch.rand(4, 4))


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=8, max_edges=12))
def test_calc_sparse_ppr_approximates_exact_ppr(graph):
    """Push under-estimates the exact PPR alpha (I - (1 - alpha) D^-1 A)^-1, by at most
    eps * sum of degrees per row."""
    edge_index, n, _ = graph
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    model = LPFormer(3, 4)
    alpha, eps = 0.15, 1e-4
    approx = model.calc_sparse_ppr(edge_index, n, alpha=alpha, eps=eps)
    assert approx.is_sparse and approx.shape == (n, n)
    approx = approx.to_dense().double()
    exact = _ppr(edge_index, n, alpha)
    assert (approx <= exact + 1e-6).all()
    bound = eps * max(edge_index.size(1), 1) + 1e-6
    assert ((exact - approx).sum(dim=1) <= bound).all()


def test_calc_sparse_ppr_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        LPFormer(3, 4).calc_sparse_ppr(torch.tensor([[0], [1]]), 2, alpha=0.0)
    with pytest.raises(ValueError, match="eps"):
        LPFormer(3, 4).calc_sparse_ppr(torch.tensor([[0], [1]]), 2, eps=0.0)
