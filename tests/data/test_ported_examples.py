"""Reference example scripts after the mechanical ``torch_geometric.`` -> ``gfx.`` rewrite:
link prediction on Cora (RandomLinkSplit + negative_sampling) and TU graph classification."""
import os

import pytest
import torch
import torch.nn.functional as F

import gfx.transforms as T
from gfx.data import Planetoid, TUDataset
from gfx.loader import DataLoader
from gfx.nn import GCNConv, GINConv, global_add_pool
from gfx.utils import negative_sampling

PLANETOID = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data",
                         "planetoid")


def _auc(score, label):
    """Probability that a random positive outscores a random negative (ties count half)."""
    pos, neg = score[label == 1], score[label == 0]
    greater = (pos.view(-1, 1) > neg.view(1, -1)).float().mean()
    ties = (pos.view(-1, 1) == neg.view(1, -1)).float().mean()
    return float(greater + ties / 2)


class Net(torch.nn.Module):
    def __init__(self, in_channels, hidden_channels, out_channels):
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden_channels)
        self.conv2 = GCNConv(hidden_channels, out_channels)

    def encode(self, x, edge_index):
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)

    def decode(self, z, edge_label_index):
        return (z[edge_label_index[0]] * z[edge_label_index[1]]).sum(dim=-1)


@pytest.mark.slow
def test_link_prediction_example_on_cora():
    if not os.path.exists(os.path.join(PLANETOID, "ind.cora.x")):
        pytest.skip("the Planetoid raw files are not in /work/shared/data/planetoid")
    torch.manual_seed(0)
    transform = T.Compose([
        T.NormalizeFeatures(),
        T.ToDevice("cpu"),
        T.RandomLinkSplit(num_val=0.05, num_test=0.1, is_undirected=True,
                          add_negative_train_samples=False),
    ])
    dataset = Planetoid(PLANETOID, name="Cora", transform=transform)
    train_data, val_data, test_data = dataset[0]
    model = Net(dataset.num_features, 64, 32)
    optimizer = torch.optim.Adam(params=model.parameters(), lr=0.01)
    for _ in range(40):
        model.train()
        optimizer.zero_grad()
        z = model.encode(train_data.x, train_data.edge_index)
        neg_edge_index = negative_sampling(
            edge_index=train_data.edge_index, num_nodes=train_data.num_nodes,
            num_neg_samples=train_data.edge_label_index.size(1), method="sparse")
        edge_label_index = torch.cat([train_data.edge_label_index, neg_edge_index], dim=-1)
        edge_label = torch.cat([train_data.edge_label,
                                train_data.edge_label.new_zeros(neg_edge_index.size(1))])
        out = model.decode(z, edge_label_index).view(-1)
        F.binary_cross_entropy_with_logits(out, edge_label).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        z = model.encode(test_data.x, test_data.edge_index)
        score = model.decode(z, test_data.edge_label_index).view(-1).sigmoid()
    assert _auc(score, test_data.edge_label) > 0.8


def _write_two_class_tu(root):
    """Class 0: cycles, class 1: stars (the TU text format, see gfx.data.TUDataset)."""
    raw = os.path.join(root, "SHAPES", "raw")
    os.makedirs(raw)
    edges, indicator, labels, node_labels = [], [], [], []
    node = 0
    for g in range(40):
        n = 4 + g % 5
        ids = list(range(node + 1, node + n + 1))  # 1-based
        if g % 2 == 0:
            pairs = [(ids[i], ids[(i + 1) % n]) for i in range(n)]
        else:
            pairs = [(ids[0], ids[i]) for i in range(1, n)]
        for u, v in pairs:
            edges += [f"{u}, {v}", f"{v}, {u}"]
        indicator += [str(g + 1)] * n
        node_labels += ["0"] * n
        labels.append(str(g % 2))
        node += n
    for kind, lines in (("A", edges), ("graph_indicator", indicator),
                        ("graph_labels", labels), ("node_labels", node_labels)):
        with open(os.path.join(raw, f"SHAPES_{kind}.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")


class GIN(torch.nn.Module):
    def __init__(self, in_channels, hidden, classes):
        super().__init__()
        mlp = lambda a, b: torch.nn.Sequential(torch.nn.Linear(a, b), torch.nn.ReLU(),  # noqa
                                               torch.nn.Linear(b, b))
        self.conv1 = GINConv(mlp(in_channels, hidden))
        self.conv2 = GINConv(mlp(hidden, hidden))
        self.lin = torch.nn.Linear(hidden, classes)

    def forward(self, x, edge_index, batch):
        x = self.conv2(self.conv1(x, edge_index).relu(), edge_index).relu()
        return self.lin(global_add_pool(x, batch))


@pytest.mark.slow
def test_tu_graph_classification_example(tmp_path):
    _write_two_class_tu(str(tmp_path))
    torch.manual_seed(0)
    dataset = TUDataset(str(tmp_path), name="SHAPES", transform=T.OneHotDegree(8, cat=False))
    dataset = dataset.shuffle()
    train_dataset, test_dataset = dataset[:0.75], dataset[0.75:]
    train_loader = DataLoader(train_dataset, batch_size=8, shuffle=True)
    test_loader = DataLoader(test_dataset, batch_size=8)
    model = GIN(dataset.num_features, 16, dataset.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(30):
        for data in train_loader:
            optimizer.zero_grad()
            F.cross_entropy(model(data.x, data.edge_index, data.batch), data.y).backward()
            optimizer.step()
    correct = sum(int((model(d.x, d.edge_index, d.batch).argmax(-1) == d.y).sum())
                  for d in test_loader)
    assert correct / len(test_dataset) >= 0.9
