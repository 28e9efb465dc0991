"""MetaPath2Vec: walks follow the meta-path's edge types, dead ends become the dummy
node, negative windows keep the node types, and the table is split by type."""
import pytest
import torch

from gfx.nn import MetaPath2Vec

AW, WA, PV = ("author", "writes", "paper"), ("paper", "written_by", "author"), \
    ("paper", "in", "venue")


def graph():
    writes = torch.tensor([[0, 0, 1, 2, 3], [0, 1, 1, 2, 3]])  # paper 4 has no author
    return {AW: writes, WA: writes.flip(0), PV: torch.tensor([[0, 1, 2, 3, 4], [0, 0, 1, 1, 1]])}


def test_walks_follow_the_metapath():
    torch.manual_seed(0)
    edges = graph()
    model = MetaPath2Vec(edges, 4, [AW, WA], walk_length=4, context_size=5,
                         num_nodes_dict={"author": 5, "paper": 5, "venue": 2})
    # sorted types in the table: author [0, 5), paper [5, 10); venue is not on the path
    assert (model.start, model.end, model.dummy_idx) == ({"author": 0, "paper": 5},
                                                          {"author": 5, "paper": 10}, 10)
    pos, neg = model._sample(torch.arange(5))
    assert pos.shape == (5, 5) and neg.shape == (5, 5)
    a2p = set(map(tuple, edges[AW].t().tolist()))
    for walk in pos.tolist():
        for step, (a, b) in enumerate(zip(walk[:-1], walk[1:])):
            if a == 10:                         # once stopped, always the dummy
                assert b == 10
            elif step % 2 == 0:                 # author -> paper
                assert b == 10 or (a, b - 5) in a2p
            else:                               # paper -> author
                assert b == 10 or (b, a - 5) in a2p
    assert pos[4].tolist() == [4, 10, 10, 10, 10]  # author 4 writes nothing
    for walk in neg.tolist():                    # types alternate, no dummy
        assert [x >= 5 for x in walk] == [False, True, False, True, False]


def test_loss_forward_and_repr():
    torch.manual_seed(0)
    model = MetaPath2Vec(graph(), 3, [AW, WA], walk_length=2, context_size=2)
    assert str(model) == "MetaPath2Vec(9, 3)"    # 4 authors + 5 papers (+ the dummy row)
    z = model.embedding.weight
    torch.testing.assert_close(model("paper"), z[4:9])
    torch.testing.assert_close(model("author", torch.tensor([3, 0])), z[[3, 0]])
    pos, neg = torch.tensor([[0, 4], [1, 5]]), torch.tensor([[0, 8], [2, 6]])
    sig = lambda a, b: torch.sigmoid(z[a] @ z[b])  # noqa: E731
    want = -(torch.log(sig(0, 4) + 1e-15) + torch.log(sig(1, 5) + 1e-15)) / 2 \
        - (torch.log(1 - sig(0, 8) + 1e-15) + torch.log(1 - sig(2, 6) + 1e-15)) / 2
    torch.testing.assert_close(model.loss(pos, neg), want)
    batches = list(model.loader(batch_size=3))
    assert len(batches) == 2


def test_errors():
    edges = graph()
    with pytest.raises(ValueError, match="cycle"):
        MetaPath2Vec(edges, 4, [AW, PV], walk_length=3, context_size=2)
    with pytest.raises(ValueError, match="not a path"):
        MetaPath2Vec(edges, 4, [AW, AW], walk_length=2, context_size=2)
    with pytest.raises(ValueError, match="context_size"):
        MetaPath2Vec(edges, 4, [AW, WA], walk_length=2, context_size=4)
    with pytest.raises(ValueError, match="context_size"):
        MetaPath2Vec(edges, 4, [AW, WA], walk_length=2, context_size=1)
    with pytest.raises(ValueError, match="edge_index_dict"):
        MetaPath2Vec({AW: edges[AW]}, 4, [AW, WA], walk_length=2, context_size=2)
    model = MetaPath2Vec(edges, 4, [AW, WA], walk_length=2, context_size=2)
    with pytest.raises(ValueError, match="node_type"):
        model("venue")
