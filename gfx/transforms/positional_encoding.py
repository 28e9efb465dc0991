"""Positional encodings of nodes: Laplacian eigenvectors and random-walk return rates."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from gfx.utils import get_laplacian, to_dense_adj

from .base_transform import BaseTransform


def _store(data: Any, value: torch.Tensor, attr_name: Optional[str]) -> None:
    if attr_name is None:
        x = data.x
        x = x.view(-1, 1) if x is not None and x.dim() == 1 else x
        data.x = value if x is None else torch.cat([x, value.to(x.device, x.dtype)], dim=-1)
    else:
        data[attr_name] = value


class AddLaplacianEigenvectorPE(BaseTransform):
    r"""Add the eigenvectors of the ``k`` smallest non-trivial eigenvalues of the
    symmetric normalised Laplacian :math:`L = I - D^{-1/2} A D^{-1/2}` as node features.

    Eigenvector signs are arbitrary; each of the ``k`` columns is multiplied by a random
    :math:`\pm 1` (drawn from torch's RNG), as in the reference. The first eigenvector
    (eigenvalue 0) is skipped.

    Args:
        k (int): number of eigenvectors; needs ``k < num_nodes``.
        attr_name (str, optional): attribute to store them in; concatenated to ``x``
            when ``None``. (default: ``"laplacian_eigenvector_pe"``)
        is_undirected (bool, optional): the graph is undirected, so the Laplacian is
            symmetric and a symmetric eigensolver is used. (default: ``False``)
        **kwargs: accepted for compatibility with the reference's sparse solver options.
    """

    def __init__(self, k: int, attr_name: Optional[str] = "laplacian_eigenvector_pe",
                 is_undirected: bool = False, **kwargs):
        self.k = k
        self.attr_name = attr_name
        self.is_undirected = is_undirected
        self.kwargs = kwargs

    def forward(self, data: Any) -> Any:
        n = data.num_nodes
        if n is None or not 0 < self.k < n:
            raise ValueError(f"AddLaplacianEigenvectorPE: 'k' ({self.k}) must be in "
                             f"[1, num_nodes - 1] (num_nodes = {n})")
        weight = data["edge_weight"] if "edge_weight" in data else None
        index, weight = get_laplacian(data.edge_index, weight, normalization="sym",
                                      num_nodes=n)
        L = to_dense_adj(index, edge_attr=weight, max_num_nodes=n)[0].double().numpy()
        if self.is_undirected:
            values, vectors = np.linalg.eigh(L)
        else:
            values, vectors = np.linalg.eig(L)
            values, vectors = np.real(values), np.real(vectors)
        order = np.argsort(values, kind="stable")
        pe = torch.from_numpy(vectors[:, order[1:self.k + 1]]).float()
        sign = -1 + 2 * torch.randint(0, 2, (self.k,))
        _store(data, pe * sign, self.attr_name)
        return data


class AddRandomWalkPE(BaseTransform):
    r"""Add the probabilities of returning to each node after :math:`1..L` random-walk steps.

    .. math::
        \mathrm{pe}_v = \bigl[P_{vv},\ (P^2)_{vv},\ \dots,\ (P^L)_{vv}\bigr],
        \qquad P = D^{-1} A

    with :math:`A_{uv}` the summed ``edge_weight`` of the edges :math:`u \to v` (ones
    without) and :math:`D` the out-degrees (rows of nodes without out-edges stay zero).
    Powers are sparse-sparse products.

    Deliberate difference: on graphs without ``edge_weight`` and without duplicate edges
    this equals the reference. With duplicates the reference counts each ``(u, v)`` once
    (dropping the copies) and with ``edge_weight`` it uses :math:`1 / d_u` for every edge
    (ignoring the edge's own weight, so rows do not sum to one); here :math:`P` is the
    weighted random-walk matrix, each row a probability distribution.

    Args:
        walk_length (int): :math:`L`.
        attr_name (str, optional): attribute to store them in; concatenated to ``x``
            when ``None``. (default: ``"random_walk_pe"``)
    """

    def __init__(self, walk_length: int, attr_name: Optional[str] = "random_walk_pe"):
        self.walk_length = walk_length
        self.attr_name = attr_name

    def forward(self, data: Any) -> Any:
        n = data.num_nodes or 0
        edge_index = data.edge_index
        weight = data["edge_weight"] if "edge_weight" in data else None
        if weight is None:
            weight = torch.ones(edge_index.size(1))
        deg = torch.zeros(n, dtype=weight.dtype).index_add_(0, edge_index[0], weight)
        value = weight / deg[edge_index[0]]  # every source here has deg > 0
        P = torch.sparse_coo_tensor(edge_index, value, (n, n), check_invariants=True).coalesce()
        out, power = [], P
        for _ in range(self.walk_length):
            out.append(_diagonal(power, n))
            power = torch.sparse.mm(power, P).coalesce()
        pe = torch.stack(out, dim=-1) if out else torch.zeros(n, 0)
        _store(data, pe, self.attr_name)
        return data


def _diagonal(matrix: torch.Tensor, n: int) -> torch.Tensor:
    """Diagonal of a coalesced sparse COO ``[n, n]`` matrix."""
    row, col = matrix.indices()
    on_diagonal = row == col
    out = torch.zeros(n, dtype=matrix.dtype)
    return out.index_add_(0, row[on_diagonal], matrix.values()[on_diagonal])
