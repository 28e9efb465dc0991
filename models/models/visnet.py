"""``ViSNet``: equivariant vector-scalar interactive message passing (Wang et al., 2022).

# NOTE [visnet layout]
Every atom carries a scalar embedding :math:`\\mathbf{x}_i \\in \\mathbb{R}^F` and vector
features :math:`\\mathbf{v}_i \\in \\mathbb{R}^{S \\times F}`, where the
:math:`S = (l_{max}+1)^2 - 1` rows are real spherical harmonics of degree 1 (and 2), so
they rotate with the molecule.  Every edge :math:`j \\to i` carries features
:math:`\\mathbf{f}_{ij}` and the harmonics :math:`\\mathbf{d}_{ij}` of its unit vector.
A ViS-MP layer (:class:`ViS_MP`) updates all three with multi-head attention:

.. math::
    \\alpha_{ij} = \\mathrm{SiLU}\\Big(\\sum \\mathbf{q}_i \\odot \\mathbf{k}_j \\odot
    \\mathrm{SiLU}(\\mathbf{W}_{dk}\\mathbf{f}_{ij})\\Big) \\, C(r_{ij}), \\qquad
    \\mathbf{m}_{ij} = \\alpha_{ij}\\, \\mathbf{v}_j \\odot
    \\mathrm{SiLU}(\\mathbf{W}_{dv}\\mathbf{f}_{ij})

.. math::
    [\\mathbf{s}^1, \\mathbf{s}^2] = \\mathrm{SiLU}(\\mathbf{W}_s \\mathbf{m}_{ij}),
    \\qquad \\vec{\\mathbf{m}}_{ij} = \\mathbf{v}_j \\odot \\mathbf{s}^1 + \\mathbf{s}^2
    \\otimes \\mathbf{d}_{ij}

summed over the neighbours, then mixed with the inner products of the vector features
(scalar update) and with a projection of the vectors (vector update).  Edge features are
updated from the rejections of the two endpoint vectors from :math:`\\mathbf{d}_{ij}`.
The readout (:class:`EquivariantScalar`) maps every atom to a scalar; molecules sum (or
average) their atoms.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, LayerNorm, Linear, Parameter

from gfx.message_passing import MessagePassing
from gfx.ops import scatter


class CosineCutoff(torch.nn.Module):
    """:math:`C(d) = \\tfrac12(\\cos(\\pi d / c) + 1)` for :math:`d < c`, else 0."""

    def __init__(self, cutoff: float):
        super().__init__()
        self.cutoff = cutoff

    def forward(self, distances: Tensor) -> Tensor:
        out = 0.5 * (torch.cos(distances * math.pi / self.cutoff) + 1.0)
        return out * (distances < self.cutoff).to(distances.dtype)


class ExpNormalSmearing(torch.nn.Module):
    """Radial basis :math:`C(d) \\exp(-\\beta_k (e^{-\\alpha d} - \\mu_k)^2)` with
    :math:`\\alpha = 5 / c`, centres :math:`\\mu_k` evenly spaced on :math:`[e^{-c}, 1]` and
    :math:`\\beta_k = (2 (1 - e^{-c}) / K)^{-2}`."""

    def __init__(self, cutoff: float = 5.0, num_rbf: int = 128, trainable: bool = True):
        super().__init__()
        self.cutoff = cutoff
        self.num_rbf = num_rbf
        self.trainable = trainable
        self.cutoff_fn = CosineCutoff(cutoff)
        self.alpha = 5.0 / cutoff
        means, betas = self._initial_params()
        if trainable:
            self.register_parameter("means", Parameter(means))
            self.register_parameter("betas", Parameter(betas))
        else:
            self.register_buffer("means", means)
            self.register_buffer("betas", betas)

    def _initial_params(self) -> Tuple[Tensor, Tensor]:
        start = torch.exp(torch.scalar_tensor(-self.cutoff))
        means = torch.linspace(start, 1, self.num_rbf)
        betas = torch.tensor([(2 / self.num_rbf * (1 - start)) ** -2] * self.num_rbf)
        return means, betas

    def reset_parameters(self) -> None:
        means, betas = self._initial_params()
        self.means.data.copy_(means)
        self.betas.data.copy_(betas)

    def forward(self, dist: Tensor) -> Tensor:
        dist = dist.unsqueeze(-1)
        return self.cutoff_fn(dist) * torch.exp(
            -self.betas * (torch.exp(self.alpha * (-dist)) - self.means) ** 2)


class Sphere(torch.nn.Module):
    """Real spherical harmonics of degree 1 (and 2 for ``lmax=2``) of unit vectors, in
    the component order :math:`(x, y, z)` and
    :math:`(\\sqrt3 xz, \\sqrt3 xy, y^2 - \\tfrac12(x^2+z^2), \\sqrt3 yz,
    \\tfrac{\\sqrt3}{2}(z^2 - x^2))`."""

    def __init__(self, lmax: int = 2):
        super().__init__()
        if lmax not in (1, 2):
            raise ValueError(f"ViSNet: 'lmax' must be 1 or 2, got {lmax}")
        self.lmax = lmax

    def forward(self, edge_vec: Tensor) -> Tensor:
        x, y, z = edge_vec[:, 0], edge_vec[:, 1], edge_vec[:, 2]
        parts = [x, y, z]
        if self.lmax == 2:
            s3 = math.sqrt(3.0)
            parts += [s3 * x * z, s3 * x * y, y.pow(2) - 0.5 * (x.pow(2) + z.pow(2)),
                      s3 * y * z, s3 / 2 * (z.pow(2) - x.pow(2))]
        return torch.stack(parts, dim=-1)


def _max_min_norm(vec: Tensor, eps: float) -> Tensor:
    dist = torch.norm(vec, dim=1, keepdim=True)
    if (dist == 0).all():
        return torch.zeros_like(vec)
    dist = dist.clamp(min=eps)
    direct = vec / dist
    max_val, _ = torch.max(dist, dim=-1)
    min_val, _ = torch.min(dist, dim=-1)
    delta = (max_val - min_val).view(-1)
    delta = torch.where(delta == 0, torch.ones_like(delta), delta)
    dist = (dist - min_val.view(-1, 1, 1)) / delta.view(-1, 1, 1)
    return F.relu(dist) * direct


def vec_layer_norm(vec: Tensor, weight: Tensor, max_min: bool, eps: float) -> Tensor:
    """:class:`VecLayerNorm` as a function: one call node in a captured graph (it
    branches on the number of spherical components and on all-zero inputs)."""
    if vec.shape[1] == 3:
        vec = _max_min_norm(vec, eps) if max_min else vec
    elif vec.shape[1] == 8:
        first, second = torch.split(vec, [3, 5], dim=1)
        if max_min:
            first, second = _max_min_norm(first, eps), _max_min_norm(second, eps)
        vec = torch.cat([first, second], dim=1)
    else:
        raise ValueError(f"VecLayerNorm: 'vec' must have 3 or 8 spherical components, "
                         f"got shape {list(vec.shape)}")
    return vec * weight.unsqueeze(0).unsqueeze(0)


torch.fx.wrap("vec_layer_norm")


class VecLayerNorm(torch.nn.Module):
    """Normalise vector features per atom and degree, then scale by a weight.

    With ``norm_type="max_min"`` the lengths of the ``F`` vectors of one atom (and one
    degree) are min-max rescaled to :math:`[0, 1]` keeping their directions; with
    ``None`` only the weight applies.  The computation is :func:`vec_layer_norm`, one
    node when captured.

    Args:
        hidden_channels (int): features ``F``.
        trainable (bool): learn the weight.
        norm_type (str, optional): ``"max_min"`` or ``None``. (default: ``"max_min"``)
    """

    def __init__(self, hidden_channels: int, trainable: bool,
                 norm_type: Optional[str] = "max_min"):
        super().__init__()
        if norm_type not in (None, "none", "max_min"):
            raise ValueError(f"ViSNet: 'vecnorm_type' must be None or 'max_min', got "
                             f"{norm_type!r}")
        self.hidden_channels = hidden_channels
        self.eps = 1e-12
        self.norm_type = norm_type
        weight = torch.ones(hidden_channels)
        if trainable:
            self.register_parameter("weight", Parameter(weight))
        else:
            self.register_buffer("weight", weight)

    def reset_parameters(self) -> None:
        self.weight.data.fill_(1.0)

    def max_min_norm(self, vec: Tensor) -> Tensor:
        return _max_min_norm(vec, self.eps)

    def forward(self, vec: Tensor) -> Tensor:
        return vec_layer_norm(vec, self.weight, self.norm_type == "max_min", self.eps)


class Distance(torch.nn.Module):
    """Radius graph with self-loops, edge lengths (0 on loops) and vectors
    :math:`\\mathbf{x}_j - \\mathbf{x}_i` (source minus target)."""

    def __init__(self, cutoff: float, max_num_neighbors: int = 32,
                 add_self_loops: bool = True):
        super().__init__()
        self.cutoff = cutoff
        self.max_num_neighbors = max_num_neighbors
        self.add_self_loops = add_self_loops

    def forward(self, pos: Tensor, batch: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        from gfx.nn.pool.knn import radius_graph  # point-cloud helpers load on first use
        edge_index = radius_graph(pos, r=self.cutoff, batch=batch, loop=self.add_self_loops,
                                  max_num_neighbors=self.max_num_neighbors)
        edge_vec = pos[edge_index[0]] - pos[edge_index[1]]
        mask = edge_index[0] != edge_index[1]
        edge_weight = torch.zeros(edge_vec.size(0), device=pos.device, dtype=pos.dtype)
        edge_weight[mask] = torch.norm(edge_vec[mask], dim=-1)
        return edge_index, edge_weight, edge_vec


class NeighborEmbedding(MessagePassing):
    """:math:`\\mathbf{x}_i \\leftarrow \\mathbf{W}_c[\\mathbf{x}_i \\Vert \\sum_{j \\ne i}
    \\mathbf{h}_{z_j} \\odot \\mathbf{W}_d \\mathbf{e}_{ij}\\, C(r_{ij})]`."""

    def __init__(self, hidden_channels: int, num_rbf: int, cutoff: float, max_z: int = 100):
        super().__init__(aggr="add")
        self.embedding = Embedding(max_z, hidden_channels)
        self.distance_proj = Linear(num_rbf, hidden_channels)
        self.combine = Linear(hidden_channels * 2, hidden_channels)
        self.cutoff = CosineCutoff(cutoff)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.embedding.reset_parameters()
        torch.nn.init.xavier_uniform_(self.distance_proj.weight)
        torch.nn.init.xavier_uniform_(self.combine.weight)
        self.distance_proj.bias.data.zero_()
        self.combine.bias.data.zero_()

    def forward(self, z: Tensor, x: Tensor, edge_index: Tensor, edge_weight: Tensor,
                edge_attr: Tensor) -> Tensor:
        mask = edge_index[0] != edge_index[1]
        edge_index, edge_weight, edge_attr = edge_index[:, mask], edge_weight[mask], \
            edge_attr[mask]
        W = self.distance_proj(edge_attr) * self.cutoff(edge_weight).view(-1, 1)
        x_neighbors = self.propagate(edge_index, x=self.embedding(z), W=W)
        return self.combine(torch.cat([x, x_neighbors], dim=1))

    def message(self, x_j: Tensor, W: Tensor) -> Tensor:
        return x_j * W


class EdgeEmbedding(torch.nn.Module):
    """Edge features :math:`(\\mathbf{x}_i + \\mathbf{x}_j) \\odot \\mathbf{W}
    \\mathbf{e}_{ij}`."""

    def __init__(self, num_rbf: int, hidden_channels: int):
        super().__init__()
        self.edge_proj = Linear(num_rbf, hidden_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.edge_proj.weight)
        self.edge_proj.bias.data.zero_()

    def forward(self, edge_index: Tensor, edge_attr: Tensor, x: Tensor) -> Tensor:
        return (x[edge_index[1]] + x[edge_index[0]]) * self.edge_proj(edge_attr)



class ViS_MP(MessagePassing):
    """One ViS-MP layer (NOTE [visnet layout]): returns the updates ``(dx, dvec,
    df_ij)`` of the atom scalars, atom vectors and edge features (``df_ij`` is ``None``
    for the last layer).

    Args:
        num_heads (int): attention heads (must divide ``hidden_channels``).
        hidden_channels (int): features ``F``.
        cutoff (float): cutoff of the attention weights.
        vecnorm_type (str, optional): see :class:`VecLayerNorm`.
        trainable_vecnorm (bool): learn the vector norm weight.
        last_layer (bool, optional): skip the edge update. (default: ``False``)
    """

    def __init__(self, num_heads: int, hidden_channels: int, cutoff: float,
                 vecnorm_type: Optional[str], trainable_vecnorm: bool,
                 last_layer: bool = False):
        super().__init__(aggr="add", node_dim=0)
        if hidden_channels % num_heads != 0:
            raise ValueError(f"ViSNet: 'hidden_channels' ({hidden_channels}) must be "
                             f"divisible by 'num_heads' ({num_heads})")
        self.num_heads = num_heads
        self.hidden_channels = hidden_channels
        self.head_dim = hidden_channels // num_heads
        self.last_layer = last_layer
        self.layernorm = LayerNorm(hidden_channels)
        self.vec_layernorm = VecLayerNorm(hidden_channels, trainable=trainable_vecnorm,
                                          norm_type=vecnorm_type)
        self.act = torch.nn.SiLU()
        self.attn_activation = torch.nn.SiLU()
        self.cutoff = CosineCutoff(cutoff)
        self.vec_proj = Linear(hidden_channels, hidden_channels * 3, bias=False)
        self.q_proj = Linear(hidden_channels, hidden_channels)
        self.k_proj = Linear(hidden_channels, hidden_channels)
        self.v_proj = Linear(hidden_channels, hidden_channels)
        self.dk_proj = Linear(hidden_channels, hidden_channels)
        self.dv_proj = Linear(hidden_channels, hidden_channels)
        self.s_proj = Linear(hidden_channels, hidden_channels * 2)
        if not last_layer:
            self.f_proj = Linear(hidden_channels, hidden_channels)
            self.w_src_proj = Linear(hidden_channels, hidden_channels, bias=False)
            self.w_trg_proj = Linear(hidden_channels, hidden_channels, bias=False)
        self.o_proj = Linear(hidden_channels, hidden_channels * 3)
        self.reset_parameters()

    @staticmethod
    def vector_rejection(vec: Tensor, d_ij: Tensor) -> Tensor:
        """The part of ``vec`` ``[E, S, F]`` orthogonal to ``d_ij`` ``[E, S]``."""
        along = (vec * d_ij.unsqueeze(2)).sum(dim=1, keepdim=True)
        return vec - along * d_ij.unsqueeze(2)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.layernorm.reset_parameters()
        self.vec_layernorm.reset_parameters()
        torch.nn.init.xavier_uniform_(self.vec_proj.weight)
        for lin in (self.q_proj, self.k_proj, self.v_proj, self.dk_proj, self.dv_proj,
                    self.s_proj, self.o_proj):
            torch.nn.init.xavier_uniform_(lin.weight)
            lin.bias.data.zero_()
        if not self.last_layer:
            torch.nn.init.xavier_uniform_(self.f_proj.weight)
            self.f_proj.bias.data.zero_()
            torch.nn.init.xavier_uniform_(self.w_src_proj.weight)
            torch.nn.init.xavier_uniform_(self.w_trg_proj.weight)

    def forward(self, x: Tensor, vec: Tensor, edge_index: Tensor, r_ij: Tensor,
                f_ij: Tensor, d_ij: Tensor) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        x = self.layernorm(x)
        vec = self.vec_layernorm(vec)
        heads = (-1, self.num_heads, self.head_dim)
        q = self.q_proj(x).reshape(heads)
        k = self.k_proj(x).reshape(heads)
        v = self.v_proj(x).reshape(heads)
        dk = self.act(self.dk_proj(f_ij)).reshape(heads)
        dv = self.act(self.dv_proj(f_ij)).reshape(heads)
        vec1, vec2, vec3 = torch.split(self.vec_proj(vec), self.hidden_channels, dim=-1)
        vec_dot = (vec1 * vec2).sum(dim=1)
        x, vec_out = self.propagate(edge_index, q=q, k=k, v=v, dk=dk, dv=dv, vec=vec,
                                    r_ij=r_ij, d_ij=d_ij)
        o1, o2, o3 = torch.split(self.o_proj(x), self.hidden_channels, dim=1)
        dx = vec_dot * o2 + o3
        dvec = vec3 * o1.unsqueeze(1) + vec_out
        if self.last_layer:
            return dx, dvec, None
        df_ij = self.edge_updater(edge_index, vec=vec, d_ij=d_ij, f_ij=f_ij)
        return dx, dvec, df_ij

    def message(self, q_i: Tensor, k_j: Tensor, v_j: Tensor, vec_j: Tensor, dk: Tensor,
                dv: Tensor, r_ij: Tensor, d_ij: Tensor) -> Tuple[Tensor, Tensor]:
        attn = self.attn_activation((q_i * k_j * dk).sum(dim=-1))
        attn = attn * self.cutoff(r_ij).unsqueeze(1)
        v_j = (v_j * dv * attn.unsqueeze(2)).view(-1, self.hidden_channels)
        s1, s2 = torch.split(self.act(self.s_proj(v_j)), self.hidden_channels, dim=1)
        vec_j = vec_j * s1.unsqueeze(1) + s2.unsqueeze(1) * d_ij.unsqueeze(2)
        return v_j, vec_j

    def edge_update(self, vec_i: Tensor, vec_j: Tensor, d_ij: Tensor, f_ij: Tensor) -> Tensor:
        w1 = self.vector_rejection(self.w_trg_proj(vec_i), d_ij)
        w2 = self.vector_rejection(self.w_src_proj(vec_j), -d_ij)
        return self.act(self.f_proj(f_ij)) * (w1 * w2).sum(dim=1)

    def aggregate(self, features: Tuple[Tensor, Tensor], index: Tensor,
                  ptr: Optional[Tensor], dim_size: Optional[int]) -> Tuple[Tensor, Tensor]:
        x, vec = features
        return (scatter(x, index, 0, dim_size, "sum"), scatter(vec, index, 0, dim_size, "sum"))

    def update(self, inputs: Tuple[Tensor, Tensor]) -> Tuple[Tensor, Tensor]:
        return inputs


class GatedEquivariantBlock(torch.nn.Module):
    """Gated equivariant output layer: scalars from ``[x, |W_1 v|]``, vectors
    :math:`\\mathbf{s} \\odot \\mathbf{W}_2 \\mathbf{v}` (a zero vector has length 0)."""

    def __init__(self, hidden_channels: int, out_channels: int,
                 intermediate_channels: Optional[int] = None,
                 scalar_activation: bool = False):
        super().__init__()
        self.out_channels = out_channels
        intermediate_channels = intermediate_channels or hidden_channels
        self.vec1_proj = Linear(hidden_channels, hidden_channels, bias=False)
        self.vec2_proj = Linear(hidden_channels, out_channels, bias=False)
        self.update_net = torch.nn.Sequential(
            Linear(hidden_channels * 2, intermediate_channels), torch.nn.SiLU(),
            Linear(intermediate_channels, out_channels * 2))
        self.act = torch.nn.SiLU() if scalar_activation else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.vec1_proj.weight)
        torch.nn.init.xavier_uniform_(self.vec2_proj.weight)
        for lin in (self.update_net[0], self.update_net[2]):
            torch.nn.init.xavier_uniform_(lin.weight)
            lin.bias.data.zero_()

    def forward(self, x: Tensor, v: Tensor) -> Tuple[Tensor, Tensor]:
        buffer = self.vec1_proj(v)
        nonzero = (buffer != 0).view(buffer.size(0), -1).any(dim=1)
        vec1 = buffer.new_zeros(buffer.size(0), buffer.size(2))
        vec1[nonzero] = torch.norm(buffer[nonzero], dim=-2)
        x = torch.cat([x, vec1], dim=-1)
        x, v_gate = torch.split(self.update_net(x), self.out_channels, dim=-1)
        v = v_gate.unsqueeze(1) * self.vec2_proj(v)
        if self.act is not None:
            x = self.act(x)
        return x, v


class EquivariantScalar(torch.nn.Module):
    """Two gated equivariant blocks down to one scalar per atom."""

    def __init__(self, hidden_channels: int):
        super().__init__()
        self.output_network = torch.nn.ModuleList([
            GatedEquivariantBlock(hidden_channels, hidden_channels // 2,
                                  scalar_activation=True),
            GatedEquivariantBlock(hidden_channels // 2, 1, scalar_activation=False)])

    def reset_parameters(self) -> None:
        for layer in self.output_network:
            layer.reset_parameters()

    def pre_reduce(self, x: Tensor, v: Tensor) -> Tensor:
        for layer in self.output_network:
            x, v = layer(x, v)
        return x + v.sum() * 0  # keeps the vector branch in the autograd graph


class Atomref(torch.nn.Module):
    """Adds a per-element reference value :math:`a_{z_i}` to every atom (zeros by
    default)."""

    def __init__(self, atomref: Optional[Tensor] = None, max_z: int = 100):
        super().__init__()
        if atomref is None:
            atomref = torch.zeros(max_z, 1)
        else:
            atomref = torch.as_tensor(atomref)
        if atomref.dim() == 1:
            atomref = atomref.view(-1, 1)
        self.register_buffer("initial_atomref", atomref)
        self.atomref = Embedding(len(atomref), 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.atomref.weight.data.copy_(self.initial_atomref)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        return x + self.atomref(z)


class ViSNetBlock(torch.nn.Module):
    """ViSNet's representation: embeddings, then ``num_layers`` :class:`ViS_MP` layers,
    returning the atom scalars ``[N, F]`` and vectors ``[N, S, F]``."""

    def __init__(self, lmax: int = 1, vecnorm_type: Optional[str] = None,
                 trainable_vecnorm: bool = False, num_heads: int = 8, num_layers: int = 6,
                 hidden_channels: int = 128, num_rbf: int = 32, trainable_rbf: bool = False,
                 max_z: int = 100, cutoff: float = 5.0, max_num_neighbors: int = 32,
                 vertex: bool = False):
        super().__init__()
        if vertex:
            raise ValueError("ViSNet: vertex=True (the ViS-MP vertex variant) is not "
                             "supported by gfx; use vertex=False")
        if num_layers < 1:
            raise ValueError(f"ViSNet: 'num_layers' must be at least 1, got {num_layers}")
        self.lmax = lmax
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.embedding = Embedding(max_z, hidden_channels)
        self.distance = Distance(cutoff, max_num_neighbors=max_num_neighbors)
        self.sphere = Sphere(lmax=lmax)
        self.distance_expansion = ExpNormalSmearing(cutoff, num_rbf, trainable_rbf)
        self.neighbor_embedding = NeighborEmbedding(hidden_channels, num_rbf, cutoff, max_z)
        self.edge_embedding = EdgeEmbedding(num_rbf, hidden_channels)
        self.vis_mp_layers = torch.nn.ModuleList([
            ViS_MP(num_heads, hidden_channels, cutoff, vecnorm_type, trainable_vecnorm,
                   last_layer=i == num_layers - 1) for i in range(num_layers)])
        self.out_norm = LayerNorm(hidden_channels)
        self.vec_out_norm = VecLayerNorm(hidden_channels, trainable=trainable_vecnorm,
                                         norm_type=vecnorm_type)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.embedding.reset_parameters()
        self.distance_expansion.reset_parameters()
        self.neighbor_embedding.reset_parameters()
        self.edge_embedding.reset_parameters()
        for layer in self.vis_mp_layers:
            layer.reset_parameters()
        self.out_norm.reset_parameters()
        self.vec_out_norm.reset_parameters()

    def forward(self, z: Tensor, pos: Tensor, batch: Tensor) -> Tuple[Tensor, Tensor]:
        x = self.embedding(z)
        edge_index, edge_weight, edge_vec = self.distance(pos, batch)
        edge_attr = self.distance_expansion(edge_weight)
        mask = edge_index[0] != edge_index[1]
        edge_vec = edge_vec.clone()
        edge_vec[mask] = edge_vec[mask] / torch.norm(edge_vec[mask], dim=1).unsqueeze(1)
        edge_vec = self.sphere(edge_vec)
        x = self.neighbor_embedding(z, x, edge_index, edge_weight, edge_attr)
        vec = x.new_zeros(x.size(0), ((self.lmax + 1) ** 2) - 1, x.size(1))
        edge_attr = self.edge_embedding(edge_index, edge_attr, x)
        for layer in self.vis_mp_layers[:-1]:
            dx, dvec, dedge = layer(x, vec, edge_index, edge_weight, edge_attr, edge_vec)
            x, vec, edge_attr = x + dx, vec + dvec, edge_attr + dedge
        dx, dvec, _ = self.vis_mp_layers[-1](x, vec, edge_index, edge_weight, edge_attr,
                                             edge_vec)
        x, vec = x + dx, vec + dvec
        return self.out_norm(x), self.vec_out_norm(vec)


class ViSNet(torch.nn.Module):
    """The equivariant vector-scalar interactive graph network ViSNet (NOTE [visnet
    layout]): per-atom scalars from :class:`ViSNetBlock` and :class:`EquivariantScalar`,
    scaled by ``std``, plus the per-element ``atomref``, reduced per molecule, plus
    ``mean``; with ``derivative=True`` also the forces
    :math:`-\\partial y / \\partial \\mathbf{x}`.

    Args:
        lmax (int, optional): degree of the spherical harmonics (1 or 2). (default: ``1``)
        vecnorm_type (str, optional): ``None`` or ``"max_min"`` vector normalisation.
            (default: ``None``)
        trainable_vecnorm (bool, optional): learn the vector norm weights.
            (default: ``False``)
        num_heads (int, optional): attention heads. (default: ``8``)
        num_layers (int, optional): ViS-MP layers. (default: ``6``)
        hidden_channels (int, optional): features per atom. (default: ``128``)
        num_rbf (int, optional): radial basis functions. (default: ``32``)
        trainable_rbf (bool, optional): learn the radial basis. (default: ``False``)
        max_z (int, optional): largest atomic number plus one. (default: ``100``)
        cutoff (float, optional): cutoff distance. (default: ``5.0``)
        max_num_neighbors (int, optional): neighbours per atom. (default: ``32``)
        vertex (bool, optional): the vertex variant; not supported (``False`` only).
            (default: ``False``)
        atomref (Tensor, optional): per-element reference values. (default: ``None``)
        reduce_op (str, optional): ``"sum"`` or ``"mean"`` over a molecule's atoms.
            (default: ``"sum"``)
        mean (float, optional): added to every molecule's output. (default: ``0.0``)
        std (float, optional): scales every atom's output. (default: ``1.0``)
        derivative (bool, optional): also return the forces. (default: ``False``)
    """

    def __init__(self, lmax: int = 1, vecnorm_type: Optional[str] = None,
                 trainable_vecnorm: bool = False, num_heads: int = 8, num_layers: int = 6,
                 hidden_channels: int = 128, num_rbf: int = 32, trainable_rbf: bool = False,
                 max_z: int = 100, cutoff: float = 5.0, max_num_neighbors: int = 32,
                 vertex: bool = False, atomref: Optional[Tensor] = None,
                 reduce_op: str = "sum", mean: float = 0.0, std: float = 1.0,
                 derivative: bool = False):
        super().__init__()
        if reduce_op not in ("sum", "mean"):
            raise ValueError(f"ViSNet: 'reduce_op' must be 'sum' or 'mean', got "
                             f"{reduce_op!r}")
        self.representation_model = ViSNetBlock(
            lmax=lmax, vecnorm_type=vecnorm_type, trainable_vecnorm=trainable_vecnorm,
            num_heads=num_heads, num_layers=num_layers, hidden_channels=hidden_channels,
            num_rbf=num_rbf, trainable_rbf=trainable_rbf, max_z=max_z, cutoff=cutoff,
            max_num_neighbors=max_num_neighbors, vertex=vertex)
        self.output_model = EquivariantScalar(hidden_channels=hidden_channels)
        self.prior_model = Atomref(atomref=atomref, max_z=max_z)
        self.reduce_op = reduce_op
        self.derivative = derivative
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.representation_model.reset_parameters()
        self.output_model.reset_parameters()
        self.prior_model.reset_parameters()

    def forward(self, z: Tensor, pos: Tensor, batch: Tensor
                ) -> Tuple[Tensor, Optional[Tensor]]:
        """``(y, forces)``: ``[num_graphs, 1]`` predictions and, with ``derivative``,
        ``[N, 3]`` forces (else ``None``)."""
        if z.dim() != 1 or z.is_floating_point():
            raise ValueError(f"ViSNet: 'z' must be a 1-d integer tensor of atomic numbers, "
                             f"got {z.dtype} of shape {list(z.shape)}")
        if pos.dim() != 2 or pos.shape != (z.shape[0], 3):
            raise ValueError(f"ViSNet: 'pos' must be [{z.shape[0]}, 3], got "
                             f"{list(pos.shape)}")
        if self.derivative:
            pos.requires_grad_(True)
        x, v = self.representation_model(z, pos, batch)
        x = self.output_model.pre_reduce(x, v) * self.std
        x = self.prior_model(x, z)
        y = scatter(x, batch, 0, None, self.reduce_op) + self.mean
        if not self.derivative:
            return y, None
        (dy,) = torch.autograd.grad([y], [pos], grad_outputs=[torch.ones_like(y)],
                                    create_graph=True)
        return y, -dy


__all__ = ["ViSNet"]
