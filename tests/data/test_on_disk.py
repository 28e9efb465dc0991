"""On-disk datasets: InMemoryDataset process()/save/load, safe loading, the TU reader,
float slices."""
import os
import pickle

import pytest
import torch

from gfx.data import (Data, Dataset, HeteroData, InMemoryDataset, SyntheticGraphDataset,
                      TUDataset)


class Squares(InMemoryDataset):
    """Writes its own raw file, processes it into graphs."""
    processed_calls = 0

    def __init__(self, root, transform=None, pre_transform=None, force_reload=False):
        super().__init__(root, transform, pre_transform, force_reload=force_reload)
        self.load(self.processed_paths[0])

    @property
    def raw_file_names(self):
        return ["sizes.txt"]

    @property
    def processed_file_names(self):
        return "graphs.pt"

    def download(self):
        with open(self.raw_paths[0], "w") as f:
            f.write("2\n3\n4\n")

    def process(self):
        type(self).processed_calls += 1
        with open(self.raw_paths[0]) as f:
            sizes = [int(line) for line in f]
        graphs = []
        for n in sizes:
            ring = torch.arange(n)
            graphs.append(Data(x=torch.full((n, 1), float(n)),
                               edge_index=torch.stack([ring, (ring + 1) % n]), y=n))
        if self.pre_transform is not None:
            graphs = [self.pre_transform(g) for g in graphs]
        self.save(graphs, self.processed_paths[0])


def test_process_runs_once_and_loads(tmp_path):
    Squares.processed_calls = 0
    ds = Squares(str(tmp_path))
    assert len(ds) == 3 and Squares.processed_calls == 1
    assert ds[1].num_nodes == 3 and ds[1].edge_index.tolist() == [[0, 1, 2], [1, 2, 0]]
    assert ds[2].y == 4
    again = Squares(str(tmp_path))
    assert Squares.processed_calls == 1 and len(again) == 3
    Squares(str(tmp_path), force_reload=True)
    assert Squares.processed_calls == 2


def test_pre_transform_and_transform(tmp_path):
    def double(g):
        g.x = g.x * 2
        return g
    ds = Squares(str(tmp_path), pre_transform=double, transform=double)
    assert ds[0].x[0, 0] == 8.0  # 2 * 2 (stored) * 2 (on access)


def test_save_load_roundtrip_hetero(tmp_path):
    h = HeteroData()
    h["a"].x = torch.randn(2, 3)
    h["a", "r", "a"].edge_index = torch.tensor([[0], [1]])
    h.name = "g"
    path = str(tmp_path / "h.pt")
    InMemoryDataset.save([h, Data(x=torch.ones(1, 1))], path)
    ds = InMemoryDataset()
    ds.load(path)
    assert torch.equal(ds[0]["a"].x, h["a"].x) and ds[0].name == "g"
    assert torch.equal(ds[0]["a", "r", "a"].edge_index, h["a", "r", "a"].edge_index)
    assert isinstance(ds[1], Data)


def test_loading_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    path = str(tmp_path / "evil.pt")
    with open(path, "wb") as f:
        pickle.dump({"format": "gfx-graphs-1", "graphs": [Evil()]}, f)
    with pytest.raises(ValueError, match="not a gfx dataset file"):
        InMemoryDataset().load(path)
    torch.save({"other": 1}, path)
    with pytest.raises(ValueError, match="format"):
        InMemoryDataset().load(path)


def test_missing_raw_files_explain_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not download"):
        TUDataset(str(tmp_path), "NOPE")


def test_float_slices_and_index_tensors():
    ds = SyntheticGraphDataset(num_graphs=10)
    assert len(ds[:0.9]) == 9 and len(ds[0.9:]) == 1 and len(ds[0.2:0.7]) == 5
    picked = ds[torch.tensor([3, 1])]
    assert picked.indices() == [3, 1]
    assert ds[torch.tensor(2)].num_nodes == ds[2].num_nodes


def write_tu(root, name, with_node_attr=True, with_edge=True):
    """Two graphs: a triangle (with a self-loop and a duplicate edge) and a path."""
    raw = os.path.join(root, name, "raw")
    os.makedirs(raw)
    files = {
        "A": ["1, 2", "2, 1", "2, 3", "3, 2", "3, 1", "1, 3", "1, 1", "1, 2",
              "4, 5", "5, 4"],
        "graph_indicator": ["1", "1", "1", "2", "2"],
        "graph_labels": ["-1", "1"],
        "node_labels": ["2", "0", "1", "0", "2"],
    }
    if with_node_attr:
        files["node_attributes"] = ["0.5, 1.0", "1.5, 2.0", "2.5, 3.0", "3.5, 4.0", "4.5, 5.0"]
    if with_edge:
        files["edge_labels"] = ["0", "0", "1", "1", "0", "0", "1", "0", "1", "1"]
        files["edge_attributes"] = [str(float(i)) for i in range(10)]
    for kind, lines in files.items():
        with open(os.path.join(raw, f"{name}_{kind}.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")


def test_tu_dataset_reads_the_format(tmp_path):
    write_tu(str(tmp_path), "TOY")
    ds = TUDataset(str(tmp_path), "TOY", use_node_attr=True, use_edge_attr=True)
    assert len(ds) == 2 and ds.num_node_attributes == 2 and ds.num_edge_attributes == 1
    g0, g1 = ds[0], ds[1]
    assert g0.y.tolist() == [0] and g1.y.tolist() == [1]
    # node features: [attributes | one-hot labels 0..2]
    assert g0.x.tolist()[0] == [0.5, 1.0, 0.0, 0.0, 1.0]
    assert g1.x.tolist()[1] == [4.5, 5.0, 0.0, 0.0, 1.0]
    # the self-loop is gone and the duplicate (1, 2) merged: its attributes summed
    assert g0.edge_index.tolist() == [[0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1]]
    assert g0.edge_attr[0].tolist() == [0.0 + 7.0, 2.0, 0.0]
    plain = TUDataset(str(tmp_path), "TOY")
    assert plain[0].x.size(1) == 3 and plain[0].edge_attr.size(1) == 2


class OneFilePerGraph(Dataset):
    """The reference's large-dataset pattern: process() writes one file per graph and
    get() reads one back."""

    @property
    def raw_file_names(self):
        return []

    @property
    def processed_file_names(self):
        return [f"graph_{i}.pt" for i in range(4)]

    def process(self):
        for i, path in enumerate(self.processed_paths):
            InMemoryDataset.save([Data(x=torch.full((i + 1, 2), float(i)),
                                       edge_index=torch.zeros(2, 0, dtype=torch.long))], path)

    def len(self):
        return len(self.processed_file_names)

    def get(self, idx):
        ds = InMemoryDataset()
        ds.load(self.processed_paths[idx])
        return ds.get(0)


def test_dataset_reads_graphs_one_at_a_time(tmp_path):
    from gfx.data import DataLoader
    ds = OneFilePerGraph(str(tmp_path), transform=lambda g: g.update({"seen": 1}), log=False)
    assert len(ds) == 4 and ds.len() == 4 and repr(ds) == "OneFilePerGraph(4)"
    assert ds[2].num_nodes == 3 and ds[2].seen == 1
    view = ds[1:0.75]
    assert len(view) == 2 and view.len() == 4 and [g.num_nodes for g in view] == [2, 3]
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch.num_graphs == 4 and batch.x.size(0) == 10
    assert ds.num_node_features == 2
