"""The heterogeneous part of ``make demo``: a GraphSAGE model made heterogeneous with
``to_hetero``, trained on the embedded synthetic paper/author graph."""
from __future__ import annotations

import time
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from tqdm import tqdm

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


def run_hetero_demo(epochs: int = 60, seed: int = 0,
                    progress: Optional[bool] = None) -> Dict[str, Dict[str, float]]:
    """Convert GraphSAGE with ``to_hetero``, train it, print per-type accuracy and the
    training, compilation and inference times, each measured on its own.

    Returns the final accuracies, ``{node_type: {"train"|"val"|"test": float}}``.

    Args:
        epochs (int, optional): training epochs. (default: ``60``)
        seed (int, optional): the seed of the data and the model. (default: ``0``)
        progress (bool, optional): draw a progress bar; ``None`` draws one only when
            stderr is a terminal. (default: ``None``)
    """
    import gfx
    from gfx.demo import on_terminal, time_call
    from gfx.nn import GraphSAGE
    from gfx.passes.to_hetero import to_hetero

    torch.manual_seed(seed)
    data = labelled_graph(seed)
    num_classes = int(data["paper"].y.max()) + 1
    homogeneous = GraphSAGE((-1, -1), 32, num_layers=2, out_channels=num_classes, dropout=0.2)
    model = to_hetero(homogeneous, data.metadata(), aggr="sum")
    print(f"gfx hetero demo: to_hetero(GraphSAGE) on {SyntheticHeteroDataset.__name__}"
          f" ({', '.join(f'{t}: {data[t].num_nodes}' for t in data.node_types)} nodes; "
          f"{len(data.edge_types)} edge types)")
    x, edge_index = data.x_dict, data.edge_index_dict
    model(x, edge_index)  # materialise the lazy (-1) input sizes, one per node type
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    show = on_terminal() if progress is None else progress
    bar = tqdm(range(epochs), desc="train (hetero)", unit="epoch", disable=not show,
               leave=False)
    start = time.perf_counter()
    for _ in bar:
        model.train()
        optimizer.zero_grad()
        out = model(x, edge_index)
        loss = sum(F.cross_entropy(out[t][data[t].train_mask], data[t].y[data[t].train_mask])
                   for t in ("paper", "author"))
        loss.backward()
        optimizer.step()
        bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
    train_s = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        out = model(x, edge_index)
        compiled = gfx.compile(model).eval()
        start = time.perf_counter()
        first = compiled(x, edge_index)
        compile_s = time.perf_counter() - start
        same = all(torch.allclose(first[t], out[t], atol=1e-5) for t in out)
        eager_s = time_call(lambda: model(x, edge_index))
        compiled_s = time_call(lambda: compiled(x, edge_index))
    result = accuracies(out, data)
    print(f"trained {epochs} epochs (eager) in {train_s:.2f} s; "
          f"{sum(p.numel() for p in model.parameters())} parameters")
    for node_type, acc in result.items():
        print(f"  {node_type:>7}: train {acc['train']:.3f}  val {acc['val']:.3f}  "
              f"test {acc['test']:.3f}")
    print(f"compilation (first call): {compile_s:.2f} s; inference, median of 10: eager "
          f"{eager_s * 1e3:.2f} ms, compiled (backend='{compiled.backend}') "
          f"{compiled_s * 1e3:.2f} ms; outputs equal: {same}")
    return result
