"""The demo job behind ``make demo``: train a 2-layer GCN on embedded data.

Also the small, reusable training loop used by the Cora accuracy test, and
:func:`compact_table`, the fused graph without its ``getattr``/``getitem`` plumbing.
"""
from __future__ import annotations

import operator
import os
import sys
import time
from dataclasses import dataclass
from typing import Dict, Optional

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


def on_terminal() -> bool:
    """Whether stderr is a terminal: progress bars are drawn only there."""
    return sys.stderr.isatty()


def train_node_classifier(model: torch.nn.Module, data, epochs: int = 200, lr: float = 0.01,
                          weight_decay: float = 5e-4, progress: Optional[bool] = None
                          ) -> NodeClassificationResult:
    """Full-batch training with Adam and cross-entropy on ``data.train_mask``.

    Returns the accuracies of the final model (no early stopping), as in the GCN paper's
    protocol of a fixed number of epochs.

    Args:
        model (torch.nn.Module): called as ``model(data.x, data.edge_index)``.
        data (Data): node features, edges, labels and the three split masks.
        epochs (int, optional): training epochs. (default: ``200``)
        lr (float, optional): Adam's learning rate. (default: ``0.01``)
        weight_decay (float, optional): Adam's weight decay. (default: ``5e-4``)
        progress (bool, optional): draw a progress bar; ``None`` draws one only when
            stderr is a terminal. (default: ``None``)
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    show = on_terminal() if progress is None else progress
    bar = tqdm(range(epochs), desc="train", unit="epoch", disable=not show, leave=False)
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


def _is_plumbing(node) -> bool:
    return node.op == "call_function" and node.target in (operator.getitem, getattr)


def compact_table(gm) -> str:
    """``gm``'s node table with ``getattr``/``getitem`` plumbing folded into its users.

    A folded node disappears from the rows and its users name it as an expression:
    ``gcn_norm[0]`` for ``getitem(gcn_norm, 0)``, ``x.shape`` for ``getattr(x, "shape")``.
    Columns: node, op, inputs, level and (when known) shape.
    """
    from gfx import render
    alias: Dict[str, str] = {}

    def name(arg) -> str:
        return alias.get(arg.name, arg.name) if isinstance(arg, torch.fx.Node) else repr(arg)

    rows = []
    for node in gm.graph.nodes:
        if _is_plumbing(node):
            base, key = node.args[0], node.args[1]
            alias[node.name] = (f"{name(base)}.{key}" if node.target is getattr
                                else f"{name(base)}[{key!r}]")
            continue
        row = render.node_row(node, gm)
        inputs = [name(a) for a in dict.fromkeys(node.all_input_nodes)]
        text = ", ".join(inputs)
        row["inputs"] = text if len(text) <= 60 else text[:57] + "..."
        rows.append(row)
    columns = ("node", "op", "inputs", "level") + (
        ("shape",) if render.has_shapes(gm) else ())
    return render.format_table(rows, columns)


def _fused_ops(gm) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for node in gm.graph.nodes:
        target = str(node.target)
        if node.op == "call_function" and "fused" in target:
            key = target.split(".")[-2] if target.count(".") >= 2 else target
            counts[key] = counts.get(key, 0) + 1
    return counts


def _write_graph(gm, out_dir: str, stem: str, title: str) -> str:
    """SVG of ``gm`` under ``out_dir`` (DOT text when Graphviz is missing); the path."""
    from gfx import render
    from gfx.inspect import InspectError, write_svg
    dot_text = render.to_dot(gm, title)
    svg = os.path.join(out_dir, f"{stem}.svg")
    try:
        write_svg(dot_text, svg)
        return svg
    except InspectError:
        dot = os.path.join(out_dir, f"{stem}.dot")
        with open(dot, "w", encoding="utf-8") as f:
            f.write(dot_text)
        return dot + " (Graphviz's dot is not installed: DOT text instead of SVG)"


def run_demo(out_dir: str = os.path.join("out", "demo"), epochs: int = 200,
             progress: Optional[bool] = None) -> NodeClassificationResult:
    """Train, compile, show the fused graph, and time training, compilation and inference.

    Args:
        out_dir (str, optional): folder for the graph drawing (created when missing).
            (default: ``"out/demo"``)
        epochs (int, optional): training epochs. (default: ``200``)
        progress (bool, optional): draw a progress bar; ``None`` draws one only on a
            terminal. (default: ``None``)
    """
    import gfx
    from gfx.data import SyntheticNodeDataset
    from gfx.inspect import propagate_shapes

    torch.manual_seed(0)
    dataset = SyntheticNodeDataset()
    data = dataset[0]
    print(f"gfx demo: 2-layer GCN on {type(dataset).__name__} "
          f"({data.num_nodes} nodes, {data.num_edges} edges, {dataset.num_features} features, "
          f"{dataset.num_classes} classes)")
    model = TwoLayerGCN(dataset.num_features, 16, dataset.num_classes)
    start = time.perf_counter()
    result = train_node_classifier(model, data, epochs=epochs, progress=progress)
    train_s = time.perf_counter() - start
    print(f"trained {epochs} epochs (eager) in {train_s:.2f} s; accuracy: train "
          f"{result.train_acc:.3f}  val {result.val_acc:.3f}  test {result.test_acc:.3f}")

    model.eval()
    x, edge_index = data.x, data.edge_index
    compiled = gfx.compile(model).eval()
    with torch.no_grad():
        start = time.perf_counter()
        first = compiled(x, edge_index)  # capture, lower, fuse, build the kernels
        compile_s = time.perf_counter() - start
        same = torch.allclose(first, model(x, edge_index), atol=1e-5)
        eager_s = time_call(lambda: model(x, edge_index))
        compiled_s = time_call(lambda: compiled(x, edge_index))
        gm = propagate_shapes(compiled.graph_module(x, edge_index), (x, edge_index))
    fused = _fused_ops(gm)
    print(f"\nfused graph (gfx.compile(backend='{compiled.backend}'), getattr/getitem "
          f"folded; fused nodes: "
          f"{', '.join(f'{k} x{v}' for k, v in fused.items()) or 'none'}):")
    print(compact_table(gm))
    os.makedirs(out_dir, exist_ok=True)
    print(f"graph drawn to {_write_graph(gm, out_dir, 'demo-gcn', 'TwoLayerGCN (fused)')}")
    print(f"\ncompilation (first call: capture, lower, fuse, build kernels): {compile_s:.2f} s")
    print(f"inference, median of 10: eager {eager_s * 1e3:.2f} ms, compiled "
          f"{compiled_s * 1e3:.2f} ms (x{eager_s / compiled_s:.2f}); outputs equal: {same}")
    print(f"output files are in {os.path.abspath(out_dir)}")
    return result
