"""The heterogeneous part of ``make demo``: a GraphSAGE model made heterogeneous with
``to_hetero``, trained on the embedded synthetic paper/author graph."""
from __future__ import annotations

import time
from typing import Dict

import torch
import torch.nn.functional as F

from gfx.data import SyntheticHeteroDataset
from gfx.data.hetero_data import HeteroData

FEATURES = {"paper": 32, "author": 16}


def labelled_graph(seed: int = 0) -> HeteroData:
    """The synthetic paper/author graph with class labels and splits on both node types.

    The dataset labels one node type (``target``); with the same seed and feature sizes
    the graph is the same whatever the target, so the author labels are taken from the
    dataset built with ``target="author"``.
    """
    data = SyntheticHeteroDataset(num_features=FEATURES, seed=seed)[0]
    other = SyntheticHeteroDataset(num_features=FEATURES, seed=seed, target="author")[0]
    same = all(torch.equal(data[t].x, other[t].x) for t in data.node_types) and all(
        torch.equal(data[e].edge_index, other[e].edge_index) for e in data.edge_types)
    if not same:
        raise RuntimeError("hetero demo: the two synthetic datasets describe different graphs")
    for key in ("y", "train_mask", "val_mask", "test_mask"):
        data["author"][key] = other["author"][key]
    return data


def accuracies(out: Dict[str, torch.Tensor], data: HeteroData) -> Dict[str, Dict[str, float]]:
    """``{node_type: {split: accuracy}}`` for every labelled node type."""
    result = {}
    for node_type in data.node_types:
        store = data[node_type]
        if "y" not in store:
            continue
        pred = out[node_type].argmax(-1)
        result[node_type] = {
            split: float((pred[store[f"{split}_mask"]] == store.y[store[f"{split}_mask"]])
                         .float().mean())
            for split in ("train", "val", "test")}
    return result


def run_hetero_demo(epochs: int = 60, seed: int = 0) -> Dict[str, Dict[str, float]]:
    """Convert GraphSAGE with ``to_hetero``, train it, print per-type accuracy.

    Returns the final accuracies, ``{node_type: {"train"|"val"|"test": float}}``.
    """
    import gfx
    from gfx.nn import GraphSAGE
    from gfx.passes.to_hetero import to_hetero

    torch.manual_seed(seed)
    data = labelled_graph(seed)
    num_classes = int(data["paper"].y.max()) + 1
    homogeneous = GraphSAGE((-1, -1), 32, num_layers=2, out_channels=num_classes, dropout=0.2)
    model = to_hetero(homogeneous, data.metadata(), aggr="sum")
    print(f"\ngfx hetero demo: to_hetero(GraphSAGE) on {SyntheticHeteroDataset.__name__}"
          f" ({', '.join(f'{t}: {data[t].num_nodes}' for t in data.node_types)} nodes; "
          f"{len(data.edge_types)} edge types)")
    x, edge_index = data.x_dict, data.edge_index_dict
    model(x, edge_index)  # materialise the lazy (-1) input sizes, one per node type
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        out = model(x, edge_index)
        loss = sum(F.cross_entropy(out[t][data[t].train_mask], data[t].y[data[t].train_mask])
                   for t in ("paper", "author"))
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model(x, edge_index)
        compiled = gfx.compile(model).eval()
        same = all(torch.allclose(compiled(x, edge_index)[t], out[t], atol=1e-5) for t in out)
    result = accuracies(out, data)
    print(f"trained {epochs} epochs in {time.perf_counter() - start:.1f} s; "
          f"{sum(p.numel() for p in model.parameters())} parameters")
    for node_type, acc in result.items():
        print(f"  {node_type:>7}: train {acc['train']:.3f}  val {acc['val']:.3f}  "
              f"test {acc['test']:.3f}")
    print(f"gfx.compile(hetero model) equals eager: {same}")
    return result
