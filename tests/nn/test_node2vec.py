"""Node2Vec: window sampling, the skip-gram loss against its formula, the loader, and
embeddings that separate two communities after short training."""
import pytest
import torch

from gfx.nn import Node2Vec

EPS = 1e-15


def ring(n):
    src = torch.arange(n)
    return torch.stack([torch.cat([src, (src + 1) % n]), torch.cat([(src + 1) % n, src])])


def test_samples_are_walk_windows():
    torch.manual_seed(0)
    edge_index = ring(6)
    model = Node2Vec(edge_index, 4, walk_length=4, context_size=3, walks_per_node=2,
                     num_negative_samples=3, p=0.5, q=2.0)
    pos, neg = model.sample([0, 3])
    # 2 start nodes x 2 walks, each walk of 5 nodes has 3 windows of 3.
    assert pos.shape == (2 * 2 * 3, 3) and neg.shape == (2 * 2 * 3 * 3, 3)
    edges = set(map(tuple, edge_index.t().tolist()))
    for row in pos.tolist():
        assert all((a, b) in edges for a, b in zip(row[:-1], row[1:]))
    # The first window of each walk starts at the batch node, walk by walk.
    assert pos[:4, 0].tolist() == [0, 3, 0, 3]
    assert neg[:12, 0].tolist() == [0, 3] * 6
    assert int(neg.max()) < 6


def test_loss_formula_and_forward():
    torch.manual_seed(0)
    model = Node2Vec(ring(5), 3, walk_length=3, context_size=2)
    pos = torch.tensor([[0, 1], [1, 2], [2, 3]])
    neg = torch.tensor([[0, 4, ], [3, 1], [4, 0]])
    z = model.embedding.weight
    sig = lambda a, b: torch.sigmoid(z[a] @ z[b])  # noqa: E731
    want = -sum(torch.log(sig(a, b) + EPS) for a, b in pos.tolist()) / 3 \
        - sum(torch.log(1 - sig(a, b) + EPS) for a, b in neg.tolist()) / 3
    torch.testing.assert_close(model.loss(pos, neg), want)
    wide = torch.tensor([[0, 1, 2], [3, 4, 0]])
    pairs = [(0, 1), (0, 2), (3, 4), (3, 0)]
    want = -sum(torch.log(sig(a, b) + EPS) for a, b in pairs) / 4 \
        - sum(torch.log(1 - sig(a, b) + EPS) for a, b in pairs) / 4
    torch.testing.assert_close(model.loss(wide, wide), want)
    assert torch.equal(model(), z)
    assert torch.equal(model(torch.tensor([4, 1])), z[[4, 1]])
    assert str(model) == "Node2Vec(5, 3)"
    assert list(model.state_dict()) == ["embedding.weight"]


def test_loader_and_errors():
    model = Node2Vec(ring(7), 4, walk_length=3, context_size=2, num_nodes=9)
    batches = list(model.loader(batch_size=4))
    assert len(batches) == 3                   # 9 nodes, isolated ones included
    pos, neg = batches[-1]
    assert pos[:, 0].tolist()[:1] == [8] and (pos[pos[:, 0] == 8] == 8).all()
    with pytest.raises(ValueError, match="context_size"):
        Node2Vec(ring(4), 4, walk_length=2, context_size=3)
    with pytest.raises(ValueError, match="context_size"):
        Node2Vec(ring(4), 4, walk_length=2, context_size=1)
    with pytest.raises(ValueError, match="'p'"):
        Node2Vec(ring(4), 4, walk_length=2, context_size=2, p=0)
    with pytest.raises(ValueError, match="walks_per_node"):
        Node2Vec(ring(4), 4, walk_length=2, context_size=2, walks_per_node=0)


def test_embeddings_separate_two_communities():
    """Two 6-cliques joined by one edge: after training, nodes are closer (in cosine)
    to their own clique, and the logistic-regression probe classifies them."""
    torch.manual_seed(0)
    edges = [(i, j) for c in (0, 6) for i in range(c, c + 6) for j in range(c, c + 6) if i != j]
    edges += [(5, 6), (6, 5)]
    model = Node2Vec(torch.tensor(edges).t(), 8, walk_length=6, context_size=3,
                     walks_per_node=4, num_negative_samples=2)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(30):
        for pos, neg in model.loader(batch_size=12, shuffle=True):
            opt.zero_grad()
            model.loss(pos, neg).backward()
            opt.step()
    z = torch.nn.functional.normalize(model().detach(), dim=1)
    sim = z @ z.t()
    same = torch.tensor([[(i < 6) == (j < 6) and i != j for j in range(12)] for i in range(12)])
    other = ~same & ~torch.eye(12, dtype=torch.bool)
    assert sim[same].mean() > sim[other].mean() + 0.3
    y = (torch.arange(12) >= 6).long()
    train = torch.tensor([0, 1, 2, 6, 7, 8])
    test = torch.tensor([3, 4, 9, 10])
    assert model.test(z[train], y[train], z[test], y[test]) == 1.0


def test_sparse_gradients():
    model = Node2Vec(ring(6), 4, walk_length=3, context_size=2, sparse=True)
    pos, neg = model.sample(torch.arange(6))
    model.loss(pos, neg).backward()
    assert model.embedding.weight.grad.is_sparse
