"""The demo job behind ``make demo``: train a 2-layer GCN on embedded data.

Also the small, reusable training loop used by the Cora accuracy test.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm import tqdm

from gfx.nn import GCNConv


class TwoLayerGCN(torch.nn.Module):
    """``GCNConv -> ReLU -> dropout -> GCNConv``, the model of Kipf and Welling."""

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 dropout: float = 0.5):
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden_channels)
        self.conv2 = GCNConv(hidden_channels, out_channels)
        self.dropout = dropout

    def forward(self, x, edge_index):
        x = F.dropout(x, p=self.dropout, training=self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, p=self.dropout, training=self.training)
        return self.conv2(x, edge_index)


@dataclass
class NodeClassificationResult:
    train_acc: float
    val_acc: float
    test_acc: float


def accuracy(logits, y, mask) -> float:
    return float((logits[mask].argmax(-1) == y[mask]).float().mean()) if mask.any() else 0.0


def train_node_classifier(model: torch.nn.Module, data, epochs: int = 200, lr: float = 0.01,
                          weight_decay: float = 5e-4, progress: bool = True
                          ) -> NodeClassificationResult:
    """Full-batch training with Adam and cross-entropy on ``data.train_mask``.

    Returns the accuracies of the final model (no early stopping), as in the GCN paper's
    protocol of a fixed number of epochs.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    bar = tqdm(range(epochs), desc="train", disable=not progress, leave=False)
    for _ in bar:
        model.train()
        optimizer.zero_grad()
        out = model(data.x, data.edge_index)
        loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
        loss.backward()
        optimizer.step()
        bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
    model.eval()
    with torch.no_grad():
        out = model(data.x, data.edge_index)
    return NodeClassificationResult(accuracy(out, data.y, data.train_mask),
                                    accuracy(out, data.y, data.val_mask),
                                    accuracy(out, data.y, data.test_mask))


def time_call(fn, repeat: int = 10) -> float:
    """Median wall time of ``fn()`` in seconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def run_demo(out_dir: str = "out") -> NodeClassificationResult:
    """Train, then show the lowered graph (table + SVG) and eager vs compiled time."""
    import gfx
    from gfx.data import SyntheticNodeDataset

    torch.manual_seed(0)
    dataset = SyntheticNodeDataset()
    data = dataset[0]
    print(f"gfx demo: 2-layer GCN on {type(dataset).__name__} "
          f"({data.num_nodes} nodes, {data.num_edges} edges, {dataset.num_features} features, "
          f"{dataset.num_classes} classes)")
    model = TwoLayerGCN(dataset.num_features, 16, dataset.num_classes)
    result = train_node_classifier(model, data)
    print(f"accuracy: train {result.train_acc:.3f}  val {result.val_acc:.3f}  "
          f"test {result.test_acc:.3f}")

    model.eval()
    report = gfx.inspect(model, data.x, data.edge_index)
    print("\nlowered graph (gfx.inspect):")
    print(report)
    os.makedirs(out_dir, exist_ok=True)
    svg = os.path.join(out_dir, "demo-gcn.svg")
    try:
        report.save_svg(svg)
        print(f"graph drawn to {svg}")
    except RuntimeError as exc:
        dot = os.path.join(out_dir, "demo-gcn.dot")
        with open(dot, "w") as f:
            f.write(report.to_dot())
        print(f"{exc}\nDOT text written to {dot} instead")

    compiled = gfx.compile(model).eval()
    with torch.no_grad():
        same = torch.allclose(compiled(data.x, data.edge_index), model(data.x, data.edge_index),
                              atol=1e-5)
        eager_s = time_call(lambda: model(data.x, data.edge_index))
        compiled_s = time_call(lambda: compiled(data.x, data.edge_index))
    print(f"inference: eager {eager_s * 1e3:.2f} ms, gfx.compile(backend='{compiled.backend}') "
          f"{compiled_s * 1e3:.2f} ms (x{eager_s / compiled_s:.2f}); outputs equal: {same}")
    return result
