"""Writing graphs to disk and reading them back without unpickling code.

# NOTE [safe dataset files]
A processed dataset file holds only plain containers: ``{"format": FORMAT, "graphs":
[...]}`` where each graph is ``{"kind": "data", "attrs": {...}}`` or ``{"kind": "hetero",
"global": {...}, "nodes": {type: {...}}, "edges": [[src, rel, dst, {...}], ...]}`` and
attribute values are tensors, numbers, strings, or lists / dicts of them. It is written
with ``torch.save`` and read with ``torch.load(weights_only=True)``, whose unpickler
rebuilds tensors and these containers only, so opening a file cannot run code.
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

import torch

from ..data import Data
from ..hetero_data import HeteroData

FORMAT = "gfx-graphs-1"


def _graph_to_plain(graph: Any, position: int) -> Dict[str, Any]:
    if isinstance(graph, HeteroData):
        return {"kind": "hetero", "global": graph._global_store.to_dict(),
                "nodes": {t: s.to_dict() for t, s in graph.node_items()},
                "edges": [[*t, s.to_dict()] for t, s in graph.edge_items()]}
    if isinstance(graph, Data):
        return {"kind": "data", "attrs": graph.to_dict()}
    raise TypeError(f"save: data_list[{position}] is a {type(graph).__name__}, expected a "
                    "gfx Data or HeteroData")


def _plain_to_graph(entry: Dict[str, Any]) -> Any:
    if entry["kind"] == "data":
        return Data(**entry["attrs"])
    out = HeteroData()
    for key, value in entry["global"].items():
        out[key] = value
    for node_type, attrs in entry["nodes"].items():
        for key, value in attrs.items():
            out[node_type][key] = value
    for src, rel, dst, attrs in entry["edges"]:
        for key, value in attrs.items():
            out[src, rel, dst][key] = value
    return out


def save_graphs(data_list: Sequence[Any], path: str) -> None:
    """Write ``data_list`` to ``path`` in the format of NOTE [safe dataset files]."""
    graphs = [_graph_to_plain(graph, i) for i, graph in enumerate(data_list)]
    torch.save({"format": FORMAT, "graphs": graphs}, path)


def load_graphs(path: str) -> List[Any]:
    """Read the graphs written by :func:`save_graphs` (``weights_only`` loading)."""
    try:
        payload = torch.load(path, weights_only=True)
    except Exception as error:  # the unpickler names what it refused
        raise ValueError(f"load: {path} is not a gfx dataset file, or holds objects other "
                         f"than tensors and plain containers ({error})") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"load: {path} is not a gfx dataset file (expected format "
                         f"{FORMAT!r}); write it with InMemoryDataset.save")
    return [_plain_to_graph(entry) for entry in payload["graphs"]]
