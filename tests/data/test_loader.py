"""DataLoader: batches of graphs, shuffling, mixed samples, heterogeneous graphs."""
import torch

from gfx.data import Batch, DataLoader, HeteroData, InMemoryDataset, NormalizeFeatures, Data


def numbered_graphs(count):
    """Graph i has i + 1 nodes, a path of edges and the graph-level label i."""
    graphs = []
    for i in range(count):
        src = torch.arange(i)
        graphs.append(Data(x=torch.full((i + 1, 2), float(i)),
                           edge_index=torch.stack([src, src + 1]), y=torch.tensor([i])))
    return graphs


def test_batches_in_order():
    loader = DataLoader(numbered_graphs(5), batch_size=2)
    batches = list(loader)
    assert [b.num_graphs for b in batches] == [2, 2, 1]
    assert [b.y.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    first = batches[0]
    assert isinstance(first, Batch)
    assert first.ptr.tolist() == [0, 1, 3]
    assert first.edge_index.tolist() == [[1], [2]]  # graph 1's edge 0->1, shifted by 1


def test_shuffle_is_a_permutation_and_follows_the_generator():
    def labels(seed):
        generator = torch.Generator().manual_seed(seed)
        loader = DataLoader(numbered_graphs(9), batch_size=4, shuffle=True, generator=generator)
        return [y for batch in loader for y in batch.y.tolist()]

    assert sorted(labels(0)) == list(range(9))
    assert labels(0) == labels(0)
    assert labels(0) != list(range(9)) or labels(1) != list(range(9))


def test_ignores_a_foreign_collate_fn_and_passes_options():
    loader = DataLoader(numbered_graphs(5), batch_size=2, collate_fn=lambda x: x,
                        drop_last=True, follow_batch=["x"])
    batches = list(loader)
    assert len(batches) == 2 and all(isinstance(b, Batch) for b in batches)
    assert batches[1].x_batch.tolist() == [0, 0, 0, 1, 1, 1, 1]


def test_tuples_of_graphs_and_tensors():
    samples = [(graph, torch.tensor(float(i))) for i, graph in enumerate(numbered_graphs(3))]
    graph_batch, values = next(iter(DataLoader(samples, batch_size=3)))
    assert graph_batch.num_graphs == 3 and values.tolist() == [0.0, 1.0, 2.0]


def test_heterogeneous_graphs():
    graphs = []
    for i in range(3):
        data = HeteroData()
        data["a"].x = torch.zeros(i + 1, 2)
        data["b"].x = torch.zeros(2, 3)
        data["a", "r", "b"].edge_index = torch.tensor([[i], [1]])
        graphs.append(data)
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch["a"].ptr.tolist() == [0, 1, 3, 6]
    assert batch["r"].edge_index.tolist() == [[0, 2, 5], [1, 3, 5]]


def test_dataset_with_transform():
    dataset = InMemoryDataset(numbered_graphs(4), transform=NormalizeFeatures())
    batch = next(iter(DataLoader(dataset, batch_size=4)))
    # each graph's x is constant: shifted by its minimum it becomes zeros
    expected = [0.0] * (2 + 4 + 6 + 8)
    assert batch.x.view(-1).tolist() == expected
    assert dataset.get(1).x[0].tolist() == [1.0, 1.0]  # stored graphs stay raw
