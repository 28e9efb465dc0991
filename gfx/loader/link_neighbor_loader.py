"""``LinkNeighborLoader``: mini-batches of supervision edges with the sampled
neighbourhoods of their end points."""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.data.data import Data
from gfx.data.hetero_data import HeteroData

from .neighbor_loader import NeighborSampler, NumNeighbors, _unsupported, build_subgraph

EdgeType = Tuple[str, str, str]


class NegativeSampling:
    """How many random negative links to add to each batch.

    Args:
        mode (str): ``"binary"`` (random node pairs labelled 0); the reference's
            ``"triplet"`` mode is not supported.
        amount (int or float, optional): negatives per positive. (default: ``1``)
    """

    def __init__(self, mode: str, amount: Union[int, float] = 1):
        if mode != "binary":
            raise ValueError(f"NegativeSampling: 'mode' {mode!r} is not supported by gfx "
                             "(only 'binary')")
        if amount <= 0:
            raise ValueError(f"NegativeSampling: 'amount' must be positive, got {amount}")
        self.mode = mode
        self.amount = amount

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mode={self.mode}, amount={self.amount})"


def _negative_sampling(neg_sampling: Any, ratio: Optional[float]) -> Optional[NegativeSampling]:
    if neg_sampling is None:
        return NegativeSampling("binary", ratio) if ratio else None
    if isinstance(neg_sampling, NegativeSampling):
        return neg_sampling
    if isinstance(neg_sampling, str):
        return NegativeSampling(neg_sampling)
    if isinstance(neg_sampling, dict):
        return NegativeSampling(**neg_sampling)
    if hasattr(neg_sampling, "mode"):  # the reference's NegativeSampling, duck typed
        return NegativeSampling(str(getattr(neg_sampling.mode, "value", neg_sampling.mode)),
                                neg_sampling.amount)
    raise TypeError(f"LinkNeighborLoader: 'neg_sampling' must be a NegativeSampling, a mode "
                    f"string or a dict, got {type(neg_sampling).__name__}")


class LinkNeighborLoader(torch.utils.data.DataLoader):
    """Batches of links ``edge_label_index`` with the sampled neighbourhoods of their
    end points (NOTE [neighbour sampling]).

    Every batch holds the sampled subgraph (as :class:`NeighborLoader` builds it) plus
    ``edge_label_index`` (the batch's links in local ids), ``edge_label`` and
    ``input_id`` (positions in ``edge_label_index``). With negative sampling, ``amount``
    times as many uniformly random node pairs follow the positives with label 0, and
    given positive labels are shifted by one so that 0 means negative.

    Args:
        data (Data or HeteroData): the graph.
        num_neighbors (list of int or dict): neighbours per hop (``-1``: all).
        edge_label_index (Tensor or EdgeType or (EdgeType, Tensor), optional): the
            links, ``[2, B]``; all edges (of the type) when omitted. (default: ``None``)
        edge_label (Tensor, optional): their labels; ones when omitted.
            (default: ``None``)
        edge_label_time (Tensor, optional): the time of each link, needed with
            ``time_attr``. (default: ``None``)
        replace (bool, optional): sample with replacement. (default: ``False``)
        subgraph_type (str, optional): see :class:`NeighborLoader`.
            (default: ``"directional"``)
        disjoint (bool, optional): one tree per link (its two ends share it); ``batch``
            gives each node's link. (default: ``False``)
        temporal_strategy (str, optional): ``"uniform"`` or ``"last"``.
            (default: ``"uniform"``)
        neg_sampling (NegativeSampling or str or dict, optional): negative links per
            batch. (default: ``None``)
        neg_sampling_ratio (float, optional): shorthand for binary negative sampling
            with this amount. (default: ``None``)
        time_attr (str, optional): node or edge attribute with times: a link's tree
            holds no neighbour later than the link (implies ``disjoint``).
            (default: ``None``)
        weight_attr (str, optional): edge attribute with sampling weights (see
            :class:`NeighborLoader`). (default: ``None``)
        transform (callable, optional): applied to every batch. (default: ``None``)
        transform_sampler_output (callable, optional): unsupported.
            (default: ``None``)
        is_sorted (bool, optional): accepted for compatibility. (default: ``False``)
        filter_per_worker (bool, optional): accepted for compatibility.
            (default: ``None``)
        neighbor_sampler (NeighborSampler, optional): reuse a sampler.
            (default: ``None``)
        directed (bool, optional): ``False`` means ``subgraph_type="induced"``.
            (default: ``True``)
        **kwargs: ``batch_size``, ``shuffle`` ... of ``torch.utils.data.DataLoader``.
    """

    def __init__(self, data: Any, num_neighbors: NumNeighbors, edge_label_index: Any = None,
                 edge_label: Optional[Tensor] = None, edge_label_time: Optional[Tensor] = None,
                 replace: bool = False, subgraph_type: str = "directional",
                 disjoint: bool = False, temporal_strategy: str = "uniform",
                 neg_sampling: Any = None, neg_sampling_ratio: Optional[float] = None,
                 time_attr: Optional[str] = None, weight_attr: Optional[str] = None,
                 transform: Optional[Callable] = None,
                 transform_sampler_output: Optional[Callable] = None, is_sorted: bool = False,
                 filter_per_worker: Optional[bool] = None,
                 neighbor_sampler: Optional[NeighborSampler] = None, directed: bool = True,
                 **kwargs):
        _unsupported("transform_sampler_output", transform_sampler_output, None)
        if not directed:
            subgraph_type = "induced"
        self.neighbor_sampler = neighbor_sampler or NeighborSampler(
            data, num_neighbors, replace, subgraph_type, weight_attr, disjoint, time_attr,
            temporal_strategy)
        if time_attr is not None and edge_label_time is None:
            raise ValueError("LinkNeighborLoader: temporal sampling ('time_attr') needs "
                             "'edge_label_time', the time of every link")
        self.edge_label_time = edge_label_time
        self.data = self.neighbor_sampler.data
        self.edge_type, self.edge_label_index = self._links(edge_label_index)
        if edge_label is not None and edge_label.size(0) != self.edge_label_index.size(1):
            raise ValueError(f"LinkNeighborLoader: 'edge_label' has {edge_label.size(0)} "
                             f"entries for {self.edge_label_index.size(1)} links")
        self.edge_label = edge_label
        self.neg_sampling = _negative_sampling(neg_sampling, neg_sampling_ratio)
        self.transform = transform
        kwargs.pop("collate_fn", None)
        super().__init__(range(self.edge_label_index.size(1)), collate_fn=self._collate,
                         **kwargs)

    def _links(self, edge_label_index: Any) -> Tuple[Optional[EdgeType], Tensor]:
        if isinstance(self.data, HeteroData):
            if isinstance(edge_label_index, tuple) and len(edge_label_index) == 3:
                edge_type, index = edge_label_index, None
            elif isinstance(edge_label_index, (tuple, list)) and len(edge_label_index) == 2:
                edge_type, index = tuple(edge_label_index[0]), edge_label_index[1]
            else:
                raise ValueError("LinkNeighborLoader: for a heterogeneous graph "
                                 "'edge_label_index' must be an edge type or (edge type, "
                                 "[2, B] tensor)")
            if index is None:
                index = self.data[edge_type].edge_index
            return edge_type, torch.as_tensor(index).long()
        if edge_label_index is None:
            edge_label_index = self.data.edge_index
        index = torch.as_tensor(edge_label_index).long()
        if index.dim() != 2 or index.size(0) != 2:
            raise ValueError(f"LinkNeighborLoader: 'edge_label_index' must have shape [2, B], "
                             f"got {tuple(index.shape)}")
        return None, index

    def _node_counts(self) -> Tuple[int, int]:
        counts = self.neighbor_sampler.num_nodes
        if self.edge_type is None:
            return counts[None], counts[None]
        return counts[self.edge_type[0]], counts[self.edge_type[-1]]

    def _collate(self, positions: List[int]) -> Union[Data, HeteroData]:
        input_id = torch.as_tensor(positions, dtype=torch.long)
        links = self.edge_label_index[:, input_id]
        label = (self.edge_label[input_id] if self.edge_label is not None
                 else torch.ones(input_id.numel()))
        if self.neg_sampling is not None:
            count = int(round(self.neg_sampling.amount * input_id.numel()))
            num_src, num_dst = self._node_counts()
            negatives = torch.stack([torch.randint(0, num_src, (count,)),
                                     torch.randint(0, num_dst, (count,))])
            links = torch.cat([links, negatives], dim=1)
            if self.edge_label is not None:
                label = label + 1
            label = torch.cat([label, label.new_zeros((count,) + tuple(label.shape[1:]))])
        src_t = None if self.edge_type is None else self.edge_type[0]
        dst_t = None if self.edge_type is None else self.edge_type[-1]
        if src_t == dst_t:
            seeds = {src_t: torch.cat([links[0], links[1]])}
        else:
            seeds = {src_t: links[0], dst_t: links[1]}
        sampler = self.neighbor_sampler
        tree = torch.arange(links.size(1))  # with disjoint: one tree per link
        trees = ({src_t: torch.cat([tree, tree])} if src_t == dst_t
                 else {src_t: tree, dst_t: tree})
        seed_time = None
        if sampler.time_attr is not None:
            seed_time = self.edge_label_time[input_id]
            if links.size(1) > input_id.numel():  # negatives take their positive's time
                seed_time = seed_time.repeat(-(-links.size(1) // input_id.numel()))[
                    :links.size(1)]
        out = sampler.sample(seeds, seed_time=seed_time, trees=trees)
        batch = build_subgraph(self.neighbor_sampler, out)
        if src_t == dst_t:
            row, col = out["seed_local"][src_t].view(2, -1)
        else:
            row, col = out["seed_local"][src_t], out["seed_local"][dst_t]
        store = batch if self.edge_type is None else batch[self.edge_type]
        store.edge_label_index = torch.stack([row, col])
        store.edge_label = label
        store.input_id = input_id
        return batch if self.transform is None else self.transform(batch)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
