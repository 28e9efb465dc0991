"""``GNNFF``: a graph network that predicts atomic forces directly (Park et al., 2021)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch.nn import BatchNorm1d, Embedding, Linear, ModuleList, Sequential

from gfx.nn.models.dimenet import triplets
from gfx.nn.models.schnet import GaussianSmearing, ShiftedSoftplus
from gfx.ops import scatter


class GaussianFilter(GaussianSmearing):
    """Edge features from distances: Gaussians with ``num_gaussians`` centres evenly
    spaced on ``[start, stop]`` (see :class:`~gfx.nn.models.schnet.GaussianSmearing`)."""


def _gated(x: Tensor, norm: BatchNorm1d) -> Tensor:
    """:math:`\\sigma(\\mathbf{a}) \\odot \\tanh(\\mathbf{b})` for ``[a, b] = norm(x)``."""
    gate, core = norm(x).chunk(2, dim=1)
    return torch.sigmoid(gate) * torch.tanh(core)


class NodeBlock(torch.nn.Module):
    """Node update :math:`\\mathbf{h}_i \\leftarrow \\tanh\\big(\\mathbf{h}_i +
    \\mathrm{BN}\\big(\\sum_{(j, i)} \\sigma(\\mathbf{c}^a_{ji}) \\odot
    \\tanh(\\mathbf{c}^b_{ji})\\big)\\big)` with :math:`[\\mathbf{c}^a, \\mathbf{c}^b] =
    \\mathrm{BN}(\\mathbf{W}_1 [\\mathbf{h}_i \\Vert \\mathbf{e}_{ji}])`."""

    def __init__(self, hidden_node_channels: int, hidden_edge_channels: int):
        super().__init__()
        self.lin_c1 = Linear(hidden_node_channels + hidden_edge_channels,
                             2 * hidden_node_channels)
        self.bn_c1 = BatchNorm1d(2 * hidden_node_channels)
        self.bn = BatchNorm1d(hidden_node_channels)

    def reset_parameters(self) -> None:
        self.lin_c1.reset_parameters()
        self.bn_c1.reset_parameters()
        self.bn.reset_parameters()

    def forward(self, node_emb: Tensor, edge_emb: Tensor, i: Tensor) -> Tensor:
        c1 = _gated(self.lin_c1(torch.cat([node_emb[i], edge_emb], dim=1)), self.bn_c1)
        c1 = self.bn(scatter(c1, i, 0, node_emb.size(0), "sum"))
        return torch.tanh(node_emb + c1)


class EdgeBlock(torch.nn.Module):
    """Edge update :math:`\\mathbf{e}_{ji} \\leftarrow \\tanh(\\mathbf{e}_{ji} +
    \\mathbf{c}_2 + \\mathbf{c}_3)`: a gated term of the two atoms,
    :math:`\\mathbf{W}_2 (\\mathbf{h}_i \\odot \\mathbf{h}_j)`, and a gated sum over the
    triplets :math:`k \\to j \\to i` of :math:`\\mathbf{W}_3 [\\mathbf{h}_i \\Vert
    \\mathbf{h}_j \\Vert \\mathbf{h}_k \\Vert \\mathbf{e}_{ji} \\Vert \\mathbf{e}_{kj}]`,
    each batch-normalised."""

    def __init__(self, hidden_node_channels: int, hidden_edge_channels: int):
        super().__init__()
        self.lin_c2 = Linear(hidden_node_channels, 2 * hidden_edge_channels)
        self.lin_c3 = Linear(3 * hidden_node_channels + 2 * hidden_edge_channels,
                             2 * hidden_edge_channels)
        self.bn_c2 = BatchNorm1d(2 * hidden_edge_channels)
        self.bn_c3 = BatchNorm1d(2 * hidden_edge_channels)
        self.bn_c2_2 = BatchNorm1d(hidden_edge_channels)
        self.bn_c3_2 = BatchNorm1d(hidden_edge_channels)

    def reset_parameters(self) -> None:
        for module in (self.lin_c2, self.lin_c3, self.bn_c2, self.bn_c3, self.bn_c2_2,
                       self.bn_c3_2):
            module.reset_parameters()

    def forward(self, node_emb: Tensor, edge_emb: Tensor, i: Tensor, j: Tensor,
                idx_i: Tensor, idx_j: Tensor, idx_k: Tensor, idx_ji: Tensor,
                idx_kj: Tensor) -> Tensor:
        c2 = self.bn_c2_2(_gated(self.lin_c2(node_emb[i] * node_emb[j]), self.bn_c2))
        c3 = torch.cat([node_emb[idx_i], node_emb[idx_j], node_emb[idx_k], edge_emb[idx_ji],
                        edge_emb[idx_kj]], dim=1)
        c3 = _gated(self.lin_c3(c3), self.bn_c3)
        c3 = self.bn_c3_2(scatter(c3, idx_ji, 0, edge_emb.size(0), "sum"))
        return torch.tanh(edge_emb + c2 + c3)


class GNNFF(torch.nn.Module):
    """The Graph Neural Network Force Field: atomic forces predicted directly, as sums of
    learned magnitudes along the unit vectors to the neighbours,

    .. math::
        \\mathbf{F}_i = \\sum_{j \\in \\mathcal{N}(i)} f(\\mathbf{e}_{ji})\\,
        \\frac{\\mathbf{x}_i - \\mathbf{x}_j}{\\lVert \\mathbf{x}_i - \\mathbf{x}_j \\rVert},

    so the forces are invariant to translations and rotate with the molecule.  Atoms are
    embedded by atomic number and edges by ``hidden_edge_channels`` Gaussians of their
    length centred on ``[0, 5]`` (whatever the cutoff, as in the reference library);
    ``num_layers`` blocks update atoms (:class:`NodeBlock`) then edges
    (:class:`EdgeBlock`) on the radius graph.  The output has a row for every atom (the
    reference library drops trailing atoms without neighbours).

    Args:
        hidden_node_channels (int): atom embedding size.
        hidden_edge_channels (int): edge embedding size (and number of Gaussians).
        num_layers (int): number of message passing blocks.
        cutoff (float, optional): interaction cutoff distance. (default: ``5.0``)
        max_num_neighbors (int, optional): neighbours per atom within the cutoff.
            (default: ``32``)
    """

    def __init__(self, hidden_node_channels: int, hidden_edge_channels: int, num_layers: int,
                 cutoff: float = 5.0, max_num_neighbors: int = 32):
        super().__init__()
        self.cutoff = cutoff
        self.max_num_neighbors = max_num_neighbors
        self.node_emb = Sequential(
            Embedding(95, hidden_node_channels), ShiftedSoftplus(),
            Linear(hidden_node_channels, hidden_node_channels), ShiftedSoftplus(),
            Linear(hidden_node_channels, hidden_node_channels))
        self.edge_emb = GaussianFilter(0.0, 5.0, hidden_edge_channels)
        self.node_blocks = ModuleList([NodeBlock(hidden_node_channels, hidden_edge_channels)
                                       for _ in range(num_layers)])
        self.edge_blocks = ModuleList([EdgeBlock(hidden_node_channels, hidden_edge_channels)
                                       for _ in range(num_layers)])
        self.force_predictor = Sequential(
            Linear(hidden_edge_channels, hidden_edge_channels), ShiftedSoftplus(),
            Linear(hidden_edge_channels, hidden_edge_channels), ShiftedSoftplus(),
            Linear(hidden_edge_channels, 1))

    def reset_parameters(self) -> None:
        for seq in (self.node_emb, self.force_predictor):
            for module in seq:
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
        for block in (*self.node_blocks, *self.edge_blocks):
            block.reset_parameters()

    def forward(self, z: Tensor, pos: Tensor, batch: Optional[Tensor] = None) -> Tensor:
        """Forces ``[N, 3]`` on atoms with atomic numbers ``z`` ``[N]`` at ``pos``."""
        if z.dim() != 1 or z.is_floating_point():
            raise ValueError(f"GNNFF: 'z' must be a 1-d integer tensor of atomic numbers, "
                             f"got {z.dtype} of shape {list(z.shape)}")
        if pos.dim() != 2 or pos.shape != (z.shape[0], 3):
            raise ValueError(f"GNNFF: 'pos' must be [{z.shape[0]}, 3], got "
                             f"{list(pos.shape)}")
        from gfx.nn.pool.knn import radius_graph  # point-cloud helpers load on first use
        edge_index = radius_graph(pos, r=self.cutoff, batch=batch,
                                  max_num_neighbors=self.max_num_neighbors)
        i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji = triplets(edge_index, z.size(0))
        dist = (pos[i] - pos[j]).pow(2).sum(dim=-1).sqrt()
        unit_vec = (pos[i] - pos[j]) / dist.view(-1, 1)
        node_emb = self.node_emb(z)
        edge_emb = self.edge_emb(dist)
        for node_block, edge_block in zip(self.node_blocks, self.edge_blocks):
            node_emb = node_block(node_emb, edge_emb, i)
            edge_emb = edge_block(node_emb, edge_emb, i, j, idx_i, idx_j, idx_k, idx_ji,
                                  idx_kj)
        force = self.force_predictor(edge_emb) * unit_vec
        return scatter(force, i, 0, z.size(0), "sum")


__all__ = ["GNNFF"]
