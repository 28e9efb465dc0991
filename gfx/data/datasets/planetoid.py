"""``Planetoid``: the Cora, CiteSeer and PubMed citation graphs from their standard files."""
from __future__ import annotations

import os
from typing import Callable, Dict, List, Optional

import numpy as np
import scipy.sparse
import torch

from ..data import Data
from ._unpickle import restricted_load
from .base import InMemoryDataset

NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
PICKLED_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph")
SPLITS = ("public", "full", "random")


class Planetoid(InMemoryDataset):
    r"""A Planetoid citation graph (Cora, CiteSeer or PubMed) with its standard split.

    Reads the files ``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}`` of Yang,
    Cohen and Salakhutdinov (ICML 2016) from ``root`` (or ``root/<Name>/raw``), every
    pickle through a restricted unpickler (see NOTE [restricted unpickling]).

    * ``x``: dense float features, raw (pass a ``transform`` such as
      :class:`~gfx.data.NormalizeFeatures` to row-normalise them);
    * ``y``: class ids (the position of the 1 in the one-hot rows);
    * ``edge_index``: the adjacency lists of ``graph`` without self loops and
      duplicates, sorted (both directions are in the files);
    * test nodes sit at the positions listed in ``test.index``; where that range has
      gaps (CiteSeer has test nodes without features), the missing nodes get zero
      features and class 0, and appear in no mask.

    Splits: ``"public"`` trains on the first ``len(y)`` nodes (20 per class),
    validates on the next ``num_val`` (500) and tests on the nodes of ``test.index``;
    ``"full"`` keeps the public validation and test nodes and trains on all others;
    ``"random"`` draws ``num_train_per_class`` training nodes per class, then
    ``num_val`` validation and ``num_test`` test nodes from the rest, from ``seed``.

    Args:
        root (str): folder holding the ``ind.<name>.*`` files.
        name (str): ``"Cora"``, ``"CiteSeer"`` or ``"PubMed"`` (any case).
        split (str, optional): ``"public"``, ``"full"`` or ``"random"``.
            (default: :obj:`"public"`)
        num_train_per_class (int, optional): training nodes per class for the
            random split. (default: :obj:`20`)
        num_val (int, optional): validation nodes. (default: :obj:`500`)
        num_test (int, optional): test nodes of the random split. (default: :obj:`1000`)
        transform (callable, optional): applied to the graph on every access.
            (default: :obj:`None`)
        pre_transform (callable, optional): applied once, after loading.
            (default: :obj:`None`)
        seed (int, optional): seed of the random split. (default: :obj:`0`)
    """

    def __init__(self, root: str, name: str, split: str = "public",
                 num_train_per_class: int = 20, num_val: int = 500, num_test: int = 1000,
                 transform: Optional[Callable] = None,
                 pre_transform: Optional[Callable] = None, seed: int = 0):
        key = str(name).lower()
        if key not in NAMES:
            raise ValueError(f"Planetoid: unknown 'name' {name!r}; expected one of "
                             f"{sorted(NAMES.values())}")
        if split not in SPLITS:
            raise ValueError(f"Planetoid: unknown 'split' {split!r}; expected one of {SPLITS}")
        self.root, self.name, self.split = root, NAMES[key], split
        data, test_index, num_labelled, self._num_classes = read_planetoid(
            find_raw_folder(root, key), key)
        train, val, test = _split_masks(data, split, test_index, num_labelled,
                                        num_train_per_class, num_val, num_test,
                                        self._num_classes, seed)
        data.train_mask, data.val_mask, data.test_mask = train, val, test
        if pre_transform is not None:
            data = pre_transform(data)
        super().__init__([data], transform)

    @property
    def num_classes(self) -> int:
        return self._num_classes

    def __repr__(self) -> str:
        return f"{self.name}()"


def find_raw_folder(root: str, key: str) -> str:
    """The first of ``root``, ``root/<Name>/raw``, ``root/<name>/raw``, ``root/raw`` that
    holds ``ind.<name>.x`` (``root`` if none does, so the error names it)."""
    candidates = [root, os.path.join(root, NAMES[key], "raw"),
                  os.path.join(root, key, "raw"), os.path.join(root, "raw")]
    for folder in candidates:
        if os.path.isfile(os.path.join(folder, f"ind.{key}.x")):
            return folder
    return root


def _open_part(folder: str, key: str, part: str):
    path = os.path.join(folder, f"ind.{key}.{part}")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Planetoid: missing file '{path}'; {NAMES[key]} needs the files "
            f"ind.{key}.{{x,tx,allx,y,ty,ally,graph,test.index}} in '{folder}' "
            f"(or in '{os.path.join(folder, NAMES[key], 'raw')}')")
    return open(path, "rb")


def _read_test_index(folder: str, key: str) -> np.ndarray:
    with _open_part(folder, key, "test.index") as handle:
        lines = handle.read().decode("ascii").splitlines()
    values = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            values.append(int(line))
        except ValueError:
            raise ValueError(f"Planetoid: line {number} of ind.{key}.test.index is not "
                             f"an integer: {line!r}") from None
    return np.asarray(values, dtype=np.int64)


def _dense(matrix) -> np.ndarray:
    if scipy.sparse.issparse(matrix):
        return np.asarray(matrix.todense())
    return np.asarray(matrix)


def read_planetoid(folder: str, key: str):
    """Build the graph of one Planetoid dataset from its files.

    Returns the :class:`~gfx.data.Data` (``x``, ``edge_index``, ``y``), the sorted test
    node ids, the number of labelled training nodes ``len(y)`` and the class count.
    """
    parts: Dict[str, object] = {}
    for part in PICKLED_PARTS:
        with _open_part(folder, key, part) as handle:
            parts[part] = restricted_load(handle)
    test_index = _read_test_index(folder, key)
    allx, tx = _dense(parts["allx"]), _dense(parts["tx"])
    ally, ty = _dense(parts["ally"]), _dense(parts["ty"])
    sorted_test = np.sort(test_index)
    span = int(sorted_test[-1] - sorted_test[0]) + 1
    if span > tx.shape[0]:  # test nodes without features: pad with zero rows
        positions = sorted_test - sorted_test[0]
        tx_full = np.zeros((span, tx.shape[1]), dtype=tx.dtype)
        ty_full = np.zeros((span, ty.shape[1]), dtype=ty.dtype)
        tx_full[positions], ty_full[positions] = tx, ty
        tx, ty = tx_full, ty_full
    features = np.concatenate([allx, tx]).astype(np.float32)
    onehot = np.concatenate([ally, ty])
    # Row i of tx belongs to node test_index[i]; tx was laid out in sorted order.
    features[test_index] = features[sorted_test]
    onehot[test_index] = onehot[sorted_test]
    num_nodes = features.shape[0]
    edge_index = _edges_from_adjacency(parts["graph"], num_nodes, key)
    data = Data(x=torch.from_numpy(features), edge_index=edge_index,
                y=torch.from_numpy(onehot.argmax(1)).long())
    return data, torch.from_numpy(sorted_test), len(_dense(parts["y"])), onehot.shape[1]


def _edges_from_adjacency(graph, num_nodes: int, key: str) -> torch.Tensor:
    if not isinstance(graph, dict):
        raise ValueError(f"Planetoid: ind.{key}.graph must hold a dict of adjacency lists, "
                         f"got {type(graph).__name__}")
    rows: List[int] = []
    cols: List[int] = []
    for node, neighbours in graph.items():
        rows += [int(node)] * len(neighbours)
        cols += [int(n) for n in neighbours]
    edges = torch.tensor([rows, cols], dtype=torch.long).view(2, -1)
    if edges.numel() and (int(edges.min()) < 0 or int(edges.max()) >= num_nodes):
        raise ValueError(f"Planetoid: ind.{key}.graph refers to node {int(edges.max())} but "
                         f"the features describe {num_nodes} nodes")
    edges = edges[:, edges[0] != edges[1]]
    codes = torch.unique(edges[0] * num_nodes + edges[1])
    return torch.stack([codes // num_nodes, codes % num_nodes])


def _mask(num_nodes: int, index) -> torch.Tensor:
    mask = torch.zeros(num_nodes, dtype=torch.bool)
    mask[torch.as_tensor(index, dtype=torch.long)] = True
    return mask


def _split_masks(data: Data, split: str, test_index: torch.Tensor, num_labelled: int,
                 num_train_per_class: int, num_val: int, num_test: int, num_classes: int,
                 seed: int):
    """Train/val/test boolean masks of one of the splits (see :class:`Planetoid`)."""
    num_nodes = data.num_nodes
    if split in ("public", "full"):
        val = _mask(num_nodes, range(num_labelled, num_labelled + num_val))
        test = _mask(num_nodes, test_index)
        train = (~(val | test) if split == "full"
                 else _mask(num_nodes, range(num_labelled)))
        return train, val, test
    generator = torch.Generator().manual_seed(seed)
    train = torch.zeros(num_nodes, dtype=torch.bool)
    for label in range(num_classes):
        members = (data.y == label).nonzero().view(-1)
        chosen = members[torch.randperm(members.numel(), generator=generator)]
        train[chosen[:num_train_per_class]] = True
    rest = (~train).nonzero().view(-1)
    rest = rest[torch.randperm(rest.numel(), generator=generator)]
    val = _mask(num_nodes, rest[:num_val])
    test = _mask(num_nodes, rest[num_val:num_val + num_test])
    return train, val, test
