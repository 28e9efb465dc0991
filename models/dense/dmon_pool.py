"""``DMoNPooling``: spectral modularity pooling (Tsitsulin et al., JMLR 2023)."""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.dense.diff_pool import pool_inputs
from gfx.nn.dense.mincut_pool import normalized_pooled_adj, orthogonality_loss, trace


class DMoNPooling(torch.nn.Module):
    r"""Deep modularity network pooling from "Graph Clustering with Graph Neural Networks".

    Soft assignments :math:`\mathbf{S} = \mathrm{softmax}(\mathrm{MLP}(\mathbf{X}))`
    (dropout on the logits in training; rows outside ``mask`` zeroed) pool the graph:

    .. math::
        \mathbf{X}' = \mathrm{SELU}(\mathbf{S}^{\top} \mathbf{X}), \qquad
        \mathbf{A}' = \mathbf{S}^{\top} \mathbf{A} \mathbf{S}

    and :math:`\mathbf{A}'` is returned with a zero diagonal, normalised symmetrically.
    Three auxiliary losses, averaged over the batch: the spectral (modularity) loss

    .. math::
        \mathcal{L}_s = -\frac{1}{2m} \mathrm{Tr}\left(\mathbf{S}^{\top}
        \left(\mathbf{A} - \frac{\mathbf{d} \mathbf{d}^{\top}}{2m}\right)
        \mathbf{S}\right)

    (:math:`\mathbf{d}` the degrees of the valid nodes, :math:`2m = \sum_i d_i`), the
    orthogonality loss :math:`\mathcal{L}_o = \lVert \frac{\mathbf{S}^{\top}
    \mathbf{S}}{\lVert \mathbf{S}^{\top} \mathbf{S} \rVert_F} -
    \frac{\mathbf{I}_C}{\sqrt{C}} \rVert_F` and the collapse regularisation
    :math:`\mathcal{L}_c = \frac{\sqrt{C}}{n} \lVert \sum_i \mathbf{S}_i \rVert_2 - 1`
    (:math:`n` the number of valid nodes of the graph).  With a ``mask`` over graphs of
    different sizes this differs from the reference, which divides every graph's norm
    by every graph's :math:`n` (a ``[B]`` by ``[B, 1]`` broadcast) and averages the
    ``[B, B]`` result; gfx uses each graph's own :math:`n`, as the paper does.  The two
    agree without a mask and when all graphs have the same number of valid nodes.

    Args:
        channels (int or List[int]): input features, or the MLP's channel list before
            the final ``k`` (an int is one linear layer).
        k (int): number of clusters :math:`C`.
        dropout (float, optional): dropout on the assignment logits. (default: ``0.0``)

    Returns of ``forward``: ``(s, x', adj', spectral_loss, ortho_loss, cluster_loss)``
    with ``s`` the softmaxed assignments ``[B, N, C]``.
    """

    def __init__(self, channels: Union[int, List[int]], k: int, dropout: float = 0.0):
        super().__init__()
        if isinstance(channels, int):
            channels = [channels]
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"'k' must be a positive int, got {k!r}")
        from gfx.nn.models.mlp import MLP  # imported here: gfx.nn.models imports dense
        self.mlp = MLP(list(channels) + [k], act=None, norm=None)
        self.dropout = dropout
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the MLP."""
        self.mlp.reset_parameters()

    def forward(self, x: Tensor, adj: Tensor, mask: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        """Pool ``x`` and ``adj``; see the class docstring.

        Args:
            x (Tensor): node features ``[B, N, F]``.
            adj (Tensor): adjacency ``[B, N, N]``.
            mask (BoolTensor, optional): valid nodes ``[B, N]``. (default: ``None``)
        """
        s = self.mlp(x)
        s = F.dropout(s, p=self.dropout, training=self.training)
        s = torch.softmax(s, dim=-1)
        x, adj, s, mask = pool_inputs(x, adj, s, mask)
        if mask is not None:
            x, s = x * mask, s * mask
        st = s.transpose(1, 2)
        out = F.selu(torch.matmul(st, x))
        out_adj = torch.matmul(torch.matmul(st, adj), s)

        degrees = adj.sum(dim=-1).unsqueeze(-1)  # [B, N, 1]
        if mask is not None:
            degrees = degrees * mask
        two_m = degrees.sum(dim=(-1, -2))  # [B]
        ca = torch.matmul(st, degrees)  # [B, C, 1]
        normalizer = torch.matmul(ca, ca.transpose(1, 2)) / two_m.view(-1, 1, 1)
        spectral_loss = (-trace(out_adj - normalizer) / two_m).mean()

        ortho_loss = orthogonality_loss(s)

        C = s.shape[-1]
        n = (mask if mask is not None else torch.ones_like(s[..., :1])).sum(dim=(-1, -2))
        cluster_size = s.sum(dim=1)  # [B, C]
        cluster_loss = (torch.linalg.vector_norm(cluster_size, dim=1) / n * C ** 0.5
                        - 1).mean()
        return s, out, normalized_pooled_adj(out_adj), spectral_loss, ortho_loss, \
            cluster_loss

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.mlp.in_channels}, "
                f"num_clusters={self.mlp.out_channels})")


__all__ = ["DMoNPooling"]
