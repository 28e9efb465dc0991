"""``TUDataset``: graph classification sets in the TU Dortmund text format, read from disk.

# NOTE [TU format]
For a dataset ``NAME`` the folder ``root/NAME/raw`` holds comma-separated text files,
one row per item, ids counted from 1:

* ``NAME_A.txt``: one edge ``u, v`` per line (global node ids);
* ``NAME_graph_indicator.txt``: the graph of every node;
* ``NAME_graph_labels.txt`` (class per graph) or ``NAME_graph_attributes.txt``
  (regression targets);
* optional ``NAME_node_labels.txt``, ``NAME_node_attributes.txt``,
  ``NAME_edge_labels.txt``, ``NAME_edge_attributes.txt``.

Node features are ``[continuous attributes | one-hot node labels]`` (each label column
one-hot encoded after shifting it to start at 0); edge features likewise. Self-loops
are removed and edges sorted and de-duplicated per graph. Graph class labels are
renumbered ``0..C-1`` in sorted order.
"""
from __future__ import annotations

import os
from typing import Callable, List, Optional

import torch
from torch import Tensor

from ...utils import coalesce, one_hot, remove_self_loops
from ..data import Data
from .base import InMemoryDataset

_OPTIONAL = ("node_labels", "node_attributes", "edge_labels", "edge_attributes",
             "graph_labels", "graph_attributes")


def _read(path: str, dtype: torch.dtype) -> Tensor:
    with open(path) as handle:
        rows = [line.strip() for line in handle if line.strip()]
    values = [[float(v) for v in row.replace(",", " ").split()] for row in rows]
    out = torch.tensor(values, dtype=torch.float64)
    if out.dim() == 1:  # no rows
        out = out.view(0, 1)
    return out.to(dtype)


def _one_hot_columns(labels: Tensor) -> Tensor:
    labels = labels - labels.min(dim=0).values
    return torch.cat([one_hot(column, int(column.max()) + 1) for column in labels.t()], dim=-1)


class TUDataset(InMemoryDataset):
    """A graph classification dataset in the TU Dortmund format (NOTE [TU format]).

    Nothing is downloaded: the raw text files must already lie in ``root/name/raw``
    (``root/name_cleaned/raw`` with ``cleaned``); they are processed once into
    ``processed/data.pt`` and read back with ``weights_only`` loading.

    Args:
        root (str): folder that holds the ``name`` folder.
        name (str): the dataset name, the prefix of its files (e.g. ``"MUTAG"``).
        transform (callable, optional): applied on access. (default: ``None``)
        pre_transform (callable, optional): applied before saving. (default: ``None``)
        pre_filter (callable, optional): keeps the graphs it accepts. (default: ``None``)
        force_reload (bool, optional): process again. (default: ``False``)
        use_node_attr (bool, optional): keep the continuous node attributes in ``x``.
            (default: ``False``)
        use_edge_attr (bool, optional): keep the continuous edge attributes in
            ``edge_attr``. (default: ``False``)
        cleaned (bool, optional): use the ``name_cleaned`` folder. (default: ``False``)
    """

    def __init__(self, root: str, name: str, transform: Optional[Callable] = None,
                 pre_transform: Optional[Callable] = None,
                 pre_filter: Optional[Callable] = None, force_reload: bool = False,
                 use_node_attr: bool = False, use_edge_attr: bool = False,
                 cleaned: bool = False):
        self.name = name
        self.cleaned = cleaned
        super().__init__(os.path.join(root, name + ("_cleaned" if cleaned else "")),
                         transform, pre_transform, pre_filter, force_reload=force_reload)
        self.load(self.processed_paths[0])
        sizes = torch.load(self.processed_paths[1], weights_only=True)
        self._num_node_attributes = int(sizes["node_attributes"])
        self._num_edge_attributes = int(sizes["edge_attributes"])
        if not use_node_attr and self._num_node_attributes:
            for graph in self._data_list:
                graph.x = graph.x[:, self._num_node_attributes:]
        if not use_edge_attr and self._num_edge_attributes:
            for graph in self._data_list:
                kept = graph.edge_attr[:, self._num_edge_attributes:]
                graph.edge_attr = kept if kept.size(1) > 0 else None

    @property
    def raw_file_names(self) -> List[str]:
        return [f"{self.name}_A.txt", f"{self.name}_graph_indicator.txt"]

    @property
    def processed_file_names(self) -> List[str]:
        return ["data.pt", "sizes.pt"]

    def download(self) -> None:
        raise FileNotFoundError(
            f"TUDataset: {self.raw_paths} not found; gfx does not download, put the TU "
            f"files of {self.name!r} (NAME_A.txt, NAME_graph_indicator.txt, ...) in "
            f"{self.raw_dir}")

    def _optional(self, kind: str, dtype: torch.dtype) -> Optional[Tensor]:
        path = os.path.join(self.raw_dir, f"{self.name}_{kind}.txt")
        return _read(path, dtype) if os.path.exists(path) else None

    def process(self) -> None:
        edge_index = _read(self.raw_paths[0], torch.long).t() - 1
        graph = _read(self.raw_paths[1], torch.long).view(-1) - 1
        raw = {kind: self._optional(kind, torch.long if "labels" in kind else torch.float)
               for kind in _OPTIONAL}
        node_parts = [p for p in (raw["node_attributes"],) if p is not None]
        if raw["node_labels"] is not None:
            node_parts.append(_one_hot_columns(raw["node_labels"]))
        edge_parts = [p for p in (raw["edge_attributes"],) if p is not None]
        if raw["edge_labels"] is not None:
            edge_parts.append(_one_hot_columns(raw["edge_labels"]))
        x = torch.cat(node_parts, dim=-1) if node_parts else None
        edge_attr = torch.cat(edge_parts, dim=-1) if edge_parts else None
        if raw["graph_attributes"] is not None:
            y = raw["graph_attributes"].view(-1) if raw["graph_attributes"].size(1) == 1 \
                else raw["graph_attributes"]
        elif raw["graph_labels"] is not None:
            y = raw["graph_labels"].view(-1).unique(sorted=True, return_inverse=True)[1]
        else:
            y = None
        data_list = self._split(edge_index, graph, x, edge_attr, y)
        if self.pre_filter is not None:
            data_list = [d for d in data_list if self.pre_filter(d)]
        if self.pre_transform is not None:
            data_list = [self.pre_transform(d) for d in data_list]
        self.save(data_list, self.processed_paths[0])
        torch.save({"node_attributes": 0 if raw["node_attributes"] is None
                    else raw["node_attributes"].size(1),
                    "edge_attributes": 0 if raw["edge_attributes"] is None
                    else raw["edge_attributes"].size(1)}, self.processed_paths[1])

    @staticmethod
    def _split(edge_index: Tensor, graph: Tensor, x: Optional[Tensor],
               edge_attr: Optional[Tensor], y: Optional[Tensor]) -> List[Data]:
        num_graphs = int(graph.max()) + 1 if graph.numel() else 0
        sizes = torch.bincount(graph, minlength=num_graphs)
        starts = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])
        edge_graph = graph[edge_index[0]]
        if edge_graph.numel() and not torch.equal(edge_graph, graph[edge_index[1]]):
            raise ValueError("TUDataset: an edge joins nodes of two different graphs")
        out = []
        for g in range(num_graphs):
            mask = edge_graph == g
            local = edge_index[:, mask] - starts[g]
            attr = edge_attr[mask] if edge_attr is not None else None
            local, attr = remove_self_loops(local, attr)
            n = int(sizes[g])
            if attr is not None:
                local, attr = coalesce(local, attr, n)
            else:
                local = coalesce(local, num_nodes=n)
            data = Data(edge_index=local, edge_attr=attr)
            if x is not None:
                data.x = x[int(starts[g]):int(starts[g]) + n]
            else:
                data.num_nodes = n
            if y is not None:
                data.y = y[g:g + 1]
            out.append(data)
        return out

    @property
    def num_node_attributes(self) -> int:
        """Width of the continuous node attributes in the raw files."""
        return self._num_node_attributes

    @property
    def num_edge_attributes(self) -> int:
        return self._num_edge_attributes

    def __repr__(self) -> str:
        return f"{self.name}({self.len()})"
