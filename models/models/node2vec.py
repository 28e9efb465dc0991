"""``Node2Vec``: skip-gram embeddings from biased random walks (Grover and Leskovec,
KDD 2016)."""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Embedding
from torch.utils.data import DataLoader

from gfx.nn.models._logistic_regression import probe_accuracy
from gfx.nn.models._random_walk import random_walk, to_csr

EPS = 1e-15


def context_windows(walks: Tensor, context_size: int) -> Tensor:
    """Every window of ``context_size`` consecutive nodes of every walk, stacked
    window position by window position: ``[B * (L - context_size + 1), context_size]``."""
    num_windows = walks.size(1) - context_size + 1
    return torch.cat([walks[:, j:j + context_size] for j in range(num_windows)], dim=0)


def skip_gram_loss(embedding: Embedding, pos_rw: Tensor, neg_rw: Tensor) -> Tensor:
    """Negative-sampling skip-gram loss of walk windows: the first node of each row is
    the centre, the others its context,

    .. math::
        -\\mathrm{mean}_{(u, v) \\in \\mathcal{P}} \\log\\sigma(\\mathbf{z}_u^{\\top}
        \\mathbf{z}_v) - \\mathrm{mean}_{(u, v) \\in \\mathcal{N}} \\log(1 -
        \\sigma(\\mathbf{z}_u^{\\top}\\mathbf{z}_v))
    """
    out = []
    for rw in (pos_rw, neg_rw):
        start, rest = rw[:, 0], rw[:, 1:].contiguous()
        h_start = embedding(start).view(rw.size(0), 1, -1)
        h_rest = embedding(rest.view(-1)).view(rw.size(0), -1, h_start.size(-1))
        out.append((h_start * h_rest).sum(dim=-1).view(-1))
    pos_loss = -torch.log(torch.sigmoid(out[0]) + EPS).mean()
    neg_loss = -torch.log(1 - torch.sigmoid(out[1]) + EPS).mean()
    return pos_loss + neg_loss


class Node2Vec(torch.nn.Module):
    """The Node2Vec model of "node2vec: Scalable Feature Learning for Networks".

    Walks of ``walk_length`` steps start from every node (``walks_per_node`` times); a
    step from :math:`v`, having come from :math:`t`, moves to a neighbour :math:`x` with
    probability proportional to :math:`1/p` if :math:`x = t`, :math:`1` if :math:`x` is
    a neighbour of :math:`t` and :math:`1/q` otherwise (a node without out-neighbours
    keeps the walker).  Every window of ``context_size`` nodes is a positive sample
    (its first node the centre); negative windows are the centre followed by uniformly
    random nodes.  Embeddings minimise the skip-gram loss

    .. math::
        -\\mathrm{mean}\\,\\log\\sigma(\\mathbf{z}_u^{\\top}\\mathbf{z}_v) -
        \\mathrm{mean}\\,\\log(1 - \\sigma(\\mathbf{z}_u^{\\top}\\mathbf{z}_{v'}))

    Walks are vectorised across walkers (see NOTE [vectorised walks] in
    ``_random_walk.py``).

    Args:
        edge_index (Tensor): ``[2, E]`` edges (walks follow ``source -> target``).
        embedding_dim (int): the embedding size.
        walk_length (int): steps per walk.
        context_size (int): window size, from 2 to ``walk_length`` (the reference
            library accepts 1 and returns a NaN loss).
        walks_per_node (int, optional): walks per start node. (default: ``1``)
        p (float, optional): the return parameter. (default: ``1``)
        q (float, optional): the in-out parameter. (default: ``1``)
        num_negative_samples (int, optional): negative windows per positive window.
            (default: ``1``)
        num_nodes (int, optional): the number of nodes. (default: ``None``)
        sparse (bool, optional): sparse gradients for the embedding table.
            (default: ``False``)
    """

    def __init__(self, edge_index: Tensor, embedding_dim: int, walk_length: int,
                 context_size: int, walks_per_node: int = 1, p: float = 1.0, q: float = 1.0,
                 num_negative_samples: int = 1, num_nodes: Optional[int] = None,
                 sparse: bool = False):
        super().__init__()
        if walk_length < context_size or context_size < 2:
            raise ValueError(f"Node2Vec: 'context_size' must be in [2, walk_length="
                             f"{walk_length}] (a window is a centre and its context), got "
                             f"{context_size}")
        for arg, value in (("walks_per_node", walks_per_node),
                           ("num_negative_samples", num_negative_samples),
                           ("embedding_dim", embedding_dim)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Node2Vec: '{arg}' must be a positive int, got {value!r}")
        if p <= 0 or q <= 0:
            raise ValueError(f"Node2Vec: 'p' and 'q' must be positive, got p={p}, q={q}")
        if num_nodes is None:
            num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
        self.num_nodes = num_nodes
        self.rowptr, self.col = to_csr(edge_index.cpu(), num_nodes)
        self.EPS = EPS
        self.embedding_dim = embedding_dim
        self.walk_length = walk_length
        self.context_size = context_size
        self.walks_per_node = walks_per_node
        self.p = p
        self.q = q
        self.num_negative_samples = num_negative_samples
        self.embedding = Embedding(num_nodes, embedding_dim, sparse=sparse)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Standard-normal embeddings."""
        self.embedding.reset_parameters()

    def forward(self, batch: Optional[Tensor] = None) -> Tensor:
        """The embeddings of the nodes in ``batch`` (all nodes when ``None``)."""
        emb = self.embedding.weight
        return emb if batch is None else emb.index_select(0, batch)

    def loader(self, **kwargs) -> DataLoader:
        """A loader over the nodes whose batches are ``(pos_rw, neg_rw)`` windows;
        ``kwargs`` go to :class:`torch.utils.data.DataLoader`."""
        return DataLoader(range(self.num_nodes), collate_fn=self.sample, **kwargs)

    @torch.jit.ignore
    def pos_sample(self, batch: Tensor) -> Tensor:
        """Positive windows of random walks from each node of ``batch``."""
        batch = batch.repeat(self.walks_per_node)
        rw = random_walk(self.rowptr, self.col, batch, self.walk_length, self.p, self.q)
        return context_windows(rw, self.context_size)

    @torch.jit.ignore
    def neg_sample(self, batch: Tensor) -> Tensor:
        """Negative windows: each node of ``batch`` followed by uniformly random nodes."""
        batch = batch.repeat(self.walks_per_node * self.num_negative_samples)
        rw = torch.randint(self.num_nodes, (batch.size(0), self.walk_length),
                           dtype=batch.dtype, device=batch.device)
        rw = torch.cat([batch.view(-1, 1), rw], dim=-1)
        return context_windows(rw, self.context_size)

    @torch.jit.ignore
    def sample(self, batch: Union[List[int], Tensor]) -> Tuple[Tensor, Tensor]:
        """``(pos_sample(batch), neg_sample(batch))``."""
        if not isinstance(batch, Tensor):
            batch = torch.tensor(batch, dtype=torch.long)
        return self.pos_sample(batch), self.neg_sample(batch)

    def loss(self, pos_rw: Tensor, neg_rw: Tensor) -> Tensor:
        """The skip-gram loss of positive and negative windows (``[B, context_size]``)."""
        return skip_gram_loss(self.embedding, pos_rw, neg_rw)

    def test(self, train_z: Tensor, train_y: Tensor, test_z: Tensor, test_y: Tensor,
             solver: str = "lbfgs", *args, **kwargs) -> float:
        """Test accuracy of an L2-regularised logistic regression trained on
        ``(train_z, train_y)`` (computed in torch; ``C`` and ``max_iter`` are honoured)."""
        return probe_accuracy("Node2Vec.test", train_z, train_y, test_z, test_y, solver,
                              kwargs.pop("multi_class", "auto"), *args, **kwargs)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.embedding.weight.size(0)}, "
                f"{self.embedding.weight.size(1)})")


__all__ = ["Node2Vec"]
