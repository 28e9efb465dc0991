"""``SchNet``: continuous-filter convolutions over interatomic distances (Schütt et al.)."""
from __future__ import annotations

import math
from typing import Callable, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, Linear, ModuleList, Sequential

from gfx.message_passing import MessagePassing
from gfx.nn.aggr import MeanAggregation, SumAggregation


class ShiftedSoftplus(torch.nn.Module):
    """:math:`\\mathrm{ssp}(x) = \\ln(1 + e^x) - \\ln 2`, zero at the origin."""

    def __init__(self):
        super().__init__()
        self.shift = math.log(2.0)

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x) - self.shift


class GaussianSmearing(torch.nn.Module):
    """Expand distances in Gaussians: :math:`e_k(d) = \\exp(-\\gamma (d - \\mu_k)^2)` with
    ``num_gaussians`` centres :math:`\\mu_k` evenly spaced on ``[start, stop]`` and
    :math:`\\gamma = 1 / (2 \\Delta\\mu^2)`.

    Args:
        start (float, optional): first centre. (default: ``0.0``)
        stop (float, optional): last centre. (default: ``5.0``)
        num_gaussians (int, optional): number of centres (at least 2). (default: ``50``)
    """

    def __init__(self, start: float = 0.0, stop: float = 5.0, num_gaussians: int = 50):
        super().__init__()
        if num_gaussians < 2:
            raise ValueError(f"GaussianSmearing: 'num_gaussians' must be at least 2, got "
                             f"{num_gaussians}")
        offset = torch.linspace(start, stop, num_gaussians)
        self.coeff = -0.5 / (offset[1] - offset[0]).item() ** 2
        self.register_buffer("offset", offset)

    def forward(self, dist: Tensor) -> Tensor:
        diff = dist.view(-1, 1) - self.offset.view(1, -1)
        return torch.exp(self.coeff * diff.pow(2))


class RadiusInteractionGraph(torch.nn.Module):
    """Edges between atoms of one molecule closer than ``cutoff``, with their lengths.

    Args:
        cutoff (float, optional): radius. (default: ``10.0``)
        max_num_neighbors (int, optional): most neighbours per atom. (default: ``32``)
    """

    def __init__(self, cutoff: float = 10.0, max_num_neighbors: int = 32):
        super().__init__()
        self.cutoff = cutoff
        self.max_num_neighbors = max_num_neighbors

    def forward(self, pos: Tensor, batch: Tensor) -> Tuple[Tensor, Tensor]:
        from gfx.nn.pool.knn import radius_graph  # point-cloud helpers load on first use
        edge_index = radius_graph(pos, r=self.cutoff, batch=batch,
                                  max_num_neighbors=self.max_num_neighbors)
        row, col = edge_index
        return edge_index, (pos[row] - pos[col]).norm(dim=-1)


class CFConv(MessagePassing):
    """The continuous-filter convolution:
    :math:`\\mathbf{x}'_i = \\mathbf{W}_2 \\sum_j (\\mathbf{W}_1 \\mathbf{x}_j) \\odot
    h(\\mathbf{e}_{ji}) \\, C(d_{ji}) + \\mathbf{b}` with the cosine cutoff
    :math:`C(d) = \\tfrac12 (\\cos(\\pi d / r_c) + 1)`.

    Args:
        in_channels (int): input features.
        out_channels (int): output features.
        num_filters (int): filter size.
        nn (torch.nn.Module): the filter network :math:`h`.
        cutoff (float): the cutoff :math:`r_c`.
    """

    def __init__(self, in_channels: int, out_channels: int, num_filters: int,
                 nn: torch.nn.Module, cutoff: float):
        super().__init__(aggr="add")
        self.lin1 = Linear(in_channels, num_filters, bias=False)
        self.lin2 = Linear(num_filters, out_channels)
        self.nn = nn
        self.cutoff = cutoff
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.lin1.weight)
        torch.nn.init.xavier_uniform_(self.lin2.weight)
        self.lin2.bias.data.fill_(0)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor,
                edge_attr: Tensor) -> Tensor:
        envelope = 0.5 * (torch.cos(edge_weight * math.pi / self.cutoff) + 1.0)
        filters = self.nn(edge_attr) * envelope.view(-1, 1)
        x = self.propagate(edge_index, x=self.lin1(x), W=filters)
        return self.lin2(x)

    def message(self, x_j: Tensor, W: Tensor) -> Tensor:
        return x_j * W


class InteractionBlock(torch.nn.Module):
    """One SchNet interaction: :class:`CFConv`, shifted softplus, linear map.

    Args:
        hidden_channels (int): atom features.
        num_gaussians (int): distance features.
        num_filters (int): filter size.
        cutoff (float): cutoff of the filters.
    """

    def __init__(self, hidden_channels: int, num_gaussians: int, num_filters: int,
                 cutoff: float):
        super().__init__()
        self.mlp = Sequential(Linear(num_gaussians, num_filters), ShiftedSoftplus(),
                              Linear(num_filters, num_filters))
        self.conv = CFConv(hidden_channels, hidden_channels, num_filters, self.mlp, cutoff)
        self.act = ShiftedSoftplus()
        self.lin = Linear(hidden_channels, hidden_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.mlp[0], self.mlp[2], self.lin):
            torch.nn.init.xavier_uniform_(lin.weight)
            lin.bias.data.fill_(0)
        self.conv.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor,
                edge_attr: Tensor) -> Tensor:
        return self.lin(self.act(self.conv(x, edge_index, edge_weight, edge_attr)))


class SchNet(torch.nn.Module):
    """SchNet: atoms embedded by atomic number, refined by continuous-filter
    convolutions over the interatomic distances, and read out per molecule.

    .. math::
        \\mathbf{x}^{\\prime}_i = \\sum_{j \\in \\mathcal{N}(i)} \\mathbf{x}_j \\odot
        h_{\\mathbf{\\Theta}} ( \\exp(-\\gamma(\\mathbf{e}_{j,i} - \\mathbf{\\mu}))),

    with :math:`h_{\\mathbf{\\Theta}}` an MLP and :math:`\\mathbf{e}_{j,i}` the distance
    between atoms :math:`j` and :math:`i`.  Each of the ``num_interactions`` blocks adds
    its output to the atom features; a two-layer MLP maps every atom to a scalar, and the
    readout sums (or averages) the atoms of each molecule.

    Args:
        hidden_channels (int, optional): hidden size. (default: ``128``)
        num_filters (int, optional): filter size. (default: ``128``)
        num_interactions (int, optional): interaction blocks. (default: ``6``)
        num_gaussians (int, optional): Gaussians :math:`\\mu`. (default: ``50``)
        cutoff (float, optional): interaction cutoff distance. (default: ``10.0``)
        interaction_graph (callable, optional): ``(pos, batch) -> (edge_index,
            edge_weight)``; ``None`` connects atoms closer than ``cutoff`` (at most
            ``max_num_neighbors`` each). (default: ``None``)
        max_num_neighbors (int, optional): neighbours per atom. (default: ``32``)
        readout (str, optional): ``"add"`` or ``"mean"``. (default: ``"add"``)
        dipole (bool, optional): predict the magnitude of the dipole moment from atom
            charges and the centre of mass (needs the ``ase`` package for atomic masses).
            (default: ``False``)
        mean (float, optional): mean of the target, added back. (default: ``None``)
        std (float, optional): standard deviation of the target. (default: ``None``)
        atomref (Tensor, optional): per-element reference values ``[max_z]`` added to
            every atom. (default: ``None``)
    """

    def __init__(self, hidden_channels: int = 128, num_filters: int = 128,
                 num_interactions: int = 6, num_gaussians: int = 50, cutoff: float = 10.0,
                 interaction_graph: Optional[Callable] = None, max_num_neighbors: int = 32,
                 readout: str = "add", dipole: bool = False, mean: Optional[float] = None,
                 std: Optional[float] = None, atomref: Optional[Tensor] = None):
        super().__init__()
        if readout not in ("add", "sum", "mean"):
            raise ValueError(f"SchNet: 'readout' must be 'add' or 'mean', got {readout!r}")
        self.hidden_channels = hidden_channels
        self.num_filters = num_filters
        self.num_interactions = num_interactions
        self.num_gaussians = num_gaussians
        self.cutoff = cutoff
        self.dipole = dipole
        self.sum_aggr = SumAggregation()
        self.readout = MeanAggregation() if readout == "mean" and not dipole \
            else SumAggregation()
        self.mean = mean
        self.std = std
        self.scale = None
        if dipole:
            try:
                import ase.data
            except ImportError as err:
                raise ImportError("SchNet: dipole=True needs atomic masses from the "
                                  "optional package 'ase' (pip install ase)") from err
            self.register_buffer("atomic_mass", torch.from_numpy(ase.data.atomic_masses)
                                 .float())

        self.embedding = Embedding(100, hidden_channels, padding_idx=0)
        self.interaction_graph = interaction_graph if interaction_graph is not None \
            else RadiusInteractionGraph(cutoff, max_num_neighbors)
        self.distance_expansion = GaussianSmearing(0.0, cutoff, num_gaussians)
        self.interactions = ModuleList([
            InteractionBlock(hidden_channels, num_gaussians, num_filters, cutoff)
            for _ in range(num_interactions)])
        self.lin1 = Linear(hidden_channels, hidden_channels // 2)
        self.act = ShiftedSoftplus()
        self.lin2 = Linear(hidden_channels // 2, 1)

        self.register_buffer("initial_atomref", atomref)
        self.atomref = None
        if atomref is not None:
            self.atomref = Embedding(100, 1)
            self.atomref.weight.data.copy_(atomref.view(-1, 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.embedding.reset_parameters()
        for block in self.interactions:
            block.reset_parameters()
        for lin in (self.lin1, self.lin2):
            torch.nn.init.xavier_uniform_(lin.weight)
            lin.bias.data.fill_(0)
        if self.atomref is not None:
            self.atomref.weight.data.copy_(self.initial_atomref.view(-1, 1))

    def forward(self, z: Tensor, pos: Tensor, batch: Optional[Tensor] = None) -> Tensor:
        """Predict one value per molecule, ``[num_graphs, 1]``.

        Args:
            z (Tensor): atomic numbers ``[N]`` (0 to 99).
            pos (Tensor): coordinates ``[N, 3]``.
            batch (Tensor, optional): molecule of each atom ``[N]``. (default: ``None``)
        """
        if z.dim() != 1 or z.is_floating_point():
            raise ValueError(f"SchNet: 'z' must be a 1-d integer tensor of atomic numbers, "
                             f"got {z.dtype} of shape {list(z.shape)}")
        if pos.dim() != 2 or pos.shape[0] != z.shape[0]:
            raise ValueError(f"SchNet: 'pos' must be [{z.shape[0]}, 3], got "
                             f"{list(pos.shape)}")
        batch = torch.zeros_like(z) if batch is None else batch
        h = self.embedding(z)
        edge_index, edge_weight = self.interaction_graph(pos, batch)
        edge_attr = self.distance_expansion(edge_weight)
        for block in self.interactions:
            h = h + block(h, edge_index, edge_weight, edge_attr)
        h = self.lin2(self.act(self.lin1(h)))

        if self.dipole:
            mass = self.atomic_mass[z].view(-1, 1)
            total = self.sum_aggr(mass, batch, dim=0)
            centre = self.sum_aggr(mass * pos, batch, dim=0) / total
            h = h * (pos - centre.index_select(0, batch))
        if not self.dipole and self.mean is not None and self.std is not None:
            h = h * self.std + self.mean
        if not self.dipole and self.atomref is not None:
            h = h + self.atomref(z)
        out = self.readout(h, batch, dim=0)
        if self.dipole:
            out = torch.norm(out, dim=-1, keepdim=True)
        if self.scale is not None:
            out = self.scale * out
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(hidden_channels={self.hidden_channels}, "
                f"num_filters={self.num_filters}, "
                f"num_interactions={self.num_interactions}, "
                f"num_gaussians={self.num_gaussians}, cutoff={self.cutoff})")


__all__ = ["SchNet"]
