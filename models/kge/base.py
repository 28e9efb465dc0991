"""``KGEModel``: the base class of the knowledge-graph embedding models.

A knowledge graph is a set of triples :math:`(h, r, t)` (head entity, relation, tail
entity).  A KGE model embeds entities and relations and scores a triple with a function
:math:`f(h, r, t)` that is high for true triples.  Subclasses implement
:meth:`KGEModel.forward` (the score) and :meth:`KGEModel.loss`; this class gives them the
embeddings, a triple loader, corruption for negative triples and the ranking evaluation.

Call tree::

    loss(h, r, t)                      subclass: a margin or logistic loss of
        forward(h, r, t)                 the scores of true triples and of
        forward(*random_sample(h, r, t)) corrupted ones
    test(h, r, t, batch_size, k)       ranks each true tail among all entities
        forward(h, r, every entity)      -> (mean rank, MRR, Hits@k)
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor
from torch.nn import Embedding


class KGTripletLoader(torch.utils.data.DataLoader):
    """Mini-batches of triples: each batch is ``(head_index, rel_type, tail_index)``.

    Args:
        head_index (Tensor): ``[T]`` head entities.
        rel_type (Tensor): ``[T]`` relation types.
        tail_index (Tensor): ``[T]`` tail entities.
        **kwargs: arguments of :class:`torch.utils.data.DataLoader` (``batch_size``,
            ``shuffle``, ...).
    """

    def __init__(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor, **kwargs):
        self.head_index, self.rel_type, self.tail_index = head_index, rel_type, tail_index
        kwargs.pop("collate_fn", None)
        super().__init__(range(head_index.numel()), collate_fn=self._collate, **kwargs)

    def _collate(self, positions) -> Tuple[Tensor, Tensor, Tensor]:
        index = torch.tensor(positions, device=self.head_index.device)
        return self.head_index[index], self.rel_type[index], self.tail_index[index]


def check_triples(name: str, num_nodes: int, num_relations: int, head_index: Tensor,
                  rel_type: Tensor, tail_index: Tensor) -> None:
    """Raise a ``ValueError`` naming the argument if a triple tensor is malformed."""
    for arg, value, bound in (("head_index", head_index, num_nodes),
                              ("rel_type", rel_type, num_relations),
                              ("tail_index", tail_index, num_nodes)):
        if not isinstance(value, Tensor) or value.dtype not in (torch.long, torch.int):
            raise ValueError(f"{name}: '{arg}' must be an integer tensor, got "
                             f"{getattr(value, 'dtype', type(value).__name__)}")
        if value.numel() and (int(value.min()) < 0 or int(value.max()) >= bound):
            raise ValueError(f"{name}: '{arg}' holds indices outside [0, {bound})")
    if not head_index.shape == rel_type.shape == tail_index.shape:
        raise ValueError(f"{name}: 'head_index', 'rel_type' and 'tail_index' must have one "
                         f"shape, got {list(head_index.shape)}, {list(rel_type.shape)} and "
                         f"{list(tail_index.shape)}")


class KGEModel(torch.nn.Module):
    """An abstract base class for knowledge-graph embedding models.

    Holds ``node_emb`` (``[num_nodes, hidden_channels]``) and ``rel_emb``
    (``[num_relations, hidden_channels]``); subclasses add further tables and define
    the score :meth:`forward` and the training :meth:`loss`.

    Args:
        num_nodes (int): number of entities.
        num_relations (int): number of relation types.
        hidden_channels (int): embedding size.
        sparse (bool, optional): sparse gradients for the embedding tables.
            (default: ``False``)
    """

    def __init__(self, num_nodes: int, num_relations: int, hidden_channels: int,
                 sparse: bool = False):
        super().__init__()
        for arg, value in (("num_nodes", num_nodes), ("num_relations", num_relations),
                           ("hidden_channels", hidden_channels)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{type(self).__name__}: '{arg}' must be a positive int, "
                                 f"got {value!r}")
        self.num_nodes = num_nodes
        self.num_relations = num_relations
        self.hidden_channels = hidden_channels
        self.node_emb = Embedding(num_nodes, hidden_channels, sparse=sparse)
        self.rel_emb = Embedding(num_relations, hidden_channels, sparse=sparse)

    def reset_parameters(self) -> None:
        """Re-initialise the embedding tables."""
        self.node_emb.reset_parameters()
        self.rel_emb.reset_parameters()

    def forward(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        """The score of each triple ``(head_index[i], rel_type[i], tail_index[i])``.

        Indices broadcast against each other (``[B, 1]`` heads with ``[1, N]`` tails
        score every pair).
        """
        raise NotImplementedError

    def loss(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor) -> Tensor:
        """The training loss of a batch of true triples (negatives drawn inside)."""
        raise NotImplementedError

    def loader(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor,
               **kwargs) -> KGTripletLoader:
        """A loader of ``(head_index, rel_type, tail_index)`` mini-batches.

        Args:
            head_index (Tensor): ``[T]`` head entities.
            rel_type (Tensor): ``[T]`` relation types.
            tail_index (Tensor): ``[T]`` tail entities.
            **kwargs: arguments of :class:`torch.utils.data.DataLoader`.
        """
        check_triples(f"{type(self).__name__}.loader", self.num_nodes, self.num_relations,
                      head_index, rel_type, tail_index)
        return KGTripletLoader(head_index, rel_type, tail_index, **kwargs)

    @torch.no_grad()
    def test(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor,
             batch_size: int, k: int = 10, log: bool = True) -> Tuple[float, float, float]:
        """Rank each true tail among all entities: ``(mean_rank, mrr, hits_at_k)``.

        For a triple :math:`(h, r, t)` let :math:`c` be the number of entities
        :math:`e` with :math:`f(h, r, e) > f(h, r, t)` (no filtering of other true
        triples) and :math:`\\mathrm{rank} = c + 1`.  Returns the mean of :math:`c`
        (the mean rank counted from 0, as the reference library reports it: 0 for a
        perfect model), the mean reciprocal rank :math:`\\mathrm{mean}(1 / \\mathrm{rank})`
        and Hits@k, the fraction with :math:`\\mathrm{rank} \\le k`.

        Args:
            head_index (Tensor): ``[T]`` head entities.
            rel_type (Tensor): ``[T]`` relation types.
            tail_index (Tensor): ``[T]`` tail entities.
            batch_size (int): how many candidate tails are scored at once.
            k (int, optional): the cut-off of Hits@k. (default: ``10``)
            log (bool, optional): show a progress bar (if :mod:`tqdm` is installed).
                (default: ``True``)
        """
        name = f"{type(self).__name__}.test"
        check_triples(name, self.num_nodes, self.num_relations, head_index, rel_type,
                      tail_index)
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"{name}: 'batch_size' must be a positive int, got {batch_size!r}")
        if head_index.numel() == 0:
            raise ValueError(f"{name}: no triples to rank ('head_index' is empty)")
        head_index, rel_type, tail_index = (v.view(-1) for v in
                                            (head_index, rel_type, tail_index))
        candidates = torch.arange(self.num_nodes, device=head_index.device)
        per_step = max(1, batch_size // self.num_nodes)
        steps = range(0, head_index.numel(), per_step)
        if log:
            try:
                from tqdm import tqdm
                steps = tqdm(steps, desc=name)
            except ImportError:  # the progress bar is optional
                pass
        ranks = []
        for start in steps:
            h = head_index[start:start + per_step]
            r = rel_type[start:start + per_step]
            t = tail_index[start:start + per_step]
            scores = torch.cat([self(h.view(-1, 1), r.view(-1, 1), chunk.view(1, -1))
                                for chunk in candidates.split(batch_size)], dim=1)
            true = scores.gather(1, t.view(-1, 1))
            ranks.append((scores > true).sum(dim=1) + 1)
        rank = torch.cat(ranks).to(torch.float)
        mean_rank = float((rank - 1).mean())
        mrr = float(rank.reciprocal().mean())
        hits_at_k = float((rank <= k).to(torch.float).mean())
        return mean_rank, mrr, hits_at_k

    @torch.no_grad()
    def random_sample(self, head_index: Tensor, rel_type: Tensor,
                      tail_index: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Corrupt each triple: the first half gets a random head, the rest a random tail."""
        num_negatives = head_index.numel() // 2
        rnd = torch.randint(self.num_nodes, head_index.shape, device=head_index.device)
        head_index, tail_index = head_index.clone(), tail_index.clone()
        head_index[:num_negatives] = rnd[:num_negatives]
        tail_index[num_negatives:] = rnd[num_negatives:]
        return head_index, rel_type, tail_index

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.num_nodes}, num_relations={self.num_relations}, "
                f"hidden_channels={self.hidden_channels})")


__all__ = ["KGEModel"]
