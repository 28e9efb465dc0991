"""``KNNIndex`` and its exact / approximate L2 and inner-product (MIPS) variants.

# NOTE [knn index backends]
With faiss installed (``pip install faiss-cpu``, an optional extra) every index is the
faiss index the reference library builds: ``IndexFlatL2`` / ``IndexFlatIP`` for the
exact ones, ``IndexIVFPQ`` (an inverted file of ``num_cells`` cells over a flat
quantizer, product-quantised with ``bits_per_vector`` sub-quantizers of 8 bits each,
searching ``num_cells_to_visit`` cells) for the approximate ones, and
``faiss.index_factory`` for :class:`KNNIndex`.  Without faiss, the embeddings are kept
as a tensor and searched exactly with torch, in blocks of queries holding at most
:data:`BLOCK_ELEMENTS` scores at a time (never a ``[num_queries, numel]`` matrix for
large sets); the approximate classes then return the exact neighbours (recall 1.0).
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from torch import Tensor

BLOCK_ELEMENTS = 1 << 22  # scores held at once by the torch fallback

_INSTALL = "pip install faiss-cpu"


def _faiss():
    """The faiss module, or ``None`` when it is not installed."""
    try:
        import faiss
    except ImportError:
        return None
    return faiss


class KNNOutput(NamedTuple):
    """``score`` ``[M, k]`` (squared L2 distance, or inner product) and ``index``
    ``[M, k]`` (row of the index; ``-1`` where excluded links left no candidate)."""
    score: Tensor
    index: Tensor


def _check_emb(name: str, emb: Tensor, channels: Optional[int] = None) -> Tensor:
    if not isinstance(emb, Tensor):
        raise TypeError(f"'{name}' must be a tensor, got {type(emb).__name__}")
    if emb.dim() != 2:
        raise ValueError(f"'{name}' must be two-dimensional [num_vectors, channels], got "
                         f"shape {list(emb.shape)}")
    if channels is not None and emb.shape[1] != channels:
        raise ValueError(f"'{name}' has {emb.shape[1]} channels but the index holds "
                         f"{channels}")
    return emb.detach()


def exact_search(base: Tensor, query: Tensor, k: int, metric: str):
    """Top ``k`` rows of ``base`` per query: squared L2 ascending or inner product
    descending; blocked over queries.  Returns ``(score, index)``."""
    dtype = torch.promote_types(base.dtype, query.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    base, query = base.to(dtype), query.to(dtype)
    scores, indices = [], []
    step = max(1, BLOCK_ELEMENTS // max(base.shape[0], 1))
    for start in range(0, query.shape[0], step):
        q = query[start:start + step]
        if metric == "l2":
            s = torch.cdist(q, base, compute_mode="donot_use_mm_for_euclid_dist").pow(2)
        else:
            s = q @ base.t()
        value, index = torch.topk(s, k, dim=1, largest=metric != "l2", sorted=True)
        scores.append(value)
        indices.append(index)
    if not scores:
        return (query.new_empty(0, k), torch.empty(0, k, dtype=torch.long,
                                                   device=query.device))
    return torch.cat(scores), torch.cat(indices)


class KNNIndex:
    r"""A store of embeddings searched for the :math:`k` nearest neighbours of queries.

    ``add`` appends embeddings (rows ``numel``, ``numel + 1``, ...); ``search`` returns
    for each query the :math:`k` best rows as a :class:`KNNOutput`, best first (``k``
    capped at ``numel``).  ``exclude_links`` ``[2, L]`` (query row, index row) removes
    known pairs: the search asks for :math:`k` plus the largest number of links of one
    query, drops the excluded pairs and keeps the best :math:`k` left; the output is
    then always ``k`` wide, padded with index ``-1`` and score :math:`-\infty` where
    fewer remain (the reference's shapes and padding).
    See NOTE [knn index backends] for faiss and the exact torch fallback.

    Args:
        index_factory (str, optional): a faiss index factory string; requires faiss
            unless it is ``None`` or ``"Flat"`` (exact L2). (default: ``None``)
        emb (Tensor, optional): embeddings ``[N, C]`` to add at once. (default: ``None``)
        reserve (int, optional): rows to reserve memory for (faiss indices that
            support it). (default: ``None``)
    """

    metric = "l2"

    def __init__(self, index_factory: Optional[str] = None, emb: Optional[Tensor] = None,
                 reserve: Optional[int] = None):
        self.index_factory = index_factory
        self.reserve = reserve
        self.index = None  # the faiss index, when faiss is used
        self._emb: Optional[Tensor] = None  # the torch fallback's store
        self._channels: Optional[int] = None
        self._use_faiss = _faiss() is not None
        if not self._use_faiss and index_factory not in (None, "Flat"):
            raise ImportError(f"{type(self).__name__}(index_factory={index_factory!r}) "
                              f"needs faiss: {_INSTALL} (without it only exact search, "
                              f"index_factory=None or 'Flat', is available)")
        if emb is not None:
            self.add(emb)

    def _create_index(self, channels: int):
        """The faiss index for ``channels``-wide embeddings."""
        faiss = _faiss()
        return faiss.index_factory(channels, self.index_factory or "Flat")

    def _train(self, emb) -> None:
        """Train the (new) faiss index on the first embeddings added, if it needs it."""
        if not self.index.is_trained:
            self.index.train(emb)

    @property
    def numel(self) -> int:
        """Number of embeddings stored."""
        if self.index is not None:
            return int(self.index.ntotal)
        return 0 if self._emb is None else self._emb.shape[0]

    def add(self, emb: Tensor) -> None:
        """Append the rows of ``emb`` ``[N, C]`` to the index."""
        emb = _check_emb("emb", emb, self._channels)
        self._channels = emb.shape[1]
        if self._use_faiss:
            data = emb.cpu().float().contiguous().numpy()
            if self.index is None:
                self.index = self._create_index(emb.shape[1])
                self._train(data)
                if self.reserve is not None and hasattr(self.index, "reserve"):
                    self.index.reserve(self.reserve)
            self.index.add(data)
            return
        self._emb = emb.clone() if self._emb is None else torch.cat([self._emb, emb])

    def _search(self, emb: Tensor, k: int):
        if self.index is not None:
            score, index = self.index.search(emb.cpu().float().contiguous().numpy(), k)
            # torch.as_tensor: faiss.contrib.torch_utils, once imported, returns tensors.
            return (torch.as_tensor(score).to(emb.device),
                    torch.as_tensor(index).to(device=emb.device, dtype=torch.long))
        return exact_search(self._emb, emb, k, self.metric)

    def search(self, emb: Tensor, k: int, exclude_links: Optional[Tensor] = None
               ) -> KNNOutput:
        """The ``k`` best rows for each query of ``emb`` ``[M, C]``; see the class.

        Args:
            emb (Tensor): queries ``[M, C]``.
            k (int): neighbours per query.
            exclude_links (LongTensor, optional): ``[2, L]`` (query, row) pairs to
                leave out. (default: ``None``)
        """
        if self.numel == 0 and self._channels is None:
            raise RuntimeError(f"'{type(self).__name__}' is not yet initialized. Please "
                               f"call `add(...)` first.")
        emb = _check_emb("emb", emb, self._channels)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"'k' must be a positive int, got {k!r}")
        numel = self.numel
        query_k = k
        if exclude_links is not None:
            if exclude_links.dim() != 2 or exclude_links.shape[0] != 2:
                raise ValueError(f"'exclude_links' must be [2, L], got shape "
                                 f"{list(exclude_links.shape)}")
            exclude_links = exclude_links.to(device=emb.device, dtype=torch.long)
            if exclude_links.numel():
                deg = torch.bincount(exclude_links[0], minlength=emb.shape[0])
                query_k = k + int(deg.max())
        query_k = min(query_k, numel)
        score, index = self._search(emb, query_k)
        if exclude_links is None:
            return KNNOutput(score, index)
        k_out = k  # with exclusions the width is k, padded (the reference's shapes)
        rows = torch.arange(emb.shape[0], device=emb.device).view(-1, 1).expand_as(index)
        flat = rows * numel + index
        banned = exclude_links[0] * numel + exclude_links[1]
        keep = ~torch.isin(flat, banned) & (index >= 0)
        rank = torch.cumsum(keep, dim=1) - 1
        take = keep & (rank < k_out)
        out_score = score.new_full((emb.shape[0], k_out), float("-inf"))
        out_index = torch.full((emb.shape[0], k_out), -1, dtype=torch.long,
                               device=emb.device)
        out_score[rows[take], rank[take]] = score[take]
        out_index[rows[take], rank[take]] = index[take]
        return KNNOutput(out_score, out_index)

    def get_emb(self) -> Tensor:
        """All stored embeddings ``[numel, C]`` (faiss: reconstructed, so approximate
        for quantised indices)."""
        if self.index is not None:
            return torch.as_tensor(self.index.reconstruct_n(0, self.numel))
        if self._emb is None:
            raise RuntimeError(f"'{type(self).__name__}' is not yet initialized. Please "
                               f"call `add(...)` first.")
        return self._emb


class L2KNNIndex(KNNIndex):
    r"""Exact :math:`k`-NN by Euclidean distance; scores are squared distances
    :math:`\lVert \mathbf{q} - \mathbf{e}_j \rVert_2^2`, ascending.

    faiss ``IndexFlatL2`` when installed, else the exact torch search (NOTE [knn index
    backends]).

    Args:
        emb (Tensor, optional): embeddings ``[N, C]`` to add at once. (default: ``None``)
    """

    def __init__(self, emb: Optional[Tensor] = None):
        super().__init__(index_factory=None, emb=emb)

    def _create_index(self, channels: int):
        return _faiss().IndexFlatL2(channels)


class MIPSKNNIndex(KNNIndex):
    r"""Exact maximum inner product search; scores are :math:`\mathbf{q}^{\top}
    \mathbf{e}_j`, descending.

    faiss ``IndexFlatIP`` when installed, else the exact torch search (NOTE [knn index
    backends]).

    Args:
        emb (Tensor, optional): embeddings ``[N, C]`` to add at once. (default: ``None``)
    """

    metric = "ip"

    def __init__(self, emb: Optional[Tensor] = None):
        super().__init__(index_factory=None, emb=emb)

    def _create_index(self, channels: int):
        return _faiss().IndexFlatIP(channels)


class _ApproxKNNIndex(KNNIndex):
    def __init__(self, num_cells: int, num_cells_to_visit: int, bits_per_vector: int,
                 emb: Optional[Tensor] = None, reserve: Optional[int] = None):
        for name, value in (("num_cells", num_cells), ("num_cells_to_visit",
                            num_cells_to_visit), ("bits_per_vector", bits_per_vector)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"'{name}' must be a positive int, got {value!r}")
        self.num_cells = num_cells
        self.num_cells_to_visit = num_cells_to_visit
        self.bits_per_vector = bits_per_vector
        super().__init__(index_factory=None, emb=emb, reserve=reserve)

    def _create_index(self, channels: int):
        faiss = _faiss()
        if self.metric == "l2":
            quantizer, metric = faiss.IndexFlatL2(channels), faiss.METRIC_L2
        else:
            quantizer, metric = faiss.IndexFlatIP(channels), faiss.METRIC_INNER_PRODUCT
        index = faiss.IndexIVFPQ(quantizer, channels, self.num_cells,
                                 self.bits_per_vector, 8, metric)
        index.nprobe = self.num_cells_to_visit
        self._quantizer = quantizer  # faiss does not own it: keep it alive
        return index


class ApproxL2KNNIndex(_ApproxKNNIndex):
    r"""Approximate :math:`k`-NN by Euclidean distance (faiss ``IndexIVFPQ``).

    The first ``add`` trains the cells and the product quantiser (it needs at least
    ``num_cells`` and :math:`2^8` vectors).  Scores are approximate squared distances.
    Without faiss (``pip install faiss-cpu`` enables the approximate search) the search
    is exact and recall is 1.0.  Measured recall@10 (tests/nn/test_knn_index.py:
    20,000 Gaussian vectors in 32-D, 200 queries, ``num_cells=64``,
    ``num_cells_to_visit=8``, ``bits_per_vector=8``): 0.43 with faiss-cpu 1.15.1 (random
    Gaussian vectors are the hard case for product quantisation).

    Args:
        num_cells (int): cells of the inverted file.
        num_cells_to_visit (int): cells searched per query (``nprobe``).
        bits_per_vector (int): sub-quantizers of the product quantiser (8 bits each);
            must divide the channels.
        emb (Tensor, optional): embeddings ``[N, C]`` to add at once. (default: ``None``)
        reserve (int, optional): rows to reserve. (default: ``None``)
    """


class ApproxMIPSKNNIndex(_ApproxKNNIndex):
    r"""Approximate maximum inner product search (faiss ``IndexIVFPQ``, inner product).

    As :class:`ApproxL2KNNIndex` with inner-product cells and scores (descending).
    Without faiss (``pip install faiss-cpu`` enables the approximate search) the search
    is exact and recall is 1.0.  Measured recall@10 on the test set of
    :class:`ApproxL2KNNIndex`: 0.41 with faiss-cpu 1.15.1.

    Args:
        num_cells (int): cells of the inverted file.
        num_cells_to_visit (int): cells searched per query (``nprobe``).
        bits_per_vector (int): sub-quantizers of the product quantiser (8 bits each).
        emb (Tensor, optional): embeddings ``[N, C]`` to add at once. (default: ``None``)
        reserve (int, optional): rows to reserve. (default: ``None``)
    """

    metric = "ip"


__all__ = ["KNNIndex", "L2KNNIndex", "MIPSKNNIndex", "ApproxL2KNNIndex",
           "ApproxMIPSKNNIndex"]
