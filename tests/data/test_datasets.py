"""Synthetic datasets and the karate club: sizes, invariants, determinism, class signal."""
import pytest
import torch

from gfx.data import (Data, InMemoryDataset, KarateClub, NormalizeFeatures,
                      SyntheticGraphDataset, SyntheticHeteroDataset, SyntheticNodeDataset)


def edge_set(edge_index):
    return {tuple(pair) for pair in edge_index.t().tolist()}


def assert_simple_undirected(edge_index):
    pairs = edge_index.t().tolist()
    unique = set(map(tuple, pairs))
    assert len(pairs) == len(unique), "duplicate edges"
    assert all(a != b for a, b in pairs), "self loops"
    assert all((b, a) in unique for a, b in pairs), "missing reverse edge"


def nearest_mean_accuracy(x, y, mask, num_classes):
    """Accuracy of the nearest class mean (means from the masked nodes) on all nodes."""
    means = torch.stack([x[mask & (y == c)].mean(0) for c in range(num_classes)])
    predicted = torch.cdist(x, means).argmin(1)
    return (predicted == y).float().mean().item()


def test_synthetic_node_dataset():
    dataset = SyntheticNodeDataset(num_nodes=400, num_classes=4, num_features=16,
                                   avg_degree=8, homophily=0.8, seed=3)
    assert len(dataset) == 1 and dataset.num_features == 16 and dataset.num_classes == 4
    data = dataset[0]
    assert data.x.shape == (400, 16) and data.y.shape == (400,) and data.y.dtype == torch.long
    assert torch.bincount(data.y).tolist() == [100] * 4
    assert_simple_undirected(data.edge_index)
    assert abs(data.num_edges / 400 - 8) < 0.8  # mean degree close to the target
    labels = data.y.tolist()
    same = sum(labels[a] == labels[b] for a, b in data.edge_index.t().tolist())
    assert 0.7 < same / data.num_edges < 0.9
    masks = torch.stack([data.train_mask, data.val_mask, data.test_mask])
    assert masks.sum(1).tolist() == [240, 80, 80] and masks.sum(0).eq(1).all()
    # Features carry class signal, and averaging over neighbours adds to it.
    alone = nearest_mean_accuracy(data.x, data.y, data.train_mask, 4)
    adjacency = torch.eye(400)
    adjacency[data.edge_index[0], data.edge_index[1]] = 1
    smoothed = (adjacency / adjacency.sum(1, keepdim=True)) @ data.x
    assert 0.4 < alone < nearest_mean_accuracy(smoothed, data.y, data.train_mask, 4)
    assert data.validate()


def test_synthetic_node_dataset_is_seeded():
    first = SyntheticNodeDataset(num_nodes=100, seed=5)[0]
    again = SyntheticNodeDataset(num_nodes=100, seed=5)[0]
    other = SyntheticNodeDataset(num_nodes=100, seed=6)[0]
    for key in first.keys():
        assert torch.equal(first[key], again[key])
    assert edge_set(first.edge_index) != edge_set(other.edge_index)
    assert not torch.equal(first.x, other.x)


def test_synthetic_node_dataset_heterophily_and_errors():
    data = SyntheticNodeDataset(num_nodes=200, num_classes=2, homophily=0.0, seed=1)[0]
    labels = data.y.tolist()
    assert all(labels[a] != labels[b] for a, b in data.edge_index.t().tolist())
    with pytest.raises(ValueError, match="'homophily' must lie in"):
        SyntheticNodeDataset(homophily=1.5)
    with pytest.raises(ValueError, match="'num_nodes' must be an integer >= 4"):
        SyntheticNodeDataset(num_nodes=3, num_classes=4)


def test_synthetic_hetero_dataset_defaults():
    dataset = SyntheticHeteroDataset(seed=2)
    data = dataset[0]
    writes, rev, cites = ("author", "writes", "paper"), ("paper", "rev_writes", "author"), \
        ("paper", "cites", "paper")
    assert data.metadata() == (["paper", "author"], [writes, rev, cites])
    assert dataset.num_features == {"paper": 32, "author": 16} and dataset.num_classes == 4
    assert edge_set(data[rev].edge_index) == {(b, a) for a, b in edge_set(data[writes].edge_index)}
    assert "y" in data["paper"] and "y" not in data["author"]
    paper = data["paper"]
    masks = torch.stack([paper.train_mask, paper.val_mask, paper.test_mask])
    assert masks.sum(0).eq(1).all()
    assert data.validate()
    assert not any(a == b for a, b in data[cites].edge_index.t().tolist())
    # Class-correlated structure: most citations stay within a class.
    labels = paper.y.tolist()
    same = sum(labels[a] == labels[b] for a, b in data[cites].edge_index.t().tolist())
    assert same / data[cites].num_edges > 0.6
    again = SyntheticHeteroDataset(seed=2)[0]
    assert torch.equal(again[writes].edge_index, data[writes].edge_index)
    assert torch.equal(again["author"].x, data["author"].x)


def test_synthetic_hetero_dataset_custom_types():
    types = ["user node", "item-1", "tag<=x"]
    edges = [("user node", "buys", "item-1"), ("item-1", "rev_buys", "user node"),
             ("tag<=x", "labels", "item-1")]
    dataset = SyntheticHeteroDataset(node_types=types, edge_types=edges,
                                     num_nodes={"user node": 50, "item-1": 40, "tag<=x": 8},
                                     num_features=5, num_classes=2, target="item-1")
    data = dataset[0]
    assert data.metadata() == (types, edges)
    assert data["tag<=x"].x.shape == (8, 5) and data["item-1"].y.shape == (40,)
    assert data.validate()
    default = SyntheticHeteroDataset(node_types=["a", "b", "c"], num_nodes=10, num_classes=2)[0]
    assert default.edge_types == [("b", "to", "a"), ("a", "rev_to", "b"), ("c", "to", "a"),
                                  ("a", "rev_to", "c"), ("a", "links", "a")]
    with pytest.raises(ValueError, match="uses node type 'venue'"):
        SyntheticHeteroDataset(edge_types=[("venue", "hosts", "paper")])
    with pytest.raises(ValueError,
                       match=r"'num_features' gives no value for node types \['author'\]"):
        SyntheticHeteroDataset(num_features={"paper": 3})


def test_synthetic_graph_dataset():
    dataset = SyntheticGraphDataset(num_graphs=40, num_classes=4, seed=1)
    assert len(dataset) == 40 and dataset.num_classes == 4 and dataset.num_features == 8
    labels = torch.cat([dataset[i].y for i in range(40)])
    assert torch.bincount(labels).tolist() == [10] * 4
    for i in range(40):
        graph = dataset[i]
        assert graph.y.shape == (1,) and graph.x.size(0) == graph.num_nodes
        assert_simple_undirected(graph.edge_index)
        n = graph.num_nodes
        degree = torch.bincount(graph.edge_index[0], minlength=n)
        family = int(graph.y)
        if family == 0:  # cycle
            assert degree.eq(2).all()
        elif family == 1:  # tree: n - 1 edges, connected
            assert graph.num_edges == 2 * (n - 1) and degree.ge(1).all()
        elif family == 2:  # dense random graph
            assert graph.num_edges / n > 2.5
        else:  # grid: degrees 2 to 4, corners have 2
            assert degree.min() == 2 and degree.max() <= 4
    again = SyntheticGraphDataset(num_graphs=40, num_classes=4, seed=1)
    assert all(torch.equal(dataset[i].x, again[i].x) for i in range(40))
    with pytest.raises(ValueError, match="'num_classes' must be at most 4"):
        SyntheticGraphDataset(num_classes=5)


def test_karate_club():
    dataset = KarateClub()
    assert len(dataset) == 1 and dataset.num_features == 34 and dataset.num_classes == 2
    data = dataset[0]
    assert data.num_nodes == 34 and data.num_edges == 156
    assert torch.equal(data.x, torch.eye(34))
    assert_simple_undirected(data.edge_index)
    adjacency = torch.zeros(34, 34)
    adjacency[data.edge_index[0], data.edge_index[1]] = 1
    degree = adjacency.sum(1)
    assert degree[0] == 16 and degree[33] == 17 and degree[32] == 12
    # The network's 45 triangles: trace(A^3) / 6.
    assert torch.trace(adjacency @ adjacency @ adjacency).item() / 6 == 45
    assert torch.bincount(data.y).tolist() == [17, 17]
    assert data.y[0] == 0 and data.y[33] == 1
    assert data.train_mask.nonzero().view(-1).tolist() == [0, 33]


def test_karate_club_matches_networkx():
    networkx = pytest.importorskip("networkx")
    graph = networkx.karate_club_graph()
    data = KarateClub()[0]
    expected = {(a, b) for a, b in graph.edges()} | {(b, a) for a, b in graph.edges()}
    assert edge_set(data.edge_index) == expected
    officer = [int(graph.nodes[v]["club"] == "Officer") for v in range(34)]
    assert data.y.tolist() == officer


def test_in_memory_dataset_indexing_and_transforms():
    graphs = [Data(x=torch.full((i + 1, 2), float(i + 1)), y=torch.tensor([i % 2]))
              for i in range(6)]
    dataset = InMemoryDataset(graphs, transform=NormalizeFeatures())
    assert len(dataset) == 6 and dataset.len() == 6 and repr(dataset) == "InMemoryDataset(6)"
    # the reference semantics shift by the minimum first: a constant x becomes zeros
    assert dataset[2].x.tolist() == [[0.0, 0.0]] * 3
    assert graphs[2].x[0].tolist() == [3.0, 3.0]  # the transform works on a copy
    view = dataset[1:5:2]
    assert len(view) == 2 and view[1].num_nodes == 4
    assert [dataset[[5, 0]][i].num_nodes for i in range(2)] == [6, 1]
    mask = torch.tensor([True, False, True, False, False, True])
    assert [g.num_nodes for g in dataset[mask]] == [1, 3, 6]
    assert dataset[-1].num_nodes == 6 and dataset.num_classes == 2
    shuffled, perm = dataset.shuffle(return_perm=True, generator=torch.Generator().manual_seed(0))
    assert [g.num_nodes for g in shuffled] == [int(p) + 1 for p in perm]
    with pytest.raises(IndexError, match="index 6 is out of range for 6 graphs"):
        dataset[6]
    with pytest.raises(TypeError, match="cannot index with float"):
        dataset[1.5]
