"""Random train / validation / test node masks."""
from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.data.hetero_data import HeteroData

from .base_transform import BaseTransform

SPLITS = ("train_rest", "test_rest", "random")


def _count(value: Union[int, float], total: int) -> int:
    return round(total * value) if isinstance(value, float) else int(value)


class RandomNodeSplit(BaseTransform):
    """Add ``train_mask``, ``val_mask`` and ``test_mask`` chosen at random.

    * ``"train_rest"``: ``num_val`` validation and ``num_test`` test nodes at random,
      every other node trains;
    * ``"test_rest"``: ``num_train_per_class`` training nodes per class, ``num_val``
      validation nodes among the rest, every other node tests;
    * ``"random"``: like ``"test_rest"`` but exactly ``num_test`` test nodes.

    Float counts are fractions of the node count. With ``num_splits > 1`` the masks have
    shape ``[N, num_splits]``, one independent split per column. torch's global RNG is
    used, so ``torch.manual_seed`` makes it repeatable.

    Args:
        split (str, optional): ``"train_rest"``, ``"test_rest"`` or ``"random"``.
            (default: ``"train_rest"``)
        num_splits (int, optional): independent splits. (default: ``1``)
        num_train_per_class (int, optional): training nodes per class.
            (default: ``20``)
        num_val (int or float, optional): validation nodes. (default: ``500``)
        num_test (int or float, optional): test nodes. (default: ``1000``)
        key (str, optional): the class attribute. (default: ``"y"``)
    """

    def __init__(self, split: str = "train_rest", num_splits: int = 1,
                 num_train_per_class: int = 20, num_val: Union[int, float] = 500,
                 num_test: Union[int, float] = 1000, key: Optional[str] = "y"):
        if split not in SPLITS:
            raise ValueError(f"RandomNodeSplit: 'split' must be one of {SPLITS}, got "
                             f"{split!r}")
        self.split = split
        self.num_splits = num_splits
        self.num_train_per_class = num_train_per_class
        self.num_val = num_val
        self.num_test = num_test
        self.key = key

    def forward(self, data: Any) -> Any:
        for store in data.node_stores:
            if self.key is not None and self.key not in store:
                if isinstance(data, HeteroData):
                    continue
                if self.split != "train_rest":
                    raise ValueError(f"RandomNodeSplit: split {self.split!r} needs class "
                                     f"labels in '{self.key}'")
            masks = [self._one_split(store) for _ in range(self.num_splits)]
            for name, parts in zip(("train_mask", "val_mask", "test_mask"), zip(*masks)):
                store[name] = torch.stack(parts, dim=-1) if self.num_splits > 1 else parts[0]
        return data

    def _one_split(self, store) -> Tuple[Tensor, Tensor, Tensor]:
        n = store.num_nodes
        if n is None:
            raise ValueError("RandomNodeSplit: a node store has no known node count")
        train = torch.zeros(n, dtype=torch.bool)
        val = torch.zeros(n, dtype=torch.bool)
        test = torch.zeros(n, dtype=torch.bool)
        num_val, num_test = _count(self.num_val, n), _count(self.num_test, n)
        if num_val + num_test > n and self.split == "train_rest":
            raise ValueError(f"RandomNodeSplit: 'num_val' + 'num_test' ({num_val} + "
                             f"{num_test}) exceed the {n} nodes")
        if self.split == "train_rest":
            perm = torch.randperm(n)
            val[perm[:num_val]] = True
            test[perm[num_val:num_val + num_test]] = True
            train[perm[num_val + num_test:]] = True
            return train, val, test
        y = store[self.key]
        num_classes = int(y.max()) + 1 if y.numel() else 0
        for c in range(num_classes):
            idx = (y == c).nonzero(as_tuple=False).view(-1)
            idx = idx[torch.randperm(idx.numel())[:self.num_train_per_class]]
            train[idx] = True
        rest = (~train).nonzero(as_tuple=False).view(-1)
        rest = rest[torch.randperm(rest.numel())]
        val[rest[:num_val]] = True
        if self.split == "test_rest":
            test[rest[num_val:]] = True
        else:
            test[rest[num_val:num_val + num_test]] = True
        return train, val, test

    def __repr__(self) -> str:
        return f"{type(self).__name__}(split={self.split})"
