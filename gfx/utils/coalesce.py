"""Sorting and de-duplicating ``edge_index`` (with its attributes)."""
from __future__ import annotations

from typing import List, Optional, Union

import torch
from torch import Tensor

from .num_nodes import MISSING, check_edge_index, maybe_num_nodes

EdgeAttr = Union[None, Tensor, List[Tensor]]
_REDUCE = {"sum": "sum", "add": "sum", "mean": "mean", "min": "amin", "max": "amax",
           "mul": "prod"}


def _edge_keys(edge_index: Tensor, num_nodes: int, sort_by_row: bool) -> Tensor:
    first, second = (edge_index[0], edge_index[1]) if sort_by_row else (edge_index[1],
                                                                         edge_index[0])
    return first.long() * max(num_nodes, 1) + second.long()


def _apply(edge_attr, func):
    if edge_attr is None or edge_attr is MISSING:
        return edge_attr
    if isinstance(edge_attr, (list, tuple)):
        return [func(value) for value in edge_attr]
    return func(edge_attr)


def _result(edge_index: Tensor, edge_attr):
    return edge_index if edge_attr is MISSING else (edge_index, edge_attr)


def sort_edge_index(edge_index: Tensor, edge_attr=MISSING, num_nodes: Optional[int] = None,
                    sort_by_row: bool = True):
    """Sort edges by ``(source, target)`` (or ``(target, source)``), stably.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor or list of Tensor, optional): per-edge values, permuted alike.
            When not passed at all, only ``edge_index`` is returned.
        num_nodes (int, optional): number of nodes. (default: ``None``)
        sort_by_row (bool, optional): sort by source first; by target first when
            ``False``. (default: ``True``)
    """
    check_edge_index("sort_edge_index", edge_index)
    n = maybe_num_nodes(edge_index, num_nodes)
    perm = _edge_keys(edge_index, n, sort_by_row).argsort(stable=True)
    return _result(edge_index[:, perm], _apply(edge_attr, lambda value: value[perm]))


def coalesce(edge_index: Tensor, edge_attr=MISSING, num_nodes: Optional[int] = None,
             reduce: str = "sum", is_sorted: bool = False, sort_by_row: bool = True):
    r"""Sort edges and merge duplicates, reducing their attributes.

    .. math::
        w'_{(u,v)} = \bigoplus_{e \,:\, e = (u, v)} w_e

    with :math:`\bigoplus` the ``reduce`` operation.

    Args:
        edge_index (Tensor): ``[2, E]`` connectivity.
        edge_attr (Tensor or list of Tensor, optional): per-edge values; when not passed
            at all, only ``edge_index`` is returned.
        num_nodes (int, optional): number of nodes. (default: ``None``)
        reduce (str, optional): ``"sum"`` (``"add"``), ``"mean"``, ``"min"``, ``"max"``
            or ``"mul"`` for the attributes of duplicates. (default: ``"sum"``)
        is_sorted (bool, optional): the edges are already sorted. (default: ``False``)
        sort_by_row (bool, optional): sort by source first. (default: ``True``)
    """
    check_edge_index("coalesce", edge_index)
    if reduce not in _REDUCE:
        raise ValueError(f"coalesce: 'reduce' must be one of {sorted(_REDUCE)}, got {reduce!r}")
    n = maybe_num_nodes(edge_index, num_nodes)
    keys = _edge_keys(edge_index, n, sort_by_row)
    if not is_sorted:
        perm = keys.argsort(stable=True)
        keys, edge_index = keys[perm], edge_index[:, perm]
        edge_attr = _apply(edge_attr, lambda value: value[perm])
    if keys.numel() == 0:
        return _result(edge_index, edge_attr)
    is_new = torch.ones_like(keys, dtype=torch.bool)
    is_new[1:] = keys[1:] != keys[:-1]
    if bool(is_new.all()):
        return _result(edge_index, edge_attr)
    group = is_new.long().cumsum(0) - 1
    num_groups = int(group[-1]) + 1

    def merge(value: Tensor) -> Tensor:
        out = value.new_zeros((num_groups,) + tuple(value.shape[1:]))
        index = group.view((-1,) + (1,) * (value.dim() - 1)).expand_as(value)
        return out.scatter_reduce(0, index, value, _REDUCE[reduce], include_self=False)

    return _result(edge_index[:, is_new], _apply(edge_attr, merge))
