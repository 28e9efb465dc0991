"""``MetaPath2Vec``: skip-gram embeddings from meta-path guided walks on a heterogeneous
graph (Dong et al., KDD 2017)."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Embedding
from torch.utils.data import DataLoader

from gfx.nn.models._logistic_regression import probe_accuracy
from gfx.nn.models._random_walk import sample_neighbors, to_csr
from gfx.nn.models.node2vec import context_windows, skip_gram_loss

EdgeType = Tuple[str, str, str]


class MetaPath2Vec(torch.nn.Module):
    """The MetaPath2Vec model of "metapath2vec: Scalable Representation Learning for
    Heterogeneous Networks".

    A walk starts at a node of type ``metapath[0][0]`` and its step :math:`i` follows a
    uniformly random edge of type ``metapath[i % len(metapath)]``.  A walker that reaches
    a node without such an edge stops: its remaining positions hold a dummy node (the
    last row of the embedding table).  Windows of ``context_size`` nodes are positive
    samples; negative windows follow the same node types with uniformly random nodes.
    The loss is the skip-gram loss of :class:`~gfx.nn.Node2Vec`.  All node types of the
    meta-path share one table, in sorted type order.

    Args:
        edge_index_dict (Dict[Tuple[str, str, str], Tensor]): ``[2, E]`` edges per edge
            type ``(src_type, rel_type, dst_type)``.
        embedding_dim (int): the embedding size.
        metapath (List[Tuple[str, str, str]]): the edge types to follow, in order.
        walk_length (int): steps per walk.
        context_size (int): window size, from 2 to ``walk_length + 1`` (the reference
            library accepts 1 and returns a NaN loss).
        walks_per_node (int, optional): walks per start node. (default: ``1``)
        num_negative_samples (int, optional): negative windows per positive window.
            (default: ``1``)
        num_nodes_dict (Dict[str, int], optional): nodes per type; inferred from the
            edges when ``None``. (default: ``None``)
        sparse (bool, optional): sparse gradients for the embedding table.
            (default: ``False``)
    """

    def __init__(self, edge_index_dict: Dict[EdgeType, Tensor], embedding_dim: int,
                 metapath: List[EdgeType], walk_length: int, context_size: int,
                 walks_per_node: int = 1, num_negative_samples: int = 1,
                 num_nodes_dict: Optional[Dict[str, int]] = None, sparse: bool = False):
        super().__init__()
        if walk_length + 1 < context_size or context_size < 2:
            raise ValueError(f"MetaPath2Vec: 'context_size' must be in [2, walk_length + 1 "
                             f"= {walk_length + 1}] (a window is a centre and its context), "
                             f"got {context_size}")
        if not metapath:
            raise ValueError("MetaPath2Vec: 'metapath' must hold at least one edge type")
        for prev, nxt in zip(metapath[:-1], metapath[1:]):
            if prev[-1] != nxt[0]:
                raise ValueError(f"MetaPath2Vec: 'metapath' is not a path: {prev} ends at "
                                 f"'{prev[-1]}' but {nxt} starts at '{nxt[0]}'")
        if walk_length > len(metapath) and metapath[0][0] != metapath[-1][-1]:
            raise ValueError("MetaPath2Vec: 'walk_length' is longer than the 'metapath', "
                             "but the 'metapath' is not a cycle")
        missing = [key for key in metapath if key not in edge_index_dict]
        if missing:
            raise ValueError(f"MetaPath2Vec: the 'metapath' edge types {missing} are not "
                             f"in 'edge_index_dict'")
        if num_nodes_dict is None:
            num_nodes_dict = {}
            for (src, _, dst), edge_index in edge_index_dict.items():
                for node_type, row in ((src, 0), (dst, 1)):
                    size = int(edge_index[row].max()) + 1 if edge_index.numel() else 0
                    num_nodes_dict[node_type] = max(size, num_nodes_dict.get(node_type, 0))
        self.num_nodes_dict = num_nodes_dict
        self.csr_dict = {key: to_csr(edge_index_dict[key].cpu(), num_nodes_dict[key[0]],
                                     num_nodes_dict[key[-1]]) for key in set(metapath)}
        self.embedding_dim = embedding_dim
        self.metapath = metapath
        self.walk_length = walk_length
        self.context_size = context_size
        self.walks_per_node = walks_per_node
        self.num_negative_samples = num_negative_samples

        types = sorted({x[0] for x in metapath} | {x[-1] for x in metapath})
        count = 0
        self.start: Dict[str, int] = {}
        self.end: Dict[str, int] = {}
        for node_type in types:
            self.start[node_type] = count
            count += num_nodes_dict[node_type]
            self.end[node_type] = count
        self.dummy_idx = count
        offset = [self.start[metapath[0][0]]]
        offset += [self.start[metapath[i % len(metapath)][-1]] for i in range(walk_length)]
        self.offset = torch.tensor(offset)
        self.embedding = Embedding(count + 1, embedding_dim, sparse=sparse)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Standard-normal embeddings."""
        self.embedding.reset_parameters()

    def forward(self, node_type: str, batch: Optional[Tensor] = None) -> Tensor:
        """The embeddings of the ``node_type`` nodes in ``batch`` (all when ``None``)."""
        if node_type not in self.start:
            raise ValueError(f"MetaPath2Vec: unknown 'node_type' {node_type!r}; the "
                             f"meta-path covers {sorted(self.start)}")
        emb = self.embedding.weight[self.start[node_type]:self.end[node_type]]
        return emb if batch is None else emb.index_select(0, batch)

    def loader(self, **kwargs) -> DataLoader:
        """A loader over the start nodes (type ``metapath[0][0]``) whose batches are
        ``(pos_rw, neg_rw)`` windows; ``kwargs`` go to
        :class:`torch.utils.data.DataLoader`."""
        return DataLoader(range(self.num_nodes_dict[self.metapath[0][0]]),
                          collate_fn=self._sample, **kwargs)

    def _pos_sample(self, batch: Tensor) -> Tensor:
        batch = batch.repeat(self.walks_per_node)
        rws = [batch]
        for i in range(self.walk_length):
            rowptr, col = self.csr_dict[self.metapath[i % len(self.metapath)]]
            batch = sample_neighbors(rowptr, col, batch, fill=self.dummy_idx)
            rws.append(batch)
        rw = torch.stack(rws, dim=-1) + self.offset.view(1, -1)
        rw[rw > self.dummy_idx] = self.dummy_idx
        return context_windows(rw, self.context_size)

    def _neg_sample(self, batch: Tensor) -> Tensor:
        batch = batch.repeat(self.walks_per_node * self.num_negative_samples)
        rws = [batch]
        for i in range(self.walk_length):
            node_type = self.metapath[i % len(self.metapath)][-1]
            rws.append(torch.randint(0, self.num_nodes_dict[node_type], (batch.size(0), ),
                                     dtype=torch.long))
        rw = torch.stack(rws, dim=-1) + self.offset.view(1, -1)
        return context_windows(rw, self.context_size)

    def _sample(self, batch: Union[List[int], Tensor]) -> Tuple[Tensor, Tensor]:
        if not isinstance(batch, Tensor):
            batch = torch.tensor(batch, dtype=torch.long)
        return self._pos_sample(batch), self._neg_sample(batch)

    def loss(self, pos_rw: Tensor, neg_rw: Tensor) -> Tensor:
        """The skip-gram loss of positive and negative windows (``[B, context_size]``,
        indices into the shared table)."""
        return skip_gram_loss(self.embedding, pos_rw, neg_rw)

    def test(self, train_z: Tensor, train_y: Tensor, test_z: Tensor, test_y: Tensor,
             solver: str = "lbfgs", *args, **kwargs) -> float:
        """Test accuracy of an L2-regularised logistic regression trained on
        ``(train_z, train_y)`` (computed in torch; ``C`` and ``max_iter`` are honoured)."""
        return probe_accuracy("MetaPath2Vec.test", train_z, train_y, test_z, test_y, solver,
                              kwargs.pop("multi_class", "auto"), *args, **kwargs)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.embedding.weight.size(0) - 1}, "
                f"{self.embedding.weight.size(1)})")


__all__ = ["MetaPath2Vec"]
