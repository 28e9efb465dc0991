"""``DimeNet`` and ``DimeNetPlusPlus``: directional message passing for molecules.

# NOTE [dimenet messages]
DimeNet embeds *directed edges* :math:`j \\to i` (messages :math:`\\mathbf{m}_{ji}`), not
atoms.  An interaction block updates a message from the messages :math:`k \\to j` that
arrive at its source (:math:`k \\ne i`), weighted by the radial basis of :math:`d_{kj}`
and the angle :math:`\\alpha_{kj,ji}` of the triplet (NOTE [dimenet bases] in
``dimenet_utils``; each class's ``_angle_vectors`` says which two vectors it measures):

.. math::
    \\mathbf{m}_{ji} \\leftarrow f_{\\mathrm{update}}\\Big(\\mathbf{m}_{ji},
    \\sum_{k \\in \\mathcal{N}(j) \\setminus \\{i\\}} f_{\\mathrm{int}}\\big(
    \\mathbf{m}_{kj}, \\mathbf{e}_{\\mathrm{RBF}}(d_{kj}),
    \\mathbf{a}_{\\mathrm{SBF}}(d_{kj}, \\alpha_{kj,ji})\\big)\\Big)

Each output block sums the messages arriving at every atom (weighted by the RBF of their
length) and maps them to ``out_channels``; the prediction is the sum over all output
blocks and all atoms of a molecule.  The graph is the radius graph of the positions.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Embedding, Linear

from gfx.nn.models.dimenet_utils import basis_functions
from gfx.nn.resolver import activation_resolver
from gfx.ops import scatter


def glorot_orthogonal(tensor: Tensor, scale: float) -> None:
    """Orthogonal init rescaled to variance :math:`\\mathrm{scale} / (\\mathrm{fan_{in}} +
    \\mathrm{fan_{out}})`."""
    torch.nn.init.orthogonal_(tensor.data)
    factor = scale / ((tensor.size(-2) + tensor.size(-1)) * tensor.var())
    tensor.data *= factor.sqrt()


class Envelope(torch.nn.Module):
    """The smooth cutoff :math:`u(x) = 1/x + a x^{p-1} + b x^p + c x^{p+1}` for
    :math:`x < 1` (else 0), with :math:`p` = ``exponent + 1``, :math:`a = -(p+1)(p+2)/2`,
    :math:`b = p(p+2)`, :math:`c = -p(p+1)/2`: :math:`u`, :math:`u'` and :math:`u''` vanish
    at :math:`x = 1`."""

    def __init__(self, exponent: int):
        super().__init__()
        self.p = exponent + 1
        self.a = -(self.p + 1) * (self.p + 2) / 2
        self.b = self.p * (self.p + 2)
        self.c = -self.p * (self.p + 1) / 2

    def forward(self, x: Tensor) -> Tensor:
        p0 = x.pow(self.p - 1)
        p1 = p0 * x
        p2 = p1 * x
        return (1.0 / x + self.a * p0 + self.b * p1 + self.c * p2) * (x < 1.0).to(x.dtype)


class BesselBasisLayer(torch.nn.Module):
    """Radial basis :math:`e_n(d) = u(d/c) \\sin(f_n d / c)` with learnable frequencies
    :math:`f_n`, initialised to :math:`n \\pi`."""

    def __init__(self, num_radial: int, cutoff: float = 5.0, envelope_exponent: int = 5):
        super().__init__()
        self.cutoff = cutoff
        self.envelope = Envelope(envelope_exponent)
        self.freq = torch.nn.Parameter(torch.empty(num_radial))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.freq.copy_(torch.arange(1, self.freq.numel() + 1) * math.pi)

    def forward(self, dist: Tensor) -> Tensor:
        dist = dist.unsqueeze(-1) / self.cutoff
        return self.envelope(dist) * (self.freq * dist).sin()


class SphericalBasisLayer(torch.nn.Module):
    """Angular basis :math:`a_{ln}(d_{kj}, \\alpha) = u(d_{kj}/c)\\,\\tilde{j}_{ln}(d_{kj}/c)
    \\, Y_l^0(\\alpha)`, ``[T, num_spherical * num_radial]`` for ``T`` triplets."""

    def __init__(self, num_spherical: int, num_radial: int, cutoff: float = 5.0,
                 envelope_exponent: int = 5):
        super().__init__()
        self.num_spherical = num_spherical
        self.num_radial = num_radial
        self.cutoff = cutoff
        self.envelope = Envelope(envelope_exponent)
        self.bessel_funcs, self.sph_funcs, _ = basis_functions(num_spherical, num_radial)

    def forward(self, dist: Tensor, angle: Tensor, idx_kj: Tensor) -> Tensor:
        dist = dist / self.cutoff
        rbf = torch.stack([f(dist) for f in self.bessel_funcs], dim=1)
        rbf = self.envelope(dist).unsqueeze(-1) * rbf
        cbf = torch.stack([f(angle) for f in self.sph_funcs], dim=1)
        n, k = self.num_spherical, self.num_radial
        return (rbf[idx_kj].view(-1, n, k) * cbf.view(-1, n, 1)).view(-1, n * k)


class EmbeddingBlock(torch.nn.Module):
    """First messages: :math:`\\mathbf{m}_{ji} = \\sigma(\\mathbf{W}[\\mathbf{h}_{z_i}
    \\Vert \\mathbf{h}_{z_j} \\Vert \\sigma(\\mathbf{W}_{rbf} \\mathbf{e}(d_{ji}))])`."""

    def __init__(self, num_radial: int, hidden_channels: int, act: Callable):
        super().__init__()
        object.__setattr__(self, "act", act)
        self.emb = Embedding(95, hidden_channels)
        self.lin_rbf = Linear(num_radial, hidden_channels)
        self.lin = Linear(3 * hidden_channels, hidden_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.emb.weight.data.uniform_(-math.sqrt(3), math.sqrt(3))
        self.lin_rbf.reset_parameters()
        self.lin.reset_parameters()

    def forward(self, x: Tensor, rbf: Tensor, i: Tensor, j: Tensor) -> Tensor:
        x = self.emb(x)
        rbf = self.act(self.lin_rbf(rbf))
        return self.act(self.lin(torch.cat([x[i], x[j], rbf], dim=-1)))


class ResidualLayer(torch.nn.Module):
    """:math:`\\mathbf{x} + \\sigma(\\mathbf{W}_2 \\sigma(\\mathbf{W}_1 \\mathbf{x}))`."""

    def __init__(self, hidden_channels: int, act: Callable):
        super().__init__()
        object.__setattr__(self, "act", act)
        self.lin1 = Linear(hidden_channels, hidden_channels)
        self.lin2 = Linear(hidden_channels, hidden_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.lin1, self.lin2):
            glorot_orthogonal(lin.weight, scale=2.0)
            lin.bias.data.fill_(0)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.act(self.lin2(self.act(self.lin1(x))))


def _residuals(count: int, hidden_channels: int, act: Callable) -> torch.nn.ModuleList:
    return torch.nn.ModuleList([ResidualLayer(hidden_channels, act) for _ in range(count)])


class _InteractionBase(torch.nn.Module):
    def _finish(self, h: Tensor, x: Tensor) -> Tensor:
        for layer in self.layers_before_skip:
            h = layer(h)
        h = self.act(self.lin(h)) + x
        for layer in self.layers_after_skip:
            h = layer(h)
        return h

    def _reset_common(self) -> None:
        for lin in (self.lin_kj, self.lin_ji):
            glorot_orthogonal(lin.weight, scale=2.0)
            lin.bias.data.fill_(0)
        for layer in (*self.layers_before_skip, *self.layers_after_skip):
            layer.reset_parameters()
        glorot_orthogonal(self.lin.weight, scale=2.0)
        self.lin.bias.data.fill_(0)


class InteractionBlock(_InteractionBase):
    """DimeNet's interaction: a bilinear layer couples the angular basis with the
    incoming messages (NOTE [dimenet messages])."""

    def __init__(self, hidden_channels: int, num_bilinear: int, num_spherical: int,
                 num_radial: int, num_before_skip: int, num_after_skip: int, act: Callable):
        super().__init__()
        object.__setattr__(self, "act", act)
        self.lin_rbf = Linear(num_radial, hidden_channels, bias=False)
        self.lin_sbf = Linear(num_spherical * num_radial, num_bilinear, bias=False)
        self.lin_kj = Linear(hidden_channels, hidden_channels)
        self.lin_ji = Linear(hidden_channels, hidden_channels)
        self.W = torch.nn.Parameter(torch.empty(hidden_channels, num_bilinear,
                                                hidden_channels))
        self.layers_before_skip = _residuals(num_before_skip, hidden_channels, act)
        self.lin = Linear(hidden_channels, hidden_channels)
        self.layers_after_skip = _residuals(num_after_skip, hidden_channels, act)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot_orthogonal(self.lin_rbf.weight, scale=2.0)
        glorot_orthogonal(self.lin_sbf.weight, scale=2.0)
        self.W.data.normal_(mean=0, std=2 / self.W.size(0))
        self._reset_common()

    def forward(self, x: Tensor, rbf: Tensor, sbf: Tensor, idx_kj: Tensor,
                idx_ji: Tensor) -> Tensor:
        rbf = self.lin_rbf(rbf)
        sbf = self.lin_sbf(sbf)
        x_ji = self.act(self.lin_ji(x))
        x_kj = self.act(self.lin_kj(x)) * rbf
        x_kj = torch.einsum("wj,wl,ijl->wi", sbf, x_kj[idx_kj], self.W)
        x_kj = scatter(x_kj, idx_ji, 0, x.size(0), "sum")
        return self._finish(x_ji + x_kj, x)


class InteractionPPBlock(_InteractionBase):
    """DimeNet++'s interaction: the bilinear layer is replaced by down-projection,
    Hadamard products with the (two-layer projected) bases, and up-projection."""

    def __init__(self, hidden_channels: int, int_emb_size: int, basis_emb_size: int,
                 num_spherical: int, num_radial: int, num_before_skip: int,
                 num_after_skip: int, act: Callable):
        super().__init__()
        object.__setattr__(self, "act", act)
        self.lin_rbf1 = Linear(num_radial, basis_emb_size, bias=False)
        self.lin_rbf2 = Linear(basis_emb_size, hidden_channels, bias=False)
        self.lin_sbf1 = Linear(num_spherical * num_radial, basis_emb_size, bias=False)
        self.lin_sbf2 = Linear(basis_emb_size, int_emb_size, bias=False)
        self.lin_kj = Linear(hidden_channels, hidden_channels)
        self.lin_ji = Linear(hidden_channels, hidden_channels)
        self.lin_down = Linear(hidden_channels, int_emb_size, bias=False)
        self.lin_up = Linear(int_emb_size, hidden_channels, bias=False)
        self.layers_before_skip = _residuals(num_before_skip, hidden_channels, act)
        self.lin = Linear(hidden_channels, hidden_channels)
        self.layers_after_skip = _residuals(num_after_skip, hidden_channels, act)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.lin_rbf1, self.lin_rbf2, self.lin_sbf1, self.lin_sbf2,
                    self.lin_down, self.lin_up):
            glorot_orthogonal(lin.weight, scale=2.0)
        self._reset_common()

    def forward(self, x: Tensor, rbf: Tensor, sbf: Tensor, idx_kj: Tensor,
                idx_ji: Tensor) -> Tensor:
        x_ji = self.act(self.lin_ji(x))
        x_kj = self.act(self.lin_kj(x)) * self.lin_rbf2(self.lin_rbf1(rbf))
        x_kj = self.act(self.lin_down(x_kj))
        x_kj = x_kj[idx_kj] * self.lin_sbf2(self.lin_sbf1(sbf))
        x_kj = scatter(x_kj, idx_ji, 0, x.size(0), "sum")
        x_kj = self.act(self.lin_up(x_kj))
        return self._finish(x_ji + x_kj, x)


class OutputBlock(torch.nn.Module):
    """Atom outputs :math:`\\mathbf{W}\\,\\mathrm{MLP}(\\sum_j \\mathbf{W}_{rbf}
    \\mathbf{e}(d_{ji}) \\odot \\mathbf{m}_{ji})`."""

    def __init__(self, num_radial: int, hidden_channels: int, out_channels: int,
                 num_layers: int, act: Callable, output_initializer: str = "zeros"):
        super().__init__()
        object.__setattr__(self, "act", act)
        self.output_initializer = _check_initializer(output_initializer)
        self.lin_rbf = Linear(num_radial, hidden_channels, bias=False)
        self.lins = torch.nn.ModuleList([Linear(hidden_channels, hidden_channels)
                                         for _ in range(num_layers)])
        self.lin = Linear(hidden_channels, out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot_orthogonal(self.lin_rbf.weight, scale=2.0)
        _reset_mlp(self.lins, self.lin, self.output_initializer)

    def forward(self, x: Tensor, rbf: Tensor, i: Tensor, num_nodes: Optional[int] = None
                ) -> Tensor:
        x = scatter(self.lin_rbf(rbf) * x, i, 0, num_nodes, "sum")
        for lin in self.lins:
            x = self.act(lin(x))
        return self.lin(x)


class OutputPPBlock(torch.nn.Module):
    """DimeNet++'s output block: as :class:`OutputBlock` with an up-projection to
    ``out_emb_channels`` before the MLP."""

    def __init__(self, num_radial: int, hidden_channels: int, out_emb_channels: int,
                 out_channels: int, num_layers: int, act: Callable,
                 output_initializer: str = "zeros"):
        super().__init__()
        object.__setattr__(self, "act", act)
        self.output_initializer = _check_initializer(output_initializer)
        self.lin_rbf = Linear(num_radial, hidden_channels, bias=False)
        self.lin_up = Linear(hidden_channels, out_emb_channels, bias=False)
        self.lins = torch.nn.ModuleList([Linear(out_emb_channels, out_emb_channels)
                                         for _ in range(num_layers)])
        self.lin = Linear(out_emb_channels, out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot_orthogonal(self.lin_rbf.weight, scale=2.0)
        glorot_orthogonal(self.lin_up.weight, scale=2.0)
        _reset_mlp(self.lins, self.lin, self.output_initializer)

    def forward(self, x: Tensor, rbf: Tensor, i: Tensor, num_nodes: Optional[int] = None
                ) -> Tensor:
        x = scatter(self.lin_rbf(rbf) * x, i, 0, num_nodes, "sum")
        x = self.lin_up(x)
        for lin in self.lins:
            x = self.act(lin(x))
        return self.lin(x)


def _check_initializer(name: str) -> str:
    if name not in ("zeros", "glorot_orthogonal"):
        raise ValueError(f"DimeNet: 'output_initializer' must be 'zeros' or "
                         f"'glorot_orthogonal', got {name!r}")
    return name


def _reset_mlp(lins, last: Linear, initializer: str) -> None:
    for lin in lins:
        glorot_orthogonal(lin.weight, scale=2.0)
        lin.bias.data.fill_(0)
    if initializer == "zeros":
        last.weight.data.fill_(0)
    else:
        glorot_orthogonal(last.weight, scale=2.0)


def triplets(edge_index: Tensor, num_nodes: int) -> Tuple[Tensor, ...]:
    """All paths :math:`k \\to j \\to i` with :math:`k \\ne i` of a graph.

    Returns ``(i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji)``: the target and source of
    every edge, the three atoms of every triplet, and the ids of its edges
    :math:`k \\to j` and :math:`j \\to i`.
    """
    row, col = edge_index  # edge e is row[e] = j -> col[e] = i
    num_edges = row.numel()
    order = torch.argsort(col * max(num_nodes, 1) + row, stable=True)  # by target, source
    deg = torch.bincount(col, minlength=num_nodes)
    ptr = torch.cat([deg.new_zeros(1), deg.cumsum(0)])
    count = deg[row]  # edges k -> j arriving at the source of each edge
    idx_ji = torch.arange(num_edges, device=row.device).repeat_interleave(count)
    first = (count.cumsum(0) - count).repeat_interleave(count)
    offset = torch.arange(idx_ji.numel(), device=row.device) - first
    idx_kj = order[ptr[row].repeat_interleave(count) + offset]
    idx_i, idx_j, idx_k = col[idx_ji], row[idx_ji], row[idx_kj]
    keep = idx_i != idx_k
    return (col, row, idx_i[keep], idx_j[keep], idx_k[keep], idx_kj[keep], idx_ji[keep])


class DimeNet(torch.nn.Module):
    """The directional message passing network of "Directional Message Passing for
    Molecular Graphs" (see NOTE [dimenet messages] and NOTE [dimenet bases]).

    Args:
        hidden_channels (int): hidden embedding size.
        out_channels (int): output features per molecule.
        num_blocks (int): number of interaction blocks.
        num_bilinear (int): size of the bilinear layer tensor.
        num_spherical (int): number of spherical harmonics :math:`L`.
        num_radial (int): number of radial basis functions :math:`N`.
        cutoff (float, optional): interaction cutoff distance. (default: ``5.0``)
        max_num_neighbors (int, optional): neighbours per atom within the cutoff.
            (default: ``32``)
        envelope_exponent (int, optional): shape of the smooth cutoff. (default: ``5``)
        num_before_skip (int, optional): residual layers before the skip connection.
            (default: ``1``)
        num_after_skip (int, optional): residual layers after the skip connection.
            (default: ``2``)
        num_output_layers (int, optional): linear layers of the output blocks.
            (default: ``3``)
        act (str or Callable, optional): activation. (default: ``"swish"``)
        output_initializer (str, optional): ``"zeros"`` or ``"glorot_orthogonal"`` for
            the last layer of the output blocks. (default: ``"zeros"``)
    """

    def __init__(self, hidden_channels: int, out_channels: int, num_blocks: int,
                 num_bilinear: int, num_spherical: int, num_radial: int,
                 cutoff: float = 5.0, max_num_neighbors: int = 32,
                 envelope_exponent: int = 5, num_before_skip: int = 1,
                 num_after_skip: int = 2, num_output_layers: int = 3,
                 act: Union[str, Callable] = "swish", output_initializer: str = "zeros"):
        super().__init__()
        self._build(hidden_channels, out_channels, num_blocks, num_spherical, num_radial,
                     cutoff, max_num_neighbors, envelope_exponent, act)
        act = self.act
        self.output_blocks = torch.nn.ModuleList([
            OutputBlock(num_radial, hidden_channels, out_channels, num_output_layers, act,
                        output_initializer) for _ in range(num_blocks + 1)])
        self.interaction_blocks = torch.nn.ModuleList([
            InteractionBlock(hidden_channels, num_bilinear, num_spherical, num_radial,
                             num_before_skip, num_after_skip, act)
            for _ in range(num_blocks)])

    def _build(self, hidden_channels, out_channels, num_blocks, num_spherical, num_radial,
               cutoff, max_num_neighbors, envelope_exponent, act) -> None:
        name = type(self).__name__
        if num_spherical < 2:
            raise ValueError(f"{name}: 'num_spherical' must be at least 2, got "
                             f"{num_spherical}")
        if num_blocks < 1:
            raise ValueError(f"{name}: 'num_blocks' must be at least 1, got {num_blocks}")
        object.__setattr__(self, "act", activation_resolver(act) if isinstance(act, str)
                           else act)
        self.cutoff = cutoff
        self.max_num_neighbors = max_num_neighbors
        self.num_blocks = num_blocks
        self.rbf = BesselBasisLayer(num_radial, cutoff, envelope_exponent)
        self.sbf = SphericalBasisLayer(num_spherical, num_radial, cutoff, envelope_exponent)
        self.emb = EmbeddingBlock(num_radial, hidden_channels, self.act)

    @staticmethod
    def _angle_vectors(pos: Tensor, idx_i: Tensor, idx_j: Tensor, idx_k: Tensor):
        """DimeNet's triplet angle: between :math:`\\mathbf{x}_j - \\mathbf{x}_i` and
        :math:`\\mathbf{x}_k - \\mathbf{x}_i` (as the reference library measures it)."""
        pos_i = pos[idx_i]
        return pos[idx_j] - pos_i, pos[idx_k] - pos_i

    def reset_parameters(self) -> None:
        self.rbf.reset_parameters()
        self.emb.reset_parameters()
        for block in (*self.output_blocks, *self.interaction_blocks):
            block.reset_parameters()

    def forward(self, z: Tensor, pos: Tensor, batch: Optional[Tensor] = None) -> Tensor:
        """Predict ``[num_graphs, out_channels]`` (``[out_channels]`` when ``batch`` is
        ``None``) from atomic numbers ``z`` ``[N]`` and positions ``pos`` ``[N, 3]``."""
        name = type(self).__name__
        if z.dim() != 1 or z.is_floating_point():
            raise ValueError(f"{name}: 'z' must be a 1-d integer tensor of atomic numbers, "
                             f"got {z.dtype} of shape {list(z.shape)}")
        if pos.dim() != 2 or pos.shape != (z.shape[0], 3):
            raise ValueError(f"{name}: 'pos' must be [{z.shape[0]}, 3], got "
                             f"{list(pos.shape)}")
        from gfx.nn.pool.knn import radius_graph  # point-cloud helpers load on first use
        edge_index = radius_graph(pos, r=self.cutoff, batch=batch,
                                  max_num_neighbors=self.max_num_neighbors)
        i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji = triplets(edge_index, z.size(0))
        dist = (pos[i] - pos[j]).pow(2).sum(dim=-1).sqrt()
        first, second = self._angle_vectors(pos, idx_i, idx_j, idx_k)
        a = (first * second).sum(dim=-1)
        b = torch.cross(first, second, dim=1).norm(dim=-1)
        angle = torch.atan2(b, a)

        rbf = self.rbf(dist)
        sbf = self.sbf(dist, angle, idx_kj)
        x = self.emb(z, rbf, i, j)
        out = self.output_blocks[0](x, rbf, i, num_nodes=pos.size(0))
        for interaction, output in zip(self.interaction_blocks, self.output_blocks[1:]):
            x = interaction(x, rbf, sbf, idx_kj, idx_ji)
            out = out + output(x, rbf, i, num_nodes=pos.size(0))
        if batch is None:
            return out.sum(dim=0)
        return scatter(out, batch, 0, None, "sum")


class DimeNetPlusPlus(DimeNet):
    """DimeNet++ of "Fast and Uncertainty-Aware Directional Message Passing for
    Non-Equilibrium Molecules": DimeNet with cheaper interaction blocks
    (:class:`InteractionPPBlock`) and up-projecting output blocks (:class:`OutputPPBlock`).

    Args:
        hidden_channels (int): hidden embedding size.
        out_channels (int): output features per molecule.
        num_blocks (int): number of interaction blocks.
        int_emb_size (int): embedding size inside the interaction blocks.
        basis_emb_size (int): embedding size of the bases in the interaction blocks.
        out_emb_channels (int): embedding size of the output blocks.
        num_spherical (int): number of spherical harmonics.
        num_radial (int): number of radial basis functions.
        cutoff (float, optional): interaction cutoff distance. (default: ``5.0``)
        max_num_neighbors (int, optional): neighbours per atom. (default: ``32``)
        envelope_exponent (int, optional): shape of the smooth cutoff. (default: ``5``)
        num_before_skip (int, optional): residual layers before the skip.
            (default: ``1``)
        num_after_skip (int, optional): residual layers after the skip. (default: ``2``)
        num_output_layers (int, optional): linear layers of the output blocks.
            (default: ``3``)
        act (str or Callable, optional): activation. (default: ``"swish"``)
        output_initializer (str, optional): ``"zeros"`` or ``"glorot_orthogonal"``.
            (default: ``"zeros"``)
    """

    def __init__(self, hidden_channels: int, out_channels: int, num_blocks: int,
                 int_emb_size: int, basis_emb_size: int, out_emb_channels: int,
                 num_spherical: int, num_radial: int, cutoff: float = 5.0,
                 max_num_neighbors: int = 32, envelope_exponent: int = 5,
                 num_before_skip: int = 1, num_after_skip: int = 2,
                 num_output_layers: int = 3, act: Union[str, Callable] = "swish",
                 output_initializer: str = "zeros"):
        torch.nn.Module.__init__(self)
        self._build(hidden_channels, out_channels, num_blocks, num_spherical, num_radial,
                    cutoff, max_num_neighbors, envelope_exponent, act)
        act = self.act
        self.output_blocks = torch.nn.ModuleList([
            OutputPPBlock(num_radial, hidden_channels, out_emb_channels, out_channels,
                          num_output_layers, act, output_initializer)
            for _ in range(num_blocks + 1)])
        self.interaction_blocks = torch.nn.ModuleList([
            InteractionPPBlock(hidden_channels, int_emb_size, basis_emb_size, num_spherical,
                               num_radial, num_before_skip, num_after_skip, act)
            for _ in range(num_blocks)])

    @staticmethod
    def _angle_vectors(pos: Tensor, idx_i: Tensor, idx_j: Tensor, idx_k: Tensor):
        """DimeNet++'s triplet angle: between :math:`\\mathbf{x}_j - \\mathbf{x}_i` and
        :math:`\\mathbf{x}_k - \\mathbf{x}_j` (the original implementation's convention,
        which the reference library keeps for this class only)."""
        return pos[idx_j] - pos[idx_i], pos[idx_k] - pos[idx_j]


__all__ = ["DimeNet", "DimeNetPlusPlus"]
