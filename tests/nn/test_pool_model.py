"""A graph classifier with TopKPooling / SAGPooling between GCN layers trains on a
synthetic dataset, eager and compiled with ``gfx.compile`` (NOTE [pooling in captured
graphs]: the node selection and edge filtering are run-time calls in the captured
graph, so the compiled model follows the data's node counts)."""
import pytest
import torch
import torch.nn.functional as F

import gfx
from gfx.data import DataLoader, SyntheticGraphDataset
from gfx.nn import (ASAPooling, ClusterPooling, EdgePooling, GCNConv, MemPooling,
                    SAGPooling, TopKPooling, global_max_pool, global_mean_pool)


class PoolNet(torch.nn.Module):
    def __init__(self, in_channels, hidden, num_classes, pool="topk"):
        super().__init__()
        make = (lambda: TopKPooling(hidden, ratio=0.6)) if pool == "topk" else \
            (lambda: SAGPooling(hidden, ratio=0.6))
        self.conv1, self.pool1 = GCNConv(in_channels, hidden), make()
        self.conv2, self.pool2 = GCNConv(hidden, hidden), make()
        self.lin = torch.nn.Linear(2 * hidden, num_classes)

    def forward(self, x, edge_index, batch):
        x = self.conv1(x, edge_index).relu()
        x, edge_index, _, batch, _, _ = self.pool1(x, edge_index, None, batch)
        x = self.conv2(x, edge_index).relu()
        x, edge_index, _, batch, _, _ = self.pool2(x, edge_index, None, batch)
        readout = torch.cat([global_mean_pool(x, batch), global_max_pool(x, batch)], -1)
        return self.lin(readout)


def data():
    """Train and test graphs from one dataset (its class means are drawn per seed)."""
    graphs = list(SyntheticGraphDataset(num_graphs=120, num_classes=3, min_nodes=8,
                                        max_nodes=16, seed=0))
    return graphs[:80], graphs[80:]


def accuracy(model, dataset):
    model.eval()
    batch = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    with torch.no_grad():
        pred = model(batch.x, batch.edge_index, batch.batch).argmax(-1)
    model.train()
    return float((pred == batch.y).float().mean())


def train(model, dataset, epochs):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    torch.manual_seed(0)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for batch in DataLoader(dataset, batch_size=30, shuffle=True):
            opt.zero_grad()
            loss = F.cross_entropy(model(batch.x, batch.edge_index, batch.batch), batch.y)
            loss.backward()
            opt.step()
            total += float(loss.detach())
        losses.append(total)
    return losses


@pytest.mark.slow
@pytest.mark.parametrize("compiled", [False, True])
def test_topk_classifier_trains(compiled):
    train_set, test_set = data()
    torch.manual_seed(0)
    model = PoolNet(train_set[0].x.shape[1], 32, 3)
    runner = gfx.compile(model, backend="cpp") if compiled else model
    before = accuracy(runner, test_set)
    losses = train(runner, train_set, epochs=10)
    after = accuracy(runner, test_set)
    assert losses[-1] < 0.6 * losses[0]
    assert after >= 0.8 and after > before


class EdgeNet(torch.nn.Module):
    """Edge pooling, a convolution on the coarse graph, and unpooling."""

    def __init__(self, in_channels, hidden, num_classes):
        super().__init__()
        self.conv1, self.pool = GCNConv(in_channels, hidden), EdgePooling(hidden)
        self.conv2, self.lin = GCNConv(hidden, hidden), torch.nn.Linear(hidden, num_classes)

    def forward(self, x, edge_index, batch):
        x = self.conv1(x, edge_index).relu()
        x, edge_index, batch, info = self.pool(x, edge_index, batch)
        x = self.conv2(x, edge_index).relu()
        x, edge_index, batch = self.pool.unpool(x, info)
        return self.lin(global_mean_pool(x, batch))


class ClusterNet(torch.nn.Module):
    def __init__(self, in_channels, hidden, num_classes):
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden)
        self.pool = ClusterPooling(hidden, threshold=-0.2)
        self.conv2, self.lin = GCNConv(hidden, hidden), torch.nn.Linear(hidden, num_classes)

    def forward(self, x, edge_index, batch):
        x = self.conv1(x, edge_index).relu()
        x, edge_index, batch, _ = self.pool(x, edge_index, batch)
        x = self.conv2(x, edge_index).relu()
        return self.lin(global_mean_pool(x, batch))


class AsapNet(torch.nn.Module):
    def __init__(self, in_channels, hidden, num_classes):
        super().__init__()
        self.conv1, self.pool = GCNConv(in_channels, hidden), ASAPooling(hidden)
        self.conv2, self.lin = GCNConv(hidden, hidden), torch.nn.Linear(hidden, num_classes)

    def forward(self, x, edge_index, batch):
        x = self.conv1(x, edge_index).relu()
        x, edge_index, edge_weight, batch, _ = self.pool(x, edge_index, None, batch)
        x = self.conv2(x, edge_index).relu()
        return self.lin(global_mean_pool(x, batch))


class MemNet(torch.nn.Module):
    def __init__(self, in_channels, hidden, num_classes):
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden)
        self.pool = MemPooling(hidden, num_classes, heads=2, num_clusters=3)

    def forward(self, x, edge_index, batch):
        x, S = self.pool(self.conv1(x, edge_index).relu(), batch)
        return x.sum(1) + MemPooling.kl_loss(S)


MODELS = {"topk": lambda f: PoolNet(f, 16, 3, "topk"), "sag": lambda f: PoolNet(f, 16, 3, "sag"),
          "edge": lambda f: EdgeNet(f, 16, 3), "asap": lambda f: AsapNet(f, 16, 3),
          "mem": lambda f: MemNet(f, 16, 3), "cluster": lambda f: ClusterNet(f, 16, 3)}
RUNTIME_CALLS = {"topk": ["topk", "filter_adj"] * 2, "sag": ["topk", "filter_adj"] * 2,
                 "edge": ["merge_edges"], "asap": ["remaining_self_loops", "topk", "coarsen"],
                 "mem": ["dense_input"], "cluster": ["without_self_loops", "merge_clusters"]}


@pytest.mark.parametrize("name", list(MODELS))
def test_compiled_equals_eager_across_batches(name):
    """One compiled model serves batches with different node counts; values and
    parameter gradients equal eager.  The data-dependent steps are single run-time
    calls in the captured graph."""
    train_set, _ = data()
    torch.manual_seed(0)
    model = MODELS[name](train_set[0].x.shape[1]).double()
    compiled = gfx.compile(model, backend="cpp")
    captured = gfx.capture(model)
    calls = [n.target.__name__ for n in captured.graph.nodes if n.op == "call_function"
             and getattr(n.target, "__name__", "") in sum(RUNTIME_CALLS.values(), [])]
    assert calls == RUNTIME_CALLS[name]
    for batch in list(DataLoader(train_set, batch_size=20))[:3]:
        x = batch.x.double()
        expected = model(x, batch.edge_index, batch.batch)
        got = compiled(x, batch.edge_index, batch.batch)
        torch.testing.assert_close(got, expected)
        params = list(model.parameters())   # select.weight only ranks: no gradient
        g_expected = torch.autograd.grad(expected.square().sum(), params, allow_unused=True)
        g_got = torch.autograd.grad(got.square().sum(), params, allow_unused=True)
        assert any(g is not None for g in g_expected)
        for a, b in zip(g_got, g_expected):
            assert (a is None) == (b is None)
            if a is not None:
                torch.testing.assert_close(a, b)
