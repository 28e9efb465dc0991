"""KGE models: scores against their defining formulas (written here with complex numbers
and explicit loops), the ranking metrics against a brute-force count, the loader, the
corruption, bad input, and TransE learning a planted relation."""
import math

import pytest
import torch
from hypothesis import assume, given, settings, strategies as st

from gfx.nn.kge import ComplEx, DistMult, KGEModel, RotatE, TransE

MODELS = [TransE, DistMult, ComplEx, RotatE]


def triples(num_nodes, num_relations, count, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(num_nodes, (count,), generator=g),
            torch.randint(num_relations, (count,), generator=g),
            torch.randint(num_nodes, (count,), generator=g))


def expected_score(model, h, r, t):
    """One triple's score, from the papers' formulas, in float64."""
    e = model.node_emb.weight.detach().double()
    w = model.rel_emb.weight.detach().double()
    if isinstance(model, TransE):
        p = model.p_norm
        head = e[h] / e[h].abs().pow(p).sum() ** (1 / p)
        tail = e[t] / e[t].abs().pow(p).sum() ** (1 / p)
        return -float((head + w[r] - tail).abs().pow(p).sum() ** (1 / p))
    if isinstance(model, DistMult):
        return sum(float(e[h, k] * w[r, k] * e[t, k]) for k in range(e.shape[1]))
    e_im = model.node_emb_im.weight.detach().double()
    head, tail = torch.complex(e[h], e_im[h]), torch.complex(e[t], e_im[t])
    if isinstance(model, ComplEx):
        rel = torch.complex(w[r], model.rel_emb_im.weight.detach().double()[r])
        return float(sum(head[k] * rel[k] * tail[k].conj() for k in range(len(head))).real)
    rot = torch.polar(torch.ones_like(w[r]), w[r])
    return model.margin - math.sqrt(sum(abs(complex(head[k] * rot[k] - tail[k])) ** 2
                                        for k in range(len(head))))


@pytest.mark.parametrize("cls", MODELS)
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16), hidden=st.integers(1, 6))
def test_score_formula(cls, seed, hidden):
    torch.manual_seed(seed)
    kwargs = {"p_norm": 2.0} if cls is TransE and seed % 2 else {}
    model = cls(7, 3, hidden, **kwargs)
    h, r, t = triples(7, 3, 5, seed)
    got = model(h, r, t)
    assert got.shape == (5,)
    want = torch.tensor([expected_score(model, *map(int, x)) for x in zip(h, r, t)])
    torch.testing.assert_close(got.double(), want.double(), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("cls", MODELS)
def test_scores_broadcast(cls):
    model = cls(6, 2, 4)
    h, r = torch.tensor([0, 3]), torch.tensor([1, 0])
    every = torch.arange(6)
    grid = model(h.view(-1, 1), r.view(-1, 1), every.view(1, -1))
    assert grid.shape == (2, 6)
    for i in range(2):
        torch.testing.assert_close(grid[i], model(h[i].repeat(6), r[i].repeat(6), every))


@pytest.mark.parametrize("cls", MODELS)
def test_loss_backward(cls):
    model = cls(8, 2, 4)
    h, r, t = triples(8, 2, 10, 0)
    loss = model.loss(h, r, t)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert model.node_emb.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("cls", MODELS)
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16), batch_size=st.integers(1, 20), k=st.integers(1, 5))
def test_ranking_metrics(cls, seed, batch_size, k):
    torch.manual_seed(seed)
    model = cls(9, 2, 5, **({"p_norm": 2.0} if cls is TransE else {}))
    h, r, t = triples(9, 2, 6, seed)
    mean_rank, mrr, hits = model.test(h, r, t, batch_size=batch_size, k=k, log=False)
    ranks = []
    for hi, ri, ti in zip(h.tolist(), r.tolist(), t.tolist()):
        true = expected_score(model, hi, ri, ti)
        others = [expected_score(model, hi, ri, e) for e in range(9) if e != ti]
        assume(all(abs(s - true) > 1e-4 for s in others))  # float32 cannot break ties
        ranks.append(1 + sum(s > true for s in others))
    assert mean_rank == pytest.approx(sum(x - 1 for x in ranks) / len(ranks))
    assert mrr == pytest.approx(sum(1 / x for x in ranks) / len(ranks), rel=1e-5)
    assert hits == pytest.approx(sum(x <= k for x in ranks) / len(ranks))


def test_loader_batches_cover_all_triples():
    model = DistMult(10, 3, 4)
    h, r, t = triples(10, 3, 11, 1)
    loader = model.loader(h, r, t, batch_size=4, shuffle=True)
    seen = []
    for bh, br, bt in loader:
        assert bh.shape == br.shape == bt.shape and bh.numel() <= 4
        seen += list(zip(bh.tolist(), br.tolist(), bt.tolist()))
    assert sorted(seen) == sorted(zip(h.tolist(), r.tolist(), t.tolist()))


def test_random_sample_corrupts_one_side():
    model = TransE(1000, 2, 4)
    h, r, t = triples(1000, 2, 50, 2)
    nh, nr, nt = model.random_sample(h, r, t)
    assert torch.equal(nr, r)
    assert torch.equal(nt[:25], t[:25]) and torch.equal(nh[25:], h[25:])
    assert (nh[:25] != h[:25]).any() and (nt[25:] != t[25:]).any()
    assert torch.equal(h, triples(1000, 2, 50, 2)[0])  # inputs untouched


def test_init_and_repr():
    model = TransE(5, 2, 16, p_norm=2.0)
    assert str(model) == "TransE(5, num_relations=2, hidden_channels=16)"
    torch.testing.assert_close(model.rel_emb.weight.norm(dim=-1), torch.ones(2))
    assert model.node_emb.weight.abs().max() <= 6 / 4
    rot = RotatE(5, 2, 16)
    phases = rot.rel_emb.weight.detach()
    assert 0 <= float(phases.min()) and float(phases.max()) <= 2 * math.pi
    assert sorted(ComplEx(5, 2, 3).state_dict()) == [
        "node_emb.weight", "node_emb_im.weight", "rel_emb.weight", "rel_emb_im.weight"]
    with pytest.raises(NotImplementedError):
        KGEModel(3, 1, 2)(torch.tensor([0]), torch.tensor([0]), torch.tensor([1]))


def test_bad_input():
    model = DistMult(5, 2, 4)
    ok = torch.tensor([0, 1])
    with pytest.raises(ValueError, match="num_nodes"):
        DistMult(0, 2, 4)
    with pytest.raises(ValueError, match="hidden_channels"):
        TransE(3, 2, 2.5)
    with pytest.raises(ValueError, match="tail_index"):
        model.test(ok, ok, torch.tensor([0, 5]), batch_size=4)
    with pytest.raises(ValueError, match="rel_type"):
        model.loader(ok, torch.tensor([0, 2]), ok)
    with pytest.raises(ValueError, match="head_index"):
        model.loader(torch.tensor([0.0, 1.0]), ok, ok)
    with pytest.raises(ValueError, match="batch_size"):
        model.test(ok, ok, ok, batch_size=0)
    with pytest.raises(ValueError, match="one shape"):
        model.loader(ok, ok, torch.tensor([0]))


def test_transe_learns_a_planted_relation():
    """Relation 0 maps entity i to i + 10, relation 1 maps i + 10 to i; after short
    training the true tail should rank first for nearly every triple."""
    torch.manual_seed(0)
    heads = torch.arange(10)
    h = torch.cat([heads, heads + 10])
    r = torch.cat([torch.zeros(10, dtype=torch.long), torch.ones(10, dtype=torch.long)])
    t = torch.cat([heads + 10, heads])
    model = TransE(20, 2, 16, p_norm=2.0)
    before = model.test(h, r, t, batch_size=64, k=1, log=False)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(150):
        for bh, br, bt in model.loader(h, r, t, batch_size=10, shuffle=True):
            opt.zero_grad()
            model.loss(bh, br, bt).backward()
            opt.step()
    mean_rank, mrr, hits1 = model.test(h, r, t, batch_size=64, k=1, log=False)
    assert mrr > 0.8 and hits1 > 0.7 and mrr > before[1]


@pytest.mark.parametrize("cls", MODELS)
def test_sparse_gradients(cls):
    model = cls(10, 2, 4, sparse=True)
    h, r, t = triples(10, 2, 6, 3)
    model.loss(h, r, t).backward()
    assert model.node_emb.weight.grad.is_sparse and model.rel_emb.weight.grad.is_sparse
    torch.optim.SparseAdam(list(model.parameters()), lr=0.01).step()
