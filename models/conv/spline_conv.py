"""``SplineConv``: the B-spline kernel convolution of SplineCNN (Fey et al., CVPR 2018)."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Parameter
from torch.nn.parameter import UninitializedParameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.nn.conv.gat_conv import check_edge_attr
from gfx.nn.conv.graph_conv import check_node_channels
from gfx.nn.dense.linear import Linear
from gfx.utils import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor


def _per_dim(value, dim: int, name: str) -> List:
    """A scalar repeated ``dim`` times, or a sequence padded with its last entry."""
    if isinstance(value, Tensor):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        return [value] * dim
    value = list(value)
    if not value or len(value) > dim:
        raise ValueError(f"SplineConv: '{name}' must be one value or at most dim={dim} "
                         f"values, got {value}")
    return value + [value[-1]] * (dim - len(value))


def _bspline_pieces(t: Tensor, degree: int) -> List[Tensor]:
    """The ``degree + 1`` pieces of the uniform B-spline of ``degree`` at offset ``t``.

    Piece ``k`` weighs control point ``floor(v) + k`` for ``v = floor(v) + t``.
    """
    if degree == 1:
        return [1 - t, t]
    if degree == 2:
        return [0.5 * (1 - t) ** 2, -t * t + t + 0.5, 0.5 * t * t]
    t2, t3 = t * t, t * t * t
    return [(1 - t) ** 3 / 6, (3 * t3 - 6 * t2 + 4) / 6, (-3 * t3 + 3 * t2 + 3 * t + 1) / 6,
            t3 / 6]


def spline_basis(pseudo: Tensor, kernel_size: Sequence[int], is_open_spline: Sequence[bool],
                 degree: int) -> Tuple[Tensor, Tensor]:
    """Tensor-product B-spline basis values and kernel indices of pseudo-coordinates.

    For dimension :math:`d` the coordinate :math:`u_d \\in [0, 1]` is scaled to
    :math:`v_d = u_d (K_d - p)` for an open spline and :math:`v_d = u_d K_d` for a
    closed one (:math:`p` the degree); the :math:`p + 1` control points
    :math:`(\\lfloor v_d \\rfloor + k) \\bmod K_d` get the B-spline pieces
    :math:`B_k(v_d - \\lfloor v_d \\rfloor)`.  The ``(p + 1) ** dim`` products over the
    dimensions are returned with their flat kernel index
    :math:`\\sum_d i_d \\prod_{d' < d} K_{d'}`.

    Returns ``(basis [E, S], index [E, S])`` with ``S = (degree + 1) ** dim``; the basis is
    differentiable in ``pseudo`` (the integer part counts as constant).
    """
    m = degree + 1
    basis: Optional[Tensor] = None
    index: Optional[Tensor] = None
    offset = 1
    for d, (size, is_open) in enumerate(zip(kernel_size, is_open_spline)):
        v = pseudo[:, d] * float(size - degree * int(bool(is_open)))
        low = v.detach().floor()
        pieces = torch.stack(_bspline_pieces(v - low, degree), dim=-1)  # [E, m]
        points = (low.long().unsqueeze(-1) + torch.arange(m, device=pseudo.device)) % size
        # combination s uses piece (s // m**d) % m in dimension d
        pick = (torch.arange(m ** len(kernel_size), device=pseudo.device) // m ** d) % m
        b, i = pieces[:, pick], points[:, pick] * offset
        basis = b if basis is None else basis * b
        index = i if index is None else index + i
        offset *= size
    return basis, index


def spline_weighting(x: Tensor, weight: Tensor, basis: Tensor, index: Tensor,
                     shape: Optional[Tuple[int, int, int]] = None) -> Tensor:
    """:math:`\\sum_s b_{e,s} \\, \\mathbf{x}_e \\mathbf{W}_{i_{e,s}}` for every row ``e``.

    ``x`` ``[E, C_in]``, ``weight`` ``[K, C_in, C_out]``, ``basis``/``index`` ``[E, S]``.
    The per-row kernel is never materialised: with ``C_in <= C_out`` the basis is spread
    over the ``K`` kernels (``[E, K * C_in]``, one matmul), otherwise every kernel is
    applied and the ``S`` used ones are gathered (``[E, K, C_out]``).  ``shape`` is
    ``weight``'s shape as plain ints, for callers that are traced.
    """
    K, c_in, c_out = weight.shape if shape is None else shape
    if c_in <= c_out:
        spread = basis.new_zeros(basis.shape[0], K).scatter_add(1, index, basis)
        z = (spread.unsqueeze(-1) * x.unsqueeze(1)).reshape(-1, K * c_in)
        return z @ weight.reshape(K * c_in, c_out)
    y = (x @ weight.permute(1, 0, 2).reshape(c_in, K * c_out)).view(-1, K, c_out)
    y = y.gather(1, index.unsqueeze(-1).expand(-1, -1, c_out))
    return (basis.unsqueeze(-1) * y).sum(dim=1)


class SplineConv(MessagePassing):
    """The spline-based convolutional operator of "SplineCNN: Fast Geometric Deep
    Learning with Continuous B-Spline Kernels".

    .. math::
        \\mathbf{x}'_i = \\frac{1}{|\\mathcal{N}(i)|} \\sum_{j \\in \\mathcal{N}(i)}
        \\mathbf{x}_j \\cdot h_{\\mathbf{\\Theta}}(\\mathbf{e}_{i,j})
        + \\mathbf{\\Theta}_{\\mathrm{root}} \\mathbf{x}_i + \\mathbf{b},
        \\qquad
        h_{\\mathbf{\\Theta}}(\\mathbf{e}) = \\sum_{\\mathbf{k}}
        \\prod_{d=1}^{\\mathrm{dim}} B_{k_d}(e_d) \\, \\mathbf{W}_{\\mathbf{k}}

    with :math:`B_{k_d}` the open or closed B-spline basis of the given degree over
    ``kernel_size[d]`` control points (see :func:`spline_basis`) and
    :math:`\\mathbf{W}_{\\mathbf{k}}` the ``[in, out]`` kernel weight of control point
    :math:`\\mathbf{k}`.  Pseudo-coordinates ``edge_attr`` must lie in ``[0, 1]``.  The
    basis is computed with PyTorch ops (autograd gives the gradients for ``x``, the
    weights and ``edge_attr``); a node without incoming edges gets only its root term.

    Args:
        in_channels (int or (int, int)): input features, or ``(source, target)`` sizes;
            ``-1`` for lazy (sized by the first call).
        out_channels (int): output features.
        dim (int): pseudo-coordinate dimensionality.
        kernel_size (int or [int]): control points per dimension; an open spline needs
            more than ``degree`` (with fewer, the reference's basis collapses to a
            constant or wraps around; gfx refuses such a layer).
        is_open_spline (bool or [bool], optional): open (``True``) or closed (periodic)
            B-spline basis per dimension. (default: ``True``)
        degree (int, optional): B-spline degree, 1 to 3. (default: ``1``)
        aggr (str, optional): the aggregation (``"add"``, ``"mean"``, ``"max"``).
            (default: ``"mean"``)
        root_weight (bool, optional): add :math:`\\mathbf{\\Theta}_{\\mathrm{root}}
            \\mathbf{x}_i`. (default: ``True``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`; the early API's
            ``norm=True`` / ``norm=False`` is accepted for ``aggr="mean"`` / ``"add"``.

    Shapes: ``x`` ``[N, in]`` or ``([N_src, in_src], [N_dst, in_dst])``, ``edge_index``
    ``[2, E]``, ``edge_attr`` ``[E, dim]`` -> ``[N_dst, out]``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 dim: int, kernel_size: Union[int, List[int]],
                 is_open_spline: bool = True, degree: int = 1, aggr: str = "mean",
                 root_weight: bool = True, bias: bool = True, **kwargs):
        norm = kwargs.pop("norm", None)  # the early API's switch: mean (True) or sum
        if norm is not None:
            aggr = "mean" if norm else "add"
        super().__init__(aggr=aggr, **kwargs)
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"SplineConv: 'dim' must be a positive int, got {dim!r}")
        if degree not in (1, 2, 3):
            raise ValueError(f"SplineConv: 'degree' must be 1, 2 or 3, got {degree!r}")
        pair = (in_channels, in_channels) if isinstance(in_channels, int) else in_channels
        if len(pair) != 2 or any(c == 0 or c < -1 for c in pair):
            raise ValueError(f"SplineConv: 'in_channels' must be positive or -1 (lazy), "
                             f"got {in_channels}")
        sizes = [int(k) for k in _per_dim(kernel_size, dim, "kernel_size")]
        if min(sizes) < 1:
            raise ValueError(f"SplineConv: 'kernel_size' must be positive, got {sizes}")
        opens = [bool(o) for o in _per_dim(is_open_spline, dim, "is_open_spline")]
        for size, is_open in zip(sizes, opens):
            if is_open and size <= degree:
                raise ValueError(f"SplineConv: an open spline of degree {degree} needs "
                                 f"kernel_size > {degree}, got {size}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.dim = dim
        self.degree = degree
        self.root_weight = root_weight
        self._in_pair = tuple(pair)
        self._sizes, self._opens = tuple(sizes), tuple(opens)
        self.register_buffer("kernel_size", torch.tensor(sizes, dtype=torch.long))
        self.register_buffer("is_open_spline", torch.tensor(opens, dtype=torch.uint8))
        self.K = 1
        for size in sizes:
            self.K *= size
        self.weight = (Parameter(torch.empty(self.K, pair[0], out_channels)) if pair[0] > 0
                       else UninitializedParameter())
        self._register_load_state_dict_pre_hook(SplineConv._load_lazy_hook, with_module=True)
        self.lin = (Linear(pair[1], out_channels, bias=False, weight_initializer="uniform")
                    if root_weight else None)
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if not self.is_lazy:
            inits.uniform(self.weight.size(0) * self.weight.size(1), self.weight)
        if self.lin is not None:
            self.lin.reset_parameters()
        inits.zeros(self.bias)

    @property
    def is_lazy(self) -> bool:
        return isinstance(self.weight, UninitializedParameter)

    def _materialize(self, in_channels: int, device, dtype) -> None:
        self.weight.materialize((self.K, in_channels, self.out_channels), device=device,
                                dtype=dtype)
        self._in_pair = (in_channels, self._in_pair[1])
        inits.uniform(self.K * in_channels, self.weight)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        if not self.is_lazy:
            return super()._save_to_state_dict(destination, prefix, keep_vars)
        # The unmaterialised weight is saved as it is, so a lazy layer's checkpoint has
        # the same keys as a materialised one (as gfx.nn.Linear does).
        for name, value in list(self._parameters.items()) + list(self._buffers.items()):
            if value is not None and name not in self._non_persistent_buffers_set:
                keep = keep_vars or isinstance(value, UninitializedParameter)
                destination[prefix + name] = value if keep else value.detach()

    @staticmethod
    def _load_lazy_hook(module: "SplineConv", state_dict, prefix, *args) -> None:
        weight = state_dict.get(prefix + "weight")
        if module.is_lazy and weight is not None and \
                not isinstance(weight, UninitializedParameter):
            module._materialize(weight.shape[1], weight.device, weight.dtype)

    def forward(self, x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]], edge_index: Tensor,
                edge_attr: Optional[Tensor] = None, size=None) -> Tensor:
        if is_torch_sparse_tensor(edge_index):
            raise ValueError("SplineConv: 'edge_index' must be a [2, E] tensor; the "
                             "pseudo-coordinates are per edge")
        pair = (x, x) if isinstance(x, Tensor) else tuple(x)
        if self.is_lazy:
            if is_tracing(pair[0]):
                raise ValueError("SplineConv: in_channels=-1 is resolved by the first call; "
                                 "run the model once before capturing it")
            self._materialize(pair[0].shape[-1], pair[0].device, pair[0].dtype)
        check_node_channels("SplineConv", pair, self._in_pair)
        if edge_attr is None:
            raise ValueError("SplineConv: 'edge_attr' (pseudo-coordinates [E, dim] in "
                             "[0, 1]) is required")
        check_edge_attr("SplineConv", edge_attr, edge_index, self.dim)
        edge_attr = edge_attr.reshape(-1, self.dim)
        out = self.propagate(edge_index, x=pair, edge_attr=edge_attr, size=size)
        if pair[1] is not None and self.lin is not None:
            out = out + self.lin(pair[1])
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        basis, index = spline_basis(edge_attr, self._sizes, self._opens, self.degree)
        return spline_weighting(x_j, self.weight, basis, index,
                                (self.K, self._in_pair[0], self.out_channels))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"dim={self.dim})")


__all__ = ["SplineConv"]
