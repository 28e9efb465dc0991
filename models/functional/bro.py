"""``bro``: the batch representation orthogonality penalty."""
from __future__ import annotations

from typing import Union

import torch
from torch import Tensor


def bro(x: Tensor, batch: Tensor, p: Union[int, str] = 2) -> Tensor:
    """Batch Representation Orthogonality penalty (Henderson et al., "Improving Molecular
    Graph Neural Network Explainability with Orthonormalization and Induced Sparsity").

    For every graph with node representations :math:`\\mathbf{H}` (one row per node),

    .. math::
        \\mathcal{L}_{\\mathrm{BRO}}^{\\mathrm{graph}} =
        \\lVert \\mathbf{H}\\mathbf{H}^{\\top} - \\mathbf{I} \\rVert_p

    averaged over the graphs that have nodes.  A number ``p`` is the vector
    :math:`p`-norm of all entries (``2``: the Frobenius norm); ``"fro"`` and ``"nuc"``
    are the Frobenius and nuclear matrix norms.

    Args:
        x (Tensor): node representations ``[N, F]``.
        batch (Tensor): the graph of each node ``[N]``.
        p (int or str, optional): the norm. (default: ``2``)

    Returns:
        A scalar tensor.
    """
    if x.dim() != 2 or batch.dim() != 1 or batch.numel() != x.size(0):
        raise ValueError(f"bro: expected 'x' [N, F] and 'batch' [N], got {list(x.shape)} "
                         f"and {list(batch.shape)}")
    if isinstance(p, str) and p not in ("fro", "nuc"):
        raise ValueError(f"bro: 'p' must be a number, 'fro' or 'nuc', got {p!r}")
    _, inverse, counts = torch.unique(batch, return_inverse=True, return_counts=True)
    num_graphs, width = counts.numel(), int(counts.max()) if counts.numel() else 0
    order = torch.argsort(inverse, stable=True)
    starts = counts.cumsum(0) - counts
    position = torch.empty_like(inverse)
    position[order] = torch.arange(x.size(0), device=x.device) - starts[inverse[order]]
    dense = x.new_zeros(num_graphs, width, x.size(1)).index_put((inverse, position), x)
    eye = x.new_zeros(num_graphs, width, width)
    eye[inverse, position, position] = 1.0
    gram = dense @ dense.transpose(1, 2) - eye
    if isinstance(p, str):
        norms = torch.linalg.matrix_norm(gram, ord=p)
    else:
        norms = torch.linalg.vector_norm(gram, ord=p, dim=(1, 2))
    return norms.sum() / num_graphs


__all__ = ["bro"]
